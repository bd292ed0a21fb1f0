//go:build cuda || cudaemu

package cuda

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dmtc-go/dmtc/nn"
)

// newTestGPU opens device 0 for a test and closes it at the end. Without a
// usable device (tag cuda on a machine without a GPU) the test is skipped
// with the reason.
func newTestGPU(t *testing.T) *GPU {
	t.Helper()
	g, err := New(0)
	if err != nil {
		if skipWithoutDevice {
			t.Skipf("no usable CUDA device: %v", err)
		}
		require.NoError(t, err, "cuda: New(0)")
	}
	t.Cleanup(func() { require.NoError(t, g.Close(), "cuda: Close") })
	return g
}

// guardLen is the number of NaN elements allocated after every test tensor
// to catch out-of-bounds writes; odd so that any vector width reaches it.
const guardLen = 17

// guarded allocates a tensor of the given shape that views the front of a
// larger buffer whose tail holds guardLen NaN values, and uploads vals.
func guarded(g *GPU, vals []float32, shape ...int) *nn.Tensor {
	n := nn.Numel(shape)
	full := g.Alloc(n + guardLen)
	host := make([]float32, n+guardLen)
	copy(host, vals)
	for i := n; i < len(host); i++ {
		host[i] = float32(math.NaN())
	}
	g.Upload(full, host)
	return &nn.Tensor{Shape: append([]int(nil), shape...), Buf: full.Buf}
}

// download returns t's values and requires its guard band to be intact.
func download(t *testing.T, g *GPU, x *nn.Tensor, op string) []float32 {
	t.Helper()
	buf := x.Buf.(*Buf)
	full := &nn.Tensor{Shape: []int{buf.Len()}, Buf: buf}
	host := make([]float32, buf.Len())
	g.Download(host, full)
	n := x.Len()
	for i := n; i < len(host); i++ {
		if !math.IsNaN(float64(host[i])) {
			require.Failf(t, "guard band overwritten",
				"%s: guard element %d after tensor %v holds %g, want NaN", op, i-n, x, host[i])
		}
	}
	return host[:n]
}

// uniform returns n values uniform in [lo, hi) from a seeded generator.
func uniform(rng *rand.Rand, n int, lo, hi float64) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = float32(lo + (hi-lo)*rng.Float64())
	}
	return out
}
