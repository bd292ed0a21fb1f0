//go:build cuda || cudaemu

package cuda

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// gemmReference computes alpha·op(A)·op(B) + beta·C in float64, treating
// beta = 0 as "C is not read".
func gemmReference(transA, transB bool, m, n, k int, alpha float64, a, b []float32,
	beta float64, c []float32) []float64 {
	out := make([]float64, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for p := 0; p < k; p++ {
				av := a[i*k+p]
				if transA {
					av = a[p*m+i]
				}
				bv := b[p*n+j]
				if transB {
					bv = b[j*k+p]
				}
				s += float64(av) * float64(bv)
			}
			out[i*n+j] = alpha * s
			if beta != 0 {
				out[i*n+j] += beta * float64(c[i*n+j])
			}
		}
	}
	return out
}

// TestGemm compares every transpose combination with a float64 loop on sizes
// around the 64×64 tile and the 16-deep k slice, including empty and
// single-element matrices.
func TestGemm(t *testing.T) {
	g := newTestGPU(t)
	rng := rand.New(rand.NewPCG(3, 4))
	shapes := [][3]int{ // m, n, k
		{0, 5, 3}, {4, 0, 3}, {3, 4, 0}, {1, 1, 1}, {2, 3, 5},
		{63, 65, 15}, {64, 64, 16}, {65, 63, 17}, {130, 7, 33}, {5, 129, 70},
	}
	for _, s := range shapes {
		m, n, k := s[0], s[1], s[2]
		for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
			for _, ab := range [][2]float64{{1, 0}, {-0.5, 0.25}} {
				name := fmt.Sprintf("m=%d,n=%d,k=%d,transA=%t,transB=%t,alpha=%g,beta=%g",
					m, n, k, tr[0], tr[1], ab[0], ab[1])
				t.Run(name, func(t *testing.T) {
					// Float32 products summed over k: the error grows with k.
					tol := 1e-5 * float64(k+1)
					as, bs := uniform(rng, m*k, -1, 1), uniform(rng, k*n, -1, 1)
					cs := uniform(rng, m*n, -1, 1)
					if ab[1] == 0 {
						for i := range cs {
							cs[i] = float32(math.NaN())
						}
					}
					aShape, bShape := []int{m, k}, []int{k, n}
					if tr[0] {
						aShape = []int{k, m}
					}
					if tr[1] {
						bShape = []int{n, k}
					}
					a, b := guarded(g, as, aShape...), guarded(g, bs, bShape...)
					c := guarded(g, cs, m, n)
					g.Gemm(tr[0], tr[1], float32(ab[0]), a, b, float32(ab[1]), c)
					require.NoError(t, g.Sync())
					got := download(t, g, c, "Gemm")
					want := gemmReference(tr[0], tr[1], m, n, k, ab[0], as, bs, ab[1], cs)
					worst, worstErr := -1, 0.0
					for i := range got {
						e := math.Abs(float64(got[i]) - want[i])
						if math.IsNaN(float64(got[i])) {
							e = math.Inf(1)
						}
						if e > worstErr {
							worst, worstErr = i, e
						}
					}
					if worst >= 0 {
						require.LessOrEqualf(t, worstErr, tol,
							"Gemm %s: worst index %d (row %d, col %d) got %g want %g",
							name, worst, worst/n, worst%n, got[worst], want[worst])
					}
				})
			}
		}
	}
}

func TestGemmShapeMismatchPanics(t *testing.T) {
	g := newTestGPU(t)
	a, b, c := g.Alloc(2, 3), g.Alloc(4, 5), g.Alloc(2, 5)
	require.Panics(t, func() { g.Gemm(false, false, 1, a, b, 0, c) }, "Gemm (2,3)·(4,5)")
	require.Panics(t, func() { g.Gemm(false, false, 1, a, a, 0, a) }, "Gemm with C aliasing A")
}
