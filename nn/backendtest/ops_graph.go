package backendtest

import (
	"fmt"
	"math"

	"github.com/stretchr/testify/assert"

	"github.com/dmtc-go/dmtc/nn"
)

func testL2Normalize(h *harness) {
	for _, rc := range [][2]int{{1, 1}, {3, 5}, {33, 10}, {257, 3}, {2, 300}} {
		n, d := rc[0], rc[1]
		x0, dy0 := h.uniform(n*d, -2, 2), h.uniform(n*d, -1, 1)
		if n > 1 {
			// Row 1 is zero: it stays zero and its norm is 0.
			copy(x0[d:2*d], make([]float32, d))
		}
		got, ref := h.runBoth(func(e *env) []named {
			y, norms, dx := e.out(n, d), e.out(n), e.grad(n, d)
			e.b.L2NormalizeRows(e.in(x0, n, d), y, norms)
			e.b.L2NormalizeRowsBackward(y, norms, e.in(dy0, n, d), dx)
			e.b.L2NormalizeRowsBackward(y, norms, e.in(dy0, n, d), nil)
			return []named{{"y", e.get(y)}, {"norms", e.get(norms)}, {"dx", e.get(dx)}}
		})
		y, norms := refL2Normalize(f64(x0), n, d)
		dx := make([]float64, n*d)
		for i := 0; i < n; i++ {
			var dot float64
			for j := 0; j < d; j++ {
				dot += y[i*d+j] * float64(dy0[i*d+j])
			}
			for j := 0; j < d; j++ {
				if norms[i] > 1e-12 {
					dx[i*d+j] = (float64(dy0[i*d+j]) - y[i*d+j]*dot) / norms[i]
				} else {
					// y = x/1e−12 is linear in x for a row this small.
					dx[i*d+j] = float64(dy0[i*d+j]) / 1e-12
				}
			}
		}
		// Unit vectors and norms carry a float32 square root's error.
		h.checkOutputs(fmt.Sprintf("L2NormalizeRows x (%d,%d)", n, d), got, ref,
			map[string][]float64{"y": y, "norms": norms, "dx": plusInit(dx)}, tol{abs: 1e-6, rel: 1e-5})
	}
}

// cosineTol: a float32 dot product of unit vectors of up to 65 elements.
var cosineTol = tol{abs: 2e-6, rel: 1e-6}

func testCosine(h *harness) {
	for _, sz := range [][3]int{{1, 1, 1}, {5, 7, 3}, {33, 31, 65}, {257, 3, 10}, {3, 257, 2}} {
		n, m, d := sz[0], sz[1], sz[2]
		a0, b0 := h.uniform(n*d, -1, 1), h.uniform(m*d, -1, 1)
		if n > 1 {
			copy(a0[:d], make([]float32, d))
		}
		if m > 1 {
			copy(b0[(m-1)*d:], make([]float32, d))
		}
		got, ref := h.runBoth(func(e *env) []named {
			s := e.out(n, m)
			e.b.CosineSimilarity(e.in(a0, n, d), e.in(b0, m, d), s)
			return []named{{"s", e.get(s)}}
		})
		h.checkOutputs(fmt.Sprintf("CosineSimilarity a (%d,%d) b (%d,%d)", n, d, m, d), got, ref,
			map[string][]float64{"s": refCosine(f64(a0), f64(b0), n, m, d)}, cosineTol)
	}

	// Hard values: a zero vector gives 0 (never NaN), parallel vectors 1,
	// opposite vectors −1, and the result never leaves [−1, 1].
	e := h.env(h.b)
	s := e.out(3, 3)
	a := e.in([]float32{0, 0, 0, 1, 2, 3, 0.1, 0.2, 0.3}, 3, 3)
	b := e.in([]float32{1, 2, 3, -2, -4, -6, 0, 0, 0}, 3, 3)
	h.b.CosineSimilarity(a, b, s)
	got := e.get(s)
	h.checkClose("CosineSimilarity hard values", got, []float64{0, 0, 0, 1, -1, 0, 1, -1, 0}, cosineTol)
	for i, v := range got {
		assert.Truef(h.t, v >= -1 && v <= 1, "CosineSimilarity hard values: s[%d] = %g outside [−1, 1]", i, v)
	}
}

func testThreshold(h *harness) {
	for _, rc := range [][2]int{{1, 1}, {33, 31}, {257, 257}} {
		n, m := rc[0], rc[1]
		s0 := h.uniform(n*m, -1, 1)
		const tau = float32(0.25)
		s0[0] = tau
		if len(s0) > 2 {
			s0[1] = float32(math.NaN())
			s0[2] = math.Nextafter32(tau, 0)
		}
		got, ref := h.runBoth(func(e *env) []named {
			g := e.out(n, m)
			e.b.ThresholdGraph(e.in(s0, n, m), g, tau)
			return []named{{"g", e.get(g)}}
		})
		want := make([]float64, n*m)
		for i, v := range s0 {
			if v >= tau {
				want[i] = 1
			}
		}
		h.checkOutputs(fmt.Sprintf("ThresholdGraph s (%d,%d) tau %g", n, m, tau), got, ref,
			map[string][]float64{"g": want}, exact)
	}
}

func testTopK(h *harness) {
	for _, rc := range [][2]int{{1, 1}, {4, 4}, {5, 7}, {33, 31}, {257, 3}, {3, 257}} {
		n, m := rc[0], rc[1]
		// Eight levels make ties common, and one NaN ranks below every number.
		s0 := h.uniform(n*m, 0, 8)
		for i := range s0 {
			s0[i] = float32(math.Floor(float64(s0[i])))
		}
		s0[len(s0)/2] = float32(math.NaN())
		for _, k := range []int{1, 3, m, m + 2} {
			for _, exclude := range []bool{false, true} {
				got, ref := h.runBoth(func(e *env) []named {
					idx := e.out(n, k)
					e.b.TopK(e.in(s0, n, m), idx, k, exclude)
					return []named{{"idx", e.get(idx)}}
				})
				h.checkOutputs(fmt.Sprintf("TopK s (%d,%d) k=%d excludeDiagonal=%t", n, m, k, exclude), got, ref,
					map[string][]float64{"idx": refTopK(s0, n, m, k, exclude)}, exact)
			}
		}
	}

	// Hand-computed: ties go to the lower index, the diagonal is skipped on
	// request, and slots beyond the candidates are −1.
	e := h.env(h.b)
	s := e.in([]float32{0.5, 0.9, 0.9, 0.1, 0.3, 0.8, 0.2, 0.8}, 2, 4)
	idx := e.out(2, 5)
	h.b.TopK(s, idx, 5, true)
	h.checkClose("TopK hand values", e.get(idx), []float64{1, 2, 3, -1, -1, 3, 0, 2, -1, -1}, exact)
	idx3 := e.out(2, 3)
	h.b.TopK(s, idx3, 3, false)
	h.checkClose("TopK hand values with diagonal", e.get(idx3), []float64{1, 2, 0, 1, 3, 0}, exact)
}

func testTileConcat(h *harness) {
	for _, sz := range [][5]int{{1, 1, 1, 1, 1}, {2, 3, 4, 5, 5}, {4, 10, 16, 7, 7}, {2, 3, 0, 3, 3}, {3, 0, 2, 2, 3}} {
		n, k, c, hh, ww := sz[0], sz[1], sz[2], sz[3], sz[4]
		y0, m0 := h.uniform(n*k, -1, 1), h.uniform(n*c*hh*ww, -1, 1)
		outShape := []int{n, k + c, hh, ww}
		dout0 := h.uniform(nn.Numel(outShape), -1, 1)
		got, ref := h.runBoth(func(e *env) []named {
			out := e.out(outShape...)
			e.b.TileConcat(e.in(y0, n, k), e.in(m0, n, c, hh, ww), out)
			dy, dm := e.grad(n, k), e.grad(n, c, hh, ww)
			dout := e.in(dout0, outShape...)
			e.b.TileConcatBackward(dout, dy, dm)
			dyOnly, dmOnly := e.grad(n, k), e.grad(n, c, hh, ww)
			e.b.TileConcatBackward(dout, dyOnly, nil)
			e.b.TileConcatBackward(dout, nil, dmOnly)
			return []named{{"out", e.get(out)}, {"dy", e.get(dy)}, {"dm", e.get(dm)},
				{"dyOnly", e.get(dyOnly)}, {"dmOnly", e.get(dmOnly)}}
		})
		plane := hh * ww
		wantDy, wantDm := make([]float64, n*k), make([]float64, 0, n*c*plane)
		for i := 0; i < n; i++ {
			for j := 0; j < k; j++ {
				for p := 0; p < plane; p++ {
					wantDy[i*k+j] += float64(dout0[(i*(k+c)+j)*plane+p])
				}
			}
			wantDm = append(wantDm, f64(dout0[(i*(k+c)+k)*plane:(i+1)*(k+c)*plane])...)
		}
		caseName := fmt.Sprintf("TileConcat y (%d,%d) m (%d,%d,%d,%d)", n, k, n, c, hh, ww)
		h.checkOutputs(caseName, got[:1], ref[:1], map[string][]float64{"out": refTileConcat(f64(y0), f64(m0), n, k, c, plane)},
			exact)
		// dm adds one value to gradInit: one float32 rounding.
		h.checkOutputs(caseName, got[1:], ref[1:], map[string][]float64{"dy": plusInit(wantDy), "dm": plusInit(wantDm),
			"dyOnly": plusInit(wantDy), "dmOnly": plusInit(wantDm)}, tol{abs: 1e-6, rel: 1e-6})
	}
}
