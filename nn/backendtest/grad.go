package backendtest

import (
	"fmt"
	"testing"

	"github.com/dmtc-go/dmtc/nn"
)

// Gradient checks. For each op with a backward pass, the loss is a random
// linear functional L = Σ r·f(inputs) of the op's float64 reference forward
// f (or the scaled loss itself for the fused losses). Central differences of
// L in float64 with step 1e−6·max(1, |v|) are accurate to about 1e−9. The
// backend's float32 analytic gradient, computed with dy = r into gradient
// outputs that start at gradInit, must agree within the op's tolerance.

// gradTol: float32 gradients of O(1) sums carry relative error about 1e−6,
// and the bound leaves room for a GPU's different summation order.
var gradTol = tol{abs: 1e-4, rel: 1e-3}

// RunGradients runs the finite-difference gradient checks on b.
func RunGradients(t *testing.T, b nn.Backend) {
	tests := []struct {
		name string
		fn   func(h *harness)
	}{
		{"Gemm", gradGemm},
		{"Bias", gradBias},
		{"Conv2D", gradConv},
		{"BatchNorm", gradBatchNorm},
		{"MaxPool2D", gradMaxPool},
		{"AvgPool2D", gradAvgPool},
		{"Activate", gradActivate},
		{"Softmax", gradSoftmax},
		{"CrossEntropy", gradCrossEntropy},
		{"BinaryCrossEntropy", gradBCE},
		{"JSDMutualInfo", gradJSD},
		{"L2NormalizeRows", gradL2Normalize},
		{"TileConcat", gradTileConcat},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(newHarness(t, b)) })
	}
}

// checkGrad compares an analytic gradient, read from a gradient output that
// started at gradInit, with finite differences.
func (h *harness) checkGrad(caseName string, e *env, g *nn.Tensor, fd []float64, tl tol) {
	h.t.Helper()
	got := e.gradOf(g)
	g32 := make([]float32, len(got))
	for i, v := range got {
		g32[i] = float32(v)
	}
	h.checkClose(caseName+" analytic vs finite differences", g32, fd, tl)
}

func gradGemm(h *harness) {
	// A linear layer: C (m,n) = A (m,k)·Bᵀ with B (n,k). Its gradients
	// dA = dC·B and dB = dCᵀ·A are accumulated with beta = 1.
	const m, n, k = 5, 7, 33
	a0, b0, r := h.uniform(m*k, -1, 1), h.uniform(n*k, -1, 1), h.uniform(m*n, -1, 1)
	e := h.env(h.b)
	da, db := e.grad(m, k), e.grad(n, k)
	dc := e.in(r, m, n)
	h.b.Gemm(false, false, 1, dc, e.in(b0, n, k), 1, da)
	h.b.Gemm(true, false, 1, dc, e.in(a0, m, k), 1, db)
	a64, b64, r64 := f64(a0), f64(b0), f64(r)
	fd := finiteDiff([][]float64{a64, b64}, func() float64 {
		return dotF64(r64, refGemm(false, true, m, n, k, 1, a64, b64, 0, nil))
	})
	h.checkGrad("Gemm dA", e, da, fd[0], gradTol)
	h.checkGrad("Gemm dB", e, db, fd[1], gradTol)
}

func gradBias(h *harness) {
	shape := []int{3, 4, 5}
	r := h.uniform(60, -1, 1)
	bias0 := h.uniform(4, -1, 1)
	e := h.env(h.b)
	db := e.grad(4)
	h.b.BiasBackward(e.in(r, shape...), db)
	b64, r64, x64 := f64(bias0), f64(r), f64(h.uniform(60, -1, 1))
	fd := finiteDiff([][]float64{b64}, func() float64 {
		y := append([]float64(nil), x64...)
		for i := range y {
			y[i] += b64[(i/5)%4]
		}
		return dotF64(r64, y)
	})
	h.checkGrad("BiasBackward", e, db, fd[0], gradTol)
}

func gradConv(h *harness) {
	shapes := []convShape{
		{n: 2, c: 3, h: 5, w: 6, f: 4, kh: 3, kw: 3, p: nn.ConvParams{StrideH: 2, StrideW: 2, PadH: 1, PadW: 1}},
		{n: 1, c: 2, h: 4, w: 5, f: 3, kh: 2, kw: 3, p: nn.ConvParams{StrideH: 1, StrideW: 1, PadW: 1}},
		{n: 2, c: 4, h: 3, w: 3, f: 2, kh: 1, kw: 1, p: nn.ConvParams{StrideH: 1, StrideW: 1}},
	}
	for _, s := range shapes {
		oh, ow := s.out()
		xShape, wShape, yShape := []int{s.n, s.c, s.h, s.w}, []int{s.f, s.c, s.kh, s.kw}, []int{s.n, s.f, oh, ow}
		x0, w0, bias0 := h.uniform(nn.Numel(xShape), -1, 1), h.uniform(nn.Numel(wShape), -1, 1), h.uniform(s.f, -1, 1)
		r := h.uniform(nn.Numel(yShape), -1, 1)
		e := h.env(h.b)
		x, w, dy := e.in(x0, xShape...), e.in(w0, wShape...), e.in(r, yShape...)
		dx, dw, db := e.grad(xShape...), e.grad(wShape...), e.grad(s.f)
		h.b.Conv2DBackwardData(dy, w, dx, s.p)
		h.b.Conv2DBackwardFilter(x, dy, dw, db, s.p)
		x64, w64, b64, r64 := f64(x0), f64(w0), f64(bias0), f64(r)
		fd := finiteDiff([][]float64{x64, w64, b64}, func() float64 {
			return dotF64(r64, refConv(s, x64, w64, b64))
		})
		caseName := "Conv2D " + s.String()
		h.checkGrad(caseName+" dx", e, dx, fd[0], gradTol)
		h.checkGrad(caseName+" dw", e, dw, fd[1], gradTol)
		h.checkGrad(caseName+" db", e, db, fd[2], gradTol)
	}
}

func gradBatchNorm(h *harness) {
	const eps = 1e-5
	for _, shape := range [][]int{{6, 3}, {2, 3, 2, 3}} {
		n, ch := shape[0], shape[1]
		sp := nn.Numel(shape[2:])
		x0, gamma0, beta0 := h.uniform(nn.Numel(shape), -2, 2), h.uniform(ch, 0.5, 1.5), h.uniform(ch, -1, 1)
		r := h.uniform(len(x0), -1, 1)
		e := h.env(h.b)
		x, gamma, beta := e.in(x0, shape...), e.in(gamma0, ch), e.in(beta0, ch)
		sm, si := e.out(ch), e.out(ch)
		h.b.BatchNorm(x, gamma, beta, e.fill(0, ch), e.fill(1, ch), sm, si, e.out(shape...),
			nn.BatchNormParams{Training: true, Momentum: 0.1, Eps: eps})
		dx, dgamma, dbeta := e.grad(shape...), e.grad(ch), e.grad(ch)
		h.b.BatchNormBackward(x, e.in(r, shape...), gamma, sm, si, dx, dgamma, dbeta)
		x64, g64, b64, r64 := f64(x0), f64(gamma0), f64(beta0), f64(r)
		fd := finiteDiff([][]float64{x64, g64, b64}, func() float64 {
			return dotF64(r64, refBatchNormTrain(x64, g64, b64, n, ch, sp, eps))
		})
		caseName := "BatchNorm x " + fmtShape(shape...)
		h.checkGrad(caseName+" dx", e, dx, fd[0], gradTol)
		h.checkGrad(caseName+" dgamma", e, dgamma, fd[1], gradTol)
		h.checkGrad(caseName+" dbeta", e, dbeta, fd[2], gradTol)
	}
}

func gradMaxPool(h *harness) {
	for _, s := range []poolShape{
		{n: 2, c: 2, h: 5, w: 6, p: nn.PoolParams{KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadH: 1, PadW: 1}},
		{n: 1, c: 3, h: 4, w: 4, p: nn.PoolParams{KH: 2, KW: 2, StrideH: 1, StrideW: 1}},
	} {
		oh, ow := s.out()
		xShape, yShape := []int{s.n, s.c, s.h, s.w}, []int{s.n, s.c, oh, ow}
		// Distinct values spaced 1/n ≫ the difference step, so no
		// perturbation changes a window's maximum.
		x0, r := h.distinct(nn.Numel(xShape)), h.uniform(nn.Numel(yShape), -1, 1)
		e := h.env(h.b)
		dx := e.grad(xShape...)
		h.b.MaxPool2DBackward(e.in(x0, xShape...), e.in(r, yShape...), dx, s.p)
		x64, r64 := f64(x0), f64(r)
		fd := finiteDiff([][]float64{x64}, func() float64 {
			y, _ := refMaxPool(s, x64)
			return dotF64(r64, y)
		})
		h.checkGrad("MaxPool2D "+s.String()+" dx", e, dx, fd[0], gradTol)
	}
}

func gradAvgPool(h *harness) {
	s := poolShape{n: 2, c: 2, h: 5, w: 6, p: nn.PoolParams{KH: 3, KW: 2, StrideH: 2, StrideW: 1, PadH: 1, PadW: 1}}
	oh, ow := s.out()
	xShape, yShape := []int{s.n, s.c, s.h, s.w}, []int{s.n, s.c, oh, ow}
	x0, r := h.uniform(nn.Numel(xShape), -1, 1), h.uniform(nn.Numel(yShape), -1, 1)
	e := h.env(h.b)
	dx := e.grad(xShape...)
	h.b.AvgPool2DBackward(e.in(r, yShape...), dx, s.p)
	x64, r64 := f64(x0), f64(r)
	fd := finiteDiff([][]float64{x64}, func() float64 { return dotF64(r64, refAvgPool(s, x64)) })
	h.checkGrad("AvgPool2D "+s.String()+" dx", e, dx, fd[0], gradTol)
}

func gradActivate(h *harness) {
	const n = 64
	for _, f := range []nn.Activation{nn.ReLU, nn.Sigmoid, nn.Tanh, nn.Softplus} {
		// |x| ≥ 0.01 keeps ReLU's kink out of reach of the step.
		x0, r := h.awayFromZero(n, 0.01, 6), h.uniform(n, -1, 1)
		e := h.env(h.b)
		x, y, dx := e.in(x0, n), e.out(n), e.grad(n)
		h.b.Activate(f, x, y)
		h.b.ActivateBackward(f, x, y, e.in(r, n), dx)
		x64, r64 := f64(x0), f64(r)
		fd := finiteDiff([][]float64{x64}, func() float64 {
			var s float64
			for i, v := range x64 {
				s += r64[i] * refActivate(f, v)
			}
			return s
		})
		h.checkGrad("Activate "+activationNames[f]+" dx", e, dx, fd[0], gradTol)
	}
}

func gradSoftmax(h *harness) {
	const n, k = 4, 7
	x0, r := h.uniform(n*k, -3, 3), h.uniform(n*k, -1, 1)
	e := h.env(h.b)
	x, y, ly := e.in(x0, n, k), e.out(n, k), e.out(n, k)
	h.b.Softmax(x, y)
	h.b.LogSoftmax(x, ly)
	dx, dlx := e.grad(n, k), e.grad(n, k)
	h.b.SoftmaxBackward(y, e.in(r, n, k), dx)
	h.b.LogSoftmaxBackward(ly, e.in(r, n, k), dlx)
	x64, r64 := f64(x0), f64(r)
	fd := finiteDiff([][]float64{x64}, func() float64 { return dotF64(r64, refSoftmax(x64, n, k)) })
	h.checkGrad("Softmax dx", e, dx, fd[0], gradTol)
	fd = finiteDiff([][]float64{x64}, func() float64 { return dotF64(r64, refLogSoftmax(x64, n, k)) })
	h.checkGrad("LogSoftmax dx", e, dlx, fd[0], gradTol)
}

func gradCrossEntropy(h *harness) {
	const n, k, scale = 5, 4, 1.3
	x0 := h.uniform(n*k, -3, 3)
	labels := []int{2, -1, 0, 3, 3}
	labels32 := []float32{2, -1, 0, 3, 3}
	e := h.env(h.b)
	dx := e.grad(n, k)
	h.b.CrossEntropy(e.in(x0, n, k), e.in(labels32, n), dx, scale)
	x64 := f64(x0)
	fd := finiteDiff([][]float64{x64}, func() float64 { return scale * refCrossEntropy(x64, labels, k) })
	h.checkGrad("CrossEntropy dlogits", e, dx, fd[0], gradTol)
}

func gradBCE(h *harness) {
	const n, scale = 9, 0.8
	p0, t0 := h.uniform(n, 0.05, 0.95), h.uniform(n, 0, 1)
	e := h.env(h.b)
	dp := e.grad(n)
	h.b.BinaryCrossEntropy(e.in(p0, n), e.in(t0, n), dp, scale)
	p64, t64 := f64(p0), f64(t0)
	fd := finiteDiff([][]float64{p64}, func() float64 { return scale * refBCE(p64, t64) })
	h.checkGrad("BinaryCrossEntropy dp", e, dp, fd[0], gradTol)
}

func gradJSD(h *harness) {
	const np, nq, scale = 6, 9, 0.5
	pos0, neg0 := h.uniform(np, -4, 4), h.uniform(nq, -4, 4)
	e := h.env(h.b)
	dpos, dneg := e.grad(np), e.grad(nq)
	h.b.JSDMutualInfo(e.in(pos0, np), e.in(neg0, nq), dpos, dneg, scale)
	pos64, neg64 := f64(pos0), f64(neg0)
	fd := finiteDiff([][]float64{pos64, neg64}, func() float64 { return scale * refJSD(pos64, neg64) })
	h.checkGrad("JSDMutualInfo dpos", e, dpos, fd[0], gradTol)
	h.checkGrad("JSDMutualInfo dneg", e, dneg, fd[1], gradTol)
}

func gradL2Normalize(h *harness) {
	const n, d = 4, 5
	x0, r := h.uniform(n*d, -2, 2), h.uniform(n*d, -1, 1)
	e := h.env(h.b)
	y, norms, dx := e.out(n, d), e.out(n), e.grad(n, d)
	h.b.L2NormalizeRows(e.in(x0, n, d), y, norms)
	h.b.L2NormalizeRowsBackward(y, norms, e.in(r, n, d), dx)
	x64, r64 := f64(x0), f64(r)
	fd := finiteDiff([][]float64{x64}, func() float64 {
		y, _ := refL2Normalize(x64, n, d)
		return dotF64(r64, y)
	})
	h.checkGrad("L2NormalizeRows dx", e, dx, fd[0], gradTol)
}

func gradTileConcat(h *harness) {
	const n, k, c, hh, ww = 2, 3, 2, 3, 4
	y0, m0 := h.uniform(n*k, -1, 1), h.uniform(n*c*hh*ww, -1, 1)
	r := h.uniform(n*(k+c)*hh*ww, -1, 1)
	e := h.env(h.b)
	dy, dm := e.grad(n, k), e.grad(n, c, hh, ww)
	h.b.TileConcatBackward(e.in(r, n, k+c, hh, ww), dy, dm)
	y64, m64, r64 := f64(y0), f64(m0), f64(r)
	fd := finiteDiff([][]float64{y64, m64}, func() float64 {
		return dotF64(r64, refTileConcat(y64, m64, n, k, c, hh*ww))
	})
	caseName := fmt.Sprintf("TileConcat y (%d,%d) m (%d,%d,%d,%d)", n, k, n, c, hh, ww)
	h.checkGrad(caseName+" dy", e, dy, fd[0], gradTol)
	h.checkGrad(caseName+" dm", e, dm, fd[1], gradTol)
}
