//go:build cuda || cudaemu

package cuda

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSizeClass(t *testing.T) {
	for _, c := range []struct{ bytes, want int }{
		{1, 256}, {256, 256}, {257, 512}, {1000, 1024},
		{1 << 20, 1 << 20}, {1<<20 + 1, 2 << 20}, {3<<20 - 5, 3 << 20},
	} {
		require.Equalf(t, c.want, sizeClass(c.bytes), "sizeClass(%d)", c.bytes)
	}
}

// A freed block must serve the next request of its size class without a
// driver call, and the counters must follow.
func TestAllocatorReusesFreedBlocks(t *testing.T) {
	g := newTestGPU(t)
	before := g.MemoryStats()
	a := g.Alloc(100) // 400 bytes → the 512-byte class
	g.Free(a)
	b := g.Alloc(120) // 480 bytes → the same class
	after := g.MemoryStats()
	require.Equal(t, before.DriverAllocs+1, after.DriverAllocs, "driver allocations")
	require.Equal(t, before.CacheHits+1, after.CacheHits, "cache hits")
	require.Equal(t, before.InUseBytes+512, after.InUseBytes, "bytes in use")
	require.Equal(t, before.CachedBytes, after.CachedBytes, "cached bytes")

	// The reused block is zero-filled like a fresh one.
	g.Fill(b, 7)
	g.Free(b)
	c := g.Alloc(128)
	for i, v := range download(t, g, c, "Alloc after reuse")[:128] {
		require.Equalf(t, float32(0), v, "Alloc(128) after reuse: index %d got %g want 0", i, v)
	}
	g.Free(c)
	require.NoError(t, g.EmptyCache())
	require.Equal(t, int64(0), g.MemoryStats().CachedBytes, "cached bytes after EmptyCache")
}

func TestCloseTwiceAndUseAfterClose(t *testing.T) {
	g, err := New(0)
	if err != nil {
		if skipWithoutDevice {
			t.Skipf("no usable CUDA device: %v", err)
		}
		require.NoError(t, err)
	}
	x := g.Alloc(4)
	require.NoError(t, g.Close())
	require.NoError(t, g.Close(), "second Close")
	g.Fill(x, 1)
	require.ErrorIs(t, g.Sync(), errDeviceClosed, "Sync after Close")
}
