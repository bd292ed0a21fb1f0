//go:build cuda || cudaemu

package cuda

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// memorySizes straddle the block size (256) and, with the largest, the grid
// cap (memoryMaxBlocks·memoryBlock elements), so that the grid-stride loop
// runs more than once.
var memorySizes = []int{0, 1, 2, 255, 256, 257, memoryMaxBlocks*memoryBlock + 3}

func TestFillCopyAxpyScale(t *testing.T) {
	g := newTestGPU(t)
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range memorySizes {
		t.Run(fmt.Sprintf("n=%d", n), func(t *testing.T) {
			xs := uniform(rng, n, -2, 2)
			ys := uniform(rng, n, -2, 2)
			x := guarded(g, xs, n)
			y := guarded(g, ys, n)

			const alpha, scale = float32(-1.5), float32(0.75)
			g.Axpy(alpha, x, y)
			got := download(t, g, y, "Axpy")
			for i := range got {
				// alpha·x + y rounded once (fused) or twice: within 1e-6
				// for |x|, |y| < 2.
				want := ys[i] + alpha*xs[i]
				if math.Abs(float64(got[i]-want)) > 1e-6 {
					require.Failf(t, "Axpy mismatch", "Axpy n=%d alpha=%g: index %d got %g want %g",
						n, alpha, i, got[i], want)
				}
			}

			g.Scale(scale, y)
			scaled := download(t, g, y, "Scale")
			for i := range scaled {
				if want := got[i] * scale; scaled[i] != want {
					require.Failf(t, "Scale mismatch", "Scale n=%d alpha=%g: index %d got %g want %g",
						n, scale, i, scaled[i], want)
				}
			}

			g.Copy(x, y)
			copied := download(t, g, x, "Copy")
			require.Equalf(t, scaled, copied, "Copy n=%d", n)

			g.Fill(x, 3.25)
			for i, v := range download(t, g, x, "Fill") {
				if v != 3.25 {
					require.Failf(t, "Fill mismatch", "Fill n=%d: index %d got %g want 3.25", n, i, v)
				}
			}
			require.NoError(t, g.Sync())
		})
	}
}

// Fill must store NaN and ±Inf as given, and Scale must propagate them.
func TestFillScaleSpecialValues(t *testing.T) {
	g := newTestGPU(t)
	for _, v := range []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))} {
		x := guarded(g, nil, 5)
		g.Fill(x, v)
		g.Scale(2, x)
		for i, got := range download(t, g, x, "Fill/Scale") {
			if math.IsNaN(float64(v)) {
				require.Truef(t, math.IsNaN(float64(got)), "Fill(NaN)·2: index %d got %g", i, got)
			} else {
				require.Equalf(t, v, got, "Fill(%g)·2: index %d got %g", v, i, got)
			}
		}
	}
}

func TestAllocZeroFilled(t *testing.T) {
	g := newTestGPU(t)
	x := g.Alloc(3, 5)
	host := make([]float32, 15)
	for i := range host {
		host[i] = -1
	}
	g.Download(host, x)
	for i, v := range host {
		require.Equalf(t, float32(0), v, "Alloc(3,5): index %d got %g want 0", i, v)
	}
	empty := g.Alloc(0, 4)
	require.Equal(t, 0, empty.Len())
	g.Fill(empty, 1)
	g.Free(empty)
	g.Free(x)
	require.NoError(t, g.Sync())
}

func TestMismatchedLengthsPanic(t *testing.T) {
	g := newTestGPU(t)
	a, b := g.Alloc(4), g.Alloc(5)
	require.PanicsWithValue(t,
		g.Name()+": Axpy: tensors (4) and (5) differ in element count (4 and 5)",
		func() { g.Axpy(1, a, b) })
	require.Panics(t, func() { g.Upload(a, make([]float32, 3)) }, "Upload of 3 values into (4)")
	g.Free(a)
	require.Panics(t, func() { g.Fill(a, 1) }, "Fill after Free")
}

// Axpy with x and y the same tensor computes y = (1 + alpha)·y.
func TestAxpyInPlace(t *testing.T) {
	g := newTestGPU(t)
	y := guarded(g, []float32{1, -2, 4}, 3)
	g.Axpy(0.5, y, y)
	got := download(t, g, y, "Axpy in place")
	require.Equal(t, []float32{1.5, -3, 6}, got, "Axpy(0.5, y, y) of (1, -2, 4)")
}
