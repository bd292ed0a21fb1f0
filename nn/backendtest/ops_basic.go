package backendtest

import (
	"fmt"
	"math"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dmtc-go/dmtc/nn"
)

// elementSizes are element counts for the element-wise ops: 0 and 1, both
// sides of 32 and 256 (warp and block sizes of a GPU kernel), and both sides
// of 2¹⁵ and 2¹⁶ (the CPU backend's per-goroutine chunk).
var elementSizes = []int{0, 1, 2, 5, 31, 32, 33, 255, 256, 257, 32767, 32769, 65537}

// roundTol allows the rounding of one float32 operation (the bound is two
// units in the last place, in case the backend fuses a multiply-add).
var roundTol = tol{abs: 1e-30, rel: 2.4e-7}

// axpyTol: y + alpha·x rounds the product and the sum, each relative to its
// own magnitude (up to 3.5 here), which cancellation can make far larger
// than the result.
var axpyTol = tol{abs: 1e-6, rel: 2.4e-7}

// plusInit returns g + gradInit, the value an accumulating backward op
// leaves in a gradient output that held gradInit.
func plusInit(g []float64) []float64 {
	out := make([]float64, len(g))
	for i, v := range g {
		out[i] = v + gradInit
	}
	return out
}

func testMemory(h *harness) {
	b := h.b
	z := b.Alloc(2, 3)
	require.Equal(h.t, []int{2, 3}, z.Shape, "Alloc(2, 3) shape")
	require.GreaterOrEqual(h.t, z.Buf.Len(), 6, "Alloc(2, 3) buffer length")
	got := make([]float32, 6)
	b.Download(got, z)
	assert.Equal(h.t, make([]float32, 6), got, "Alloc must zero-fill")
	b.Free(z)

	empty := b.Alloc(0, 4)
	b.Download([]float32{}, empty)
	b.Free(empty)

	for _, n := range elementSizes {
		e := h.env(b)
		vals := h.uniform(n, -10, 10)
		if n > 0 {
			vals[0] = float32(math.Inf(-1))
			vals[n-1] = float32(math.NaN())
		}
		x := e.in(vals, n)
		back := e.get(x)
		for i := range vals {
			if math.Float32bits(back[i]) != math.Float32bits(vals[i]) {
				assert.Failf(h.t, "round trip", "Upload/Download n=%d: index %d got %g, want %g", n, i, back[i], vals[i])
				break
			}
		}
	}
	assert.Panics(h.t, func() { b.Upload(b.Alloc(3), make([]float32, 4)) }, "Upload of 4 values into 3 elements")
	require.NoError(h.t, b.Sync())
}

func testElementwise(h *harness) {
	for _, n := range elementSizes {
		caseName := fmt.Sprintf("n=%d", n)
		x0, y0 := h.uniform(n, -2, 2), h.uniform(n, -2, 2)
		const alpha, fillValue = float32(-1.75), float32(0.375)
		got, ref := h.runBoth(func(e *env) []named {
			fillT := e.out(n)
			e.b.Fill(fillT, fillValue)
			copyT := e.out(n)
			e.b.Copy(copyT, e.in(x0, n))
			axpyT := e.in(y0, n)
			e.b.Axpy(alpha, e.in(x0, n), axpyT)
			scaleT := e.in(x0, n)
			e.b.Scale(alpha, scaleT)
			return []named{{"Fill", e.get(fillT)}, {"Copy", e.get(copyT)},
				{"Axpy", e.get(axpyT)}, {"Scale", e.get(scaleT)}}
		})
		want := map[string][]float64{"Fill": make([]float64, n), "Copy": f64(x0),
			"Axpy": make([]float64, n), "Scale": make([]float64, n)}
		for i := 0; i < n; i++ {
			want["Fill"][i] = float64(fillValue)
			want["Axpy"][i] = float64(y0[i]) + float64(alpha)*float64(x0[i])
			want["Scale"][i] = float64(alpha) * float64(x0[i])
		}
		h.checkOutputs(caseName, got, ref, want, axpyTol)
	}
}

// gemmTol bounds a k-term float32 dot product of values in [−1, 1]: the
// rounding error grows with k for any summation order.
func gemmTol(k int) tol { return tol{abs: 1e-6 + 2e-7*float64(k), rel: 1e-5} }

func testGemm(h *harness) {
	// Sizes on both sides of 32 and 64 (GPU tiles) and of the CPU's
	// 64×192×256 tiling. With k = 0 the result is beta·C.
	sizes := [][3]int{{1, 1, 1}, {2, 3, 5}, {5, 1, 7}, {31, 33, 32}, {33, 31, 1}, {64, 192, 256},
		{65, 193, 257}, {1, 257, 255}, {255, 2, 33}, {3, 4, 0}}
	scalars := [][2]float32{{1, 0}, {-0.5, 0.75}, {0, 0}}
	for _, sz := range sizes {
		m, n, k := sz[0], sz[1], sz[2]
		for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
			for _, sc := range scalars {
				alpha, beta := sc[0], sc[1]
				caseName := fmt.Sprintf("Gemm m=%d n=%d k=%d transA=%t transB=%t alpha=%g beta=%g",
					m, n, k, tr[0], tr[1], alpha, beta)
				a, bv := h.uniform(m*k, -1, 1), h.uniform(k*n, -1, 1)
				c0 := h.uniform(m*n, -1, 1)
				if beta == 0 {
					// beta = 0 must not read C, so NaN in C must not show.
					c0 = filled(m*n, float32(math.NaN()))
				}
				aShape, bShape := []int{m, k}, []int{k, n}
				if tr[0] {
					aShape = []int{k, m}
				}
				if tr[1] {
					bShape = []int{n, k}
				}
				got, ref := h.runBoth(func(e *env) []named {
					c := e.in(c0, m, n)
					e.b.Gemm(tr[0], tr[1], alpha, e.in(a, aShape...), e.in(bv, bShape...), beta, c)
					return []named{{"c", e.get(c)}}
				})
				want := refGemm(tr[0], tr[1], m, n, k, float64(alpha), f64(a), f64(bv), float64(beta), f64(c0))
				h.checkOutputs(caseName, got, ref, map[string][]float64{"c": want}, gemmTol(k))
			}
		}
	}

	// Tensors of any rank are viewed as (Rows, Cols): a (2,3,4) is 2×12.
	a, bv := h.uniform(24, -1, 1), h.uniform(12*5, -1, 1)
	got, ref := h.runBoth(func(e *env) []named {
		c := e.out(2, 5)
		e.b.Gemm(false, false, 1, e.in(a, 2, 3, 4), e.in(bv, 12, 5), 0, c)
		return []named{{"c", e.get(c)}}
	})
	want := refGemm(false, false, 2, 5, 12, 1, f64(a), f64(bv), 0, nil)
	h.checkOutputs("Gemm a (2,3,4) b (12,5)", got, ref, map[string][]float64{"c": want}, gemmTol(12))

	// Hand-computed: [1 2; 3 4]·[5 6; 7 8] = [19 22; 43 50].
	e := h.env(h.b)
	c := e.out(2, 2)
	h.b.Gemm(false, false, 1, e.in([]float32{1, 2, 3, 4}, 2, 2), e.in([]float32{5, 6, 7, 8}, 2, 2), 0, c)
	h.checkClose("Gemm 2×2 hand values", e.get(c), []float64{19, 22, 43, 50}, exact)

	assert.Panics(h.t, func() { h.b.Gemm(false, false, 1, e.fill(1, 2, 3), e.fill(1, 4, 2), 0, e.out(2, 2)) },
		"Gemm with inner sizes 3 and 4 must panic")
	assert.Panics(h.t, func() { h.b.Gemm(false, false, 1, e.fill(1, 2, 3), e.fill(1, 3, 2), 0, e.out(3, 2)) },
		"Gemm with c (3,2) for a 2×2 product must panic")
}

// sumTol bounds a float32 sum of up to a few thousand values in [−1, 1].
var sumTol = tol{abs: 2e-5, rel: 1e-5}

func testBias(h *harness) {
	shapes := [][]int{{3, 5}, {1, 1}, {2, 4, 3, 3}, {1, 33, 7, 1}, {5, 2, 257}, {2, 65, 4, 4}}
	for _, shape := range shapes {
		n, f := shape[0], shape[1]
		s := nn.Numel(shape[2:])
		caseName := "bias y " + fmtShape(shape...)
		y0, bias, dy := h.uniform(n*f*s, -1, 1), h.uniform(f, -1, 1), h.uniform(n*f*s, -1, 1)
		got, ref := h.runBoth(func(e *env) []named {
			y := e.in(y0, shape...)
			e.b.AddBias(y, e.in(bias, f))
			db := e.grad(f)
			e.b.BiasBackward(e.in(dy, shape...), db)
			e.b.BiasBackward(e.in(dy, shape...), nil)
			return []named{{"AddBias", e.get(y)}, {"BiasBackward", e.get(db)}}
		})
		wantY, wantDb := make([]float64, len(y0)), make([]float64, f)
		for i := range y0 {
			j := (i / s) % f
			wantY[i] = float64(y0[i]) + float64(bias[j])
			wantDb[j] += float64(dy[i])
		}
		h.checkOutputs(caseName, got[:1], ref[:1], map[string][]float64{"AddBias": wantY}, roundTol)
		h.checkOutputs(caseName, got[1:], ref[1:], map[string][]float64{"BiasBackward": plusInit(wantDb)}, sumTol)
	}
}

// activationTol per function: ReLU is exact, and the others allow a few units in
// the last place of a float32 exp or tanh (GPU intrinsics are within 2–4
// ulp), plus an absolute floor for values near 0.
var activationTol = map[nn.Activation]tol{
	nn.ReLU:     exact,
	nn.Sigmoid:  {abs: 1e-7, rel: 1e-6},
	nn.Tanh:     {abs: 1e-7, rel: 1e-6},
	nn.Softplus: {abs: 1e-7, rel: 1e-6},
}

// activationGradTol allows the product of dy with a derivative that carries
// the error of activationTol.
var activationGradTol = tol{abs: 1e-6, rel: 1e-5}

var activationNames = map[nn.Activation]string{
	nn.ReLU: "ReLU", nn.Sigmoid: "Sigmoid", nn.Tanh: "Tanh", nn.Softplus: "Softplus",
}

func testActivate(h *harness) {
	for _, f := range []nn.Activation{nn.ReLU, nn.Sigmoid, nn.Tanh, nn.Softplus} {
		for _, n := range []int{1, 33, 257, 40000} {
			caseName := fmt.Sprintf("Activate %s n=%d", activationNames[f], n)
			x0, dy := h.awayFromZero(n, 1e-3, 8), h.uniform(n, -1, 1)
			got, ref := h.runBoth(func(e *env) []named {
				x, y, dx := e.in(x0, n), e.out(n), e.grad(n)
				e.b.Activate(f, x, y)
				e.b.ActivateBackward(f, x, y, e.in(dy, n), dx)
				e.b.ActivateBackward(f, x, y, e.in(dy, n), nil)
				return []named{{"y", e.get(y)}, {"dx", e.get(dx)}}
			})
			wantY, wantDx := make([]float64, n), make([]float64, n)
			for i, v := range x0 {
				wantY[i] = refActivate(f, float64(v))
				wantDx[i] = refActivateDerivative(f, float64(v))*float64(dy[i]) + gradInit
			}
			h.checkOutputs(caseName, got[:1], ref[:1], map[string][]float64{"y": wantY}, activationTol[f])
			h.checkOutputs(caseName, got[1:], ref[1:], map[string][]float64{"dx": wantDx}, activationGradTol)
		}
	}

	// Hard values: no overflow at ±1e10, softplus(89) is 89 (e⁸⁹ overflows
	// float32), the ReLU derivative at 0 is 0, and NaN propagates.
	nan := math.NaN()
	x0 := []float32{89, 1e10, -1e10, 0, -89, 1, float32(nan)}
	want := map[nn.Activation][]float64{
		nn.ReLU:     {89, 1e10, 0, 0, 0, 1, nan},
		nn.Sigmoid:  {1, 1, 0, 0.5, 0, 0.7310585786300049, nan},
		nn.Tanh:     {1, 1, -1, 0, -1, 0.7615941559557649, nan},
		nn.Softplus: {89, 1e10, 0, math.Ln2, 0, 1.3132616875182228, nan},
	}
	// The derivative at NaN is left out: the last dx is not checked.
	wantDx := map[nn.Activation][]float64{
		nn.ReLU:     {1, 1, 0, 0, 0, 1},
		nn.Sigmoid:  {0, 0, 0, 0.25, 0, 0.19661193324148185},
		nn.Tanh:     {0, 0, 0, 1, 0, 0.41997434161402614},
		nn.Softplus: {1, 1, 0, 0.5, 0, 0.7310585786300049},
	}
	for f, w := range want {
		e := h.env(h.b)
		x, y, dx := e.in(x0, len(x0)), e.out(len(x0)), e.grad(len(x0))
		h.b.Activate(f, x, y)
		h.b.ActivateBackward(f, x, y, e.fill(1, len(x0)), dx)
		h.checkClose("Activate "+activationNames[f]+" hard values y", e.get(y), w, tol{abs: 1e-30, rel: 1e-6})
		h.checkClose("Activate "+activationNames[f]+" hard values dx", e.get(dx)[:len(x0)-1], plusInit(wantDx[f]),
			tol{abs: 1e-7, rel: 1e-6})
	}
}

// optimTol allows float32 rounding in a few chained updates.
var optimTol = tol{abs: 1e-6, rel: 1e-5}

func testRMSprop(h *harness) {
	for _, n := range []int{1, 257, 40000} {
		for _, wd := range []float32{0, 0.01} {
			p := nn.RMSpropParams{LR: 1e-2, Alpha: 0.9, Eps: 1e-8, WeightDecay: wd}
			caseName := fmt.Sprintf("RMSprop n=%d %+v", n, p)
			p0, sq0 := h.uniform(n, -1, 1), h.uniform(n, 0, 0.1)
			grads := [][]float32{h.uniform(n, -1, 1), h.uniform(n, -1, 1), h.uniform(n, -1, 1)}
			got, ref := h.runBoth(func(e *env) []named {
				param, sq := e.in(p0, n), e.in(sq0, n)
				for _, g := range grads {
					e.b.RMSprop(param, e.in(g, n), sq, p)
				}
				return []named{{"param", e.get(param)}, {"sq", e.get(sq)}}
			})
			wp, ws := f64(p0), f64(sq0)
			for _, g := range grads {
				for i := range wp {
					gi := float64(g[i]) + float64(wd)*wp[i]
					ws[i] = float64(p.Alpha)*ws[i] + (1-float64(p.Alpha))*gi*gi
					wp[i] -= float64(p.LR) * gi / (math.Sqrt(ws[i]) + float64(p.Eps))
				}
			}
			h.checkOutputs(caseName, got, ref, map[string][]float64{"param": wp, "sq": ws}, optimTol)
		}
	}
	// Hand-computed: sq = 0.1·2² = 0.4, p = 1 − 0.01·2/(√0.4 + 1e−8).
	e := h.env(h.b)
	param, sq := e.in([]float32{1}, 1), e.in([]float32{0}, 1)
	h.b.RMSprop(param, e.in([]float32{2}, 1), sq, nn.RMSpropParams{LR: 0.01, Alpha: 0.9, Eps: 1e-8})
	h.checkClose("RMSprop hand value param", e.get(param), []float64{0.9683772234}, optimTol)
	h.checkClose("RMSprop hand value sq", e.get(sq), []float64{0.4}, optimTol)
}

func testAdam(h *harness) {
	for _, n := range []int{1, 257, 40000} {
		for _, wd := range []float32{0, 0.01} {
			caseName := fmt.Sprintf("Adam n=%d wd=%g", n, wd)
			p0 := h.uniform(n, -1, 1)
			grads := [][]float32{h.uniform(n, -1, 1), h.uniform(n, -1, 1), h.uniform(n, -1, 1)}
			got, ref := h.runBoth(func(e *env) []named {
				param, m, v := e.in(p0, n), e.fill(0, n), e.fill(0, n)
				for step, g := range grads {
					e.b.Adam(param, e.in(g, n), m, v, nn.AdamParams{LR: 1e-3, Beta1: 0.9, Beta2: 0.999,
						Eps: 1e-8, WeightDecay: wd, Step: step + 1})
				}
				return []named{{"param", e.get(param)}, {"m", e.get(m)}, {"v", e.get(v)}}
			})
			wp, wm, wv := f64(p0), make([]float64, n), make([]float64, n)
			for step, g := range grads {
				t := float64(step + 1)
				for i := range wp {
					gi := float64(g[i]) + float64(wd)*wp[i]
					wm[i] = 0.9*wm[i] + 0.1*gi
					wv[i] = 0.999*wv[i] + 0.001*gi*gi
					mHat := wm[i] / (1 - math.Pow(0.9, t))
					vHat := wv[i] / (1 - math.Pow(0.999, t))
					wp[i] -= 1e-3 * mHat / (math.Sqrt(vHat) + 1e-8)
				}
			}
			h.checkOutputs(caseName, got, ref, map[string][]float64{"param": wp, "m": wm, "v": wv}, optimTol)
		}
	}
	// Hand-computed: the first bias-corrected step moves p by lr·g/|g|.
	e := h.env(h.b)
	param := e.in([]float32{1, 1}, 2)
	h.b.Adam(param, e.in([]float32{0.5, -3}, 2), e.fill(0, 2), e.fill(0, 2),
		nn.AdamParams{LR: 0.1, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, Step: 1})
	h.checkClose("Adam first step hand value", e.get(param), []float64{0.9, 1.1}, optimTol)
}
