package backendtest

import (
	"fmt"
	"math"

	"github.com/stretchr/testify/assert"

	"github.com/dmtc-go/dmtc/nn"
)

// convShapes cover odd sizes, stride 2, asymmetric kernels, strides and
// padding, a filter larger than the input, 1×1 convolutions (a GEMM special
// case on the CPU), N = 1 and N = 7 (fewer and more samples than threads),
// and F, C·KH·KW and OH·OW on both sides of 32, 64, 192 and 256, the GPU and
// CPU GEMM tile sizes.
var convShapes = []convShape{
	{n: 2, c: 3, h: 5, w: 7, f: 4, kh: 3, kw: 3, p: nn.ConvParams{StrideH: 1, StrideW: 1, PadH: 1, PadW: 1}},
	{n: 3, c: 2, h: 9, w: 11, f: 5, kh: 3, kw: 3, p: nn.ConvParams{StrideH: 2, StrideW: 2, PadH: 1, PadW: 1}},
	{n: 3, c: 5, h: 4, w: 4, f: 6, kh: 1, kw: 1, p: nn.ConvParams{StrideH: 1, StrideW: 1}},
	{n: 2, c: 4, h: 7, w: 6, f: 3, kh: 1, kw: 1, p: nn.ConvParams{StrideH: 2, StrideW: 2}},
	{n: 2, c: 3, h: 8, w: 9, f: 2, kh: 5, kw: 3, p: nn.ConvParams{StrideH: 1, StrideW: 2, PadH: 2}},
	{n: 1, c: 2, h: 2, w: 2, f: 3, kh: 3, kw: 3, p: nn.ConvParams{StrideH: 1, StrideW: 1, PadH: 1, PadW: 1}},
	{n: 7, c: 3, h: 6, w: 6, f: 4, kh: 3, kw: 3, p: nn.ConvParams{StrideH: 1, StrideW: 1}},
	{n: 4, c: 16, h: 14, w: 14, f: 33, kh: 3, kw: 3, p: nn.ConvParams{StrideH: 1, StrideW: 1, PadH: 1, PadW: 1}},
	{n: 2, c: 8, h: 17, w: 17, f: 65, kh: 3, kw: 3, p: nn.ConvParams{StrideH: 2, StrideW: 2, PadH: 1, PadW: 1}},
	{n: 1, c: 30, h: 16, w: 16, f: 8, kh: 3, kw: 3, p: nn.ConvParams{StrideH: 1, StrideW: 1, PadH: 1, PadW: 1}},
	{n: 2, c: 257, h: 3, w: 3, f: 31, kh: 1, kw: 1, p: nn.ConvParams{StrideH: 1, StrideW: 1}},
}

func (s convShape) String() string {
	return fmt.Sprintf("x (%d,%d,%d,%d) w (%d,%d,%d,%d) %+v", s.n, s.c, s.h, s.w, s.f, s.c, s.kh, s.kw, s.p)
}

func testConv(h *harness) {
	for i, s := range convShapes {
		oh, ow := s.out()
		xShape, wShape, yShape := []int{s.n, s.c, s.h, s.w}, []int{s.f, s.c, s.kh, s.kw}, []int{s.n, s.f, oh, ow}
		x0, w0 := h.uniform(nn.Numel(xShape), -1, 1), h.uniform(nn.Numel(wShape), -1, 1)
		bias0, dy0 := h.uniform(s.f, -1, 1), h.uniform(nn.Numel(yShape), -1, 1)
		withBias := i%2 == 0
		got, ref := h.runBoth(func(e *env) []named {
			x, w, y := e.in(x0, xShape...), e.in(w0, wShape...), e.out(yShape...)
			var bias *nn.Tensor
			if withBias {
				bias = e.in(bias0, s.f)
			}
			e.b.Conv2D(x, w, bias, y, s.p)
			dy := e.in(dy0, yShape...)
			dx, dw, db := e.grad(xShape...), e.grad(wShape...), e.grad(s.f)
			e.b.Conv2DBackwardData(dy, w, dx, s.p)
			e.b.Conv2DBackwardFilter(x, dy, dw, db, s.p)
			// Nil gradient outputs are skipped.
			e.b.Conv2DBackwardData(dy, w, nil, s.p)
			e.b.Conv2DBackwardFilter(x, dy, nil, nil, s.p)
			dwOnly, dbOnly := e.grad(wShape...), e.grad(s.f)
			e.b.Conv2DBackwardFilter(x, dy, dwOnly, nil, s.p)
			e.b.Conv2DBackwardFilter(x, dy, nil, dbOnly, s.p)
			return []named{{"y", e.get(y)}, {"dx", e.get(dx)}, {"dw", e.get(dw)}, {"db", e.get(db)},
				{"dwOnly", e.get(dwOnly)}, {"dbOnly", e.get(dbOnly)}}
		})
		var bias64 []float64
		if withBias {
			bias64 = f64(bias0)
		}
		wantY := refConv(s, f64(x0), f64(w0), bias64)
		wantDx := refConvBackwardData(s, f64(dy0), f64(w0))
		wantDw, wantDb := refConvBackwardFilter(s, f64(x0), f64(dy0))
		caseName := fmt.Sprintf("Conv2D %v bias=%t", s, withBias)
		taps := s.c * s.kh * s.kw
		h.checkOutputs(caseName, got[:1], ref[:1], map[string][]float64{"y": wantY}, gemmTol(taps))
		h.checkOutputs(caseName, got[1:2], ref[1:2], map[string][]float64{"dx": plusInit(wantDx)},
			gemmTol(s.f*s.kh*s.kw))
		wantFilter := map[string][]float64{"dw": plusInit(wantDw), "db": plusInit(wantDb),
			"dwOnly": plusInit(wantDw), "dbOnly": plusInit(wantDb)}
		h.checkOutputs(caseName, got[2:], ref[2:], wantFilter, gemmTol(s.n*oh*ow))
	}

	// Hand-computed: a 3×3 ramp 1..9 with a 2×2 filter [1 0; 0 −1] and bias
	// 0.5 gives x[i,j] − x[i+1,j+1] + 0.5 = −3.5 everywhere.
	e := h.env(h.b)
	y := e.out(1, 1, 2, 2)
	h.b.Conv2D(e.in([]float32{1, 2, 3, 4, 5, 6, 7, 8, 9}, 1, 1, 3, 3), e.in([]float32{1, 0, 0, -1}, 1, 1, 2, 2),
		e.in([]float32{0.5}, 1), y, nn.ConvParams{StrideH: 1, StrideW: 1})
	h.checkClose("Conv2D hand values", e.get(y), []float64{-3.5, -3.5, -3.5, -3.5}, exact)

	assert.Panics(h.t, func() {
		h.b.Conv2D(e.fill(1, 1, 2, 4, 4), e.fill(1, 3, 3, 3, 3), nil, e.out(1, 3, 2, 2), nn.ConvParams{StrideH: 1, StrideW: 1})
	}, "Conv2D with x channels 2 and w channels 3 must panic")
	assert.Panics(h.t, func() {
		h.b.Conv2D(e.fill(1, 1, 3, 4, 4), e.fill(1, 3, 3, 3, 3), nil, e.out(1, 3, 3, 3), nn.ConvParams{StrideH: 1, StrideW: 1})
	}, "Conv2D with y (1,3,3,3) for a (1,3,2,2) output must panic")
}

// bnTol: normalised outputs are O(1). The CPU sums in float64, and a float32
// two-pass or Welford reduction over up to 600 values stays well inside.
var bnTol = tol{abs: 2e-5, rel: 1e-5}

// bnGradTol: dx subtracts two means from dy, which cancels digits.
var bnGradTol = tol{abs: 1e-4, rel: 1e-4}

func testBatchNorm(h *harness) {
	const eps, momentum = 1e-5, 0.1
	shapes := [][]int{{2, 3}, {64, 7}, {1, 4, 3, 3}, {5, 33, 3, 3}, {3, 2, 1, 1}, {8, 1}, {2, 3, 17, 17}}
	for si, shape := range shapes {
		for _, offset := range []float64{0, 1000} {
			n, ch := shape[0], shape[1]
			sp := nn.Numel(shape[2:])
			x0 := h.uniform(nn.Numel(shape), offset-2, offset+2)
			if si == 1 {
				// One constant channel: variance 0, y = beta.
				for i := 0; i < n; i++ {
					x0[i*ch] = float32(offset + 3)
				}
			}
			gamma0, beta0 := h.uniform(ch, 0.5, 1.5), h.uniform(ch, -1, 1)
			rm0, rv0 := h.uniform(ch, -1, 1), h.uniform(ch, 0.5, 2)
			dy0 := h.uniform(len(x0), -1, 1)
			p := nn.BatchNormParams{Training: true, Momentum: momentum, Eps: eps}
			got, ref := h.runBoth(func(e *env) []named {
				x, gamma, beta := e.in(x0, shape...), e.in(gamma0, ch), e.in(beta0, ch)
				rm, rv := e.in(rm0, ch), e.in(rv0, ch)
				sm, si, y := e.out(ch), e.out(ch), e.out(shape...)
				e.b.BatchNorm(x, gamma, beta, rm, rv, sm, si, y, p)
				yEval := e.out(shape...)
				e.b.BatchNorm(x, gamma, beta, rm, rv, nil, nil, yEval, nn.BatchNormParams{Momentum: momentum, Eps: eps})
				dx, dgamma, dbeta := e.grad(shape...), e.grad(ch), e.grad(ch)
				e.b.BatchNormBackward(x, e.in(dy0, shape...), gamma, sm, si, dx, dgamma, dbeta)
				e.b.BatchNormBackward(x, e.in(dy0, shape...), gamma, sm, si, nil, nil, nil)
				return []named{{"y", e.get(y)}, {"saveMean", e.get(sm)}, {"saveInvStd", e.get(si)},
					{"runMean", e.get(rm)}, {"runVar", e.get(rv)}, {"yEval", e.get(yEval)},
					{"dx", e.get(dx)}, {"dgamma", e.get(dgamma)}, {"dbeta", e.get(dbeta)}}
			})
			x64, g64 := f64(x0), f64(gamma0)
			mean, variance := bnStats(x64, n, ch, sp)
			count := float64(n * sp)
			want := map[string][]float64{
				"y":       refBatchNorm(x64, g64, f64(beta0), mean, variance, n, ch, sp, eps),
				"runMean": make([]float64, ch), "runVar": make([]float64, ch), "saveInvStd": make([]float64, ch),
				"saveMean": mean,
			}
			for k := 0; k < ch; k++ {
				want["saveInvStd"][k] = 1 / math.Sqrt(variance[k]+eps)
				want["runMean"][k] = (1-momentum)*float64(rm0[k]) + momentum*mean[k]
				unbiased := variance[k] * count / math.Max(count-1, 1)
				want["runVar"][k] = (1-momentum)*float64(rv0[k]) + momentum*unbiased
			}
			want["yEval"] = refBatchNorm(x64, g64, f64(beta0), want["runMean"], want["runVar"], n, ch, sp, eps)
			dx, dgamma, dbeta := refBatchNormBackward(x64, f64(dy0), g64, mean, variance, n, ch, sp, eps)
			want["dx"], want["dgamma"], want["dbeta"] = plusInit(dx), plusInit(dgamma), plusInit(dbeta)

			caseName := fmt.Sprintf("BatchNorm x %s offset %g", fmtShape(shape...), offset)
			yTol, statTol, gradTol := bnTol, tol{abs: 1e-6, rel: 1e-5}, bnGradTol
			if offset != 0 {
				// Near 1000 the float32 spacing is 6e−5: x, and the saved
				// mean the backward pass reads, carry that much error, which
				// shifts x̂ by up to 6e−5·invStd. dgamma sums that shift over
				// every value of the channel.
				yTol, statTol, gradTol = tol{abs: 2e-4, rel: 1e-5}, tol{abs: 1e-4, rel: 1e-5}, tol{abs: 2e-3, rel: 1e-3}
			}
			h.checkOutputs(caseName, got[:1], ref[:1], want, yTol)
			h.checkOutputs(caseName, got[1:6], ref[1:6], want, statTol)
			h.checkOutputs(caseName, got[6:], ref[6:], want, gradTol)
		}
	}
}

// refBatchNormBackward is the closed-form gradient of the training-mode
// forward pass with x̂ = (x − mean)/√(var + eps).
func refBatchNormBackward(x, dy, gamma, mean, variance []float64, n, ch, sp int, eps float64) (dx, dgamma, dbeta []float64) {
	dx, dgamma, dbeta = make([]float64, len(x)), make([]float64, ch), make([]float64, ch)
	count := float64(n * sp)
	for k := 0; k < ch; k++ {
		inv := 1 / math.Sqrt(variance[k]+eps)
		for i := 0; i < n; i++ {
			for j := 0; j < sp; j++ {
				at := (i*ch+k)*sp + j
				dbeta[k] += dy[at]
				dgamma[k] += dy[at] * (x[at] - mean[k]) * inv
			}
		}
		for i := 0; i < n; i++ {
			for j := 0; j < sp; j++ {
				at := (i*ch+k)*sp + j
				xhat := (x[at] - mean[k]) * inv
				dx[at] = gamma[k] * inv * (dy[at] - dbeta[k]/count - xhat*dgamma[k]/count)
			}
		}
	}
	return dx, dgamma, dbeta
}

// poolShapes cover non-overlapping and overlapping windows, odd inputs that
// drop a last row, padding, a rectangular window with unequal strides, a
// global window, and planes on both sides of 32.
var poolShapes = []poolShape{
	{n: 2, c: 3, h: 4, w: 4, p: nn.PoolParams{KH: 2, KW: 2, StrideH: 2, StrideW: 2}},
	{n: 1, c: 2, h: 7, w: 7, p: nn.PoolParams{KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadH: 1, PadW: 1}},
	{n: 2, c: 2, h: 5, w: 6, p: nn.PoolParams{KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1}},
	{n: 1, c: 3, h: 5, w: 7, p: nn.PoolParams{KH: 2, KW: 3, StrideH: 1, StrideW: 2, PadH: 1, PadW: 1}},
	{n: 2, c: 1, h: 6, w: 6, p: nn.PoolParams{KH: 6, KW: 6, StrideH: 6, StrideW: 6}},
	{n: 1, c: 2, h: 33, w: 31, p: nn.PoolParams{KH: 2, KW: 2, StrideH: 2, StrideW: 2}},
	{n: 3, c: 5, h: 32, w: 32, p: nn.PoolParams{KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadH: 1, PadW: 1}},
}

func (s poolShape) String() string {
	return fmt.Sprintf("x (%d,%d,%d,%d) %+v", s.n, s.c, s.h, s.w, s.p)
}

// distinct returns n values in [−1, 1) that differ pairwise by at least
// 1/n, in random order, so that window maxima are unique and far from ties.
func (h *harness) distinct(n int) []float32 {
	out := make([]float32, n)
	for i, j := range h.rng.Perm(n) {
		out[i] = float32(-1 + 2*float64(j)/float64(n))
	}
	return out
}

func testMaxPool(h *harness) {
	for _, s := range poolShapes {
		oh, ow := s.out()
		xShape, yShape := []int{s.n, s.c, s.h, s.w}, []int{s.n, s.c, oh, ow}
		x0, dy0 := h.distinct(nn.Numel(xShape)), h.uniform(nn.Numel(yShape), -1, 1)
		got, ref := h.runBoth(func(e *env) []named {
			x, y, dx := e.in(x0, xShape...), e.out(yShape...), e.grad(xShape...)
			e.b.MaxPool2D(x, y, s.p)
			e.b.MaxPool2DBackward(x, e.in(dy0, yShape...), dx, s.p)
			e.b.MaxPool2DBackward(x, e.in(dy0, yShape...), nil, s.p)
			return []named{{"y", e.get(y)}, {"dx", e.get(dx)}}
		})
		wantY, arg := refMaxPool(s, f64(x0))
		wantDx := make([]float64, len(x0))
		for i, at := range arg {
			wantDx[at] += float64(dy0[i])
		}
		h.checkOutputs("MaxPool2D "+s.String(), got, ref,
			map[string][]float64{"y": wantY, "dx": plusInit(wantDx)}, tol{abs: 1e-6, rel: 1e-6})
	}

	// Hand-computed: ties go to the first maximum in row-major order,
	// padding never wins over negative values, and NaN propagates.
	e := h.env(h.b)
	p := nn.PoolParams{KH: 2, KW: 2, StrideH: 2, StrideW: 2}
	x := e.in([]float32{
		5, 5, -3, -2,
		5, 5, -1, -4,
	}, 1, 1, 2, 4)
	y, dx := e.out(1, 1, 1, 2), e.grad(1, 1, 2, 4)
	h.b.MaxPool2D(x, y, p)
	h.b.MaxPool2DBackward(x, e.in([]float32{1, 2}, 1, 1, 1, 2), dx, p)
	h.checkClose("MaxPool2D ties y", e.get(y), []float64{5, -1}, exact)
	h.checkClose("MaxPool2D ties dx", e.get(dx), plusInit([]float64{1, 0, 0, 0, 0, 0, 2, 0}), exact)

	pad := nn.PoolParams{KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1}
	yPad := e.out(1, 1, 1, 2)
	h.b.MaxPool2D(e.in([]float32{-7, -5}, 1, 1, 1, 2), yPad, pad)
	h.checkClose("MaxPool2D negative input with padding", e.get(yPad), []float64{-5, -5}, exact)

	yNaN := e.out(1, 1, 1, 2)
	h.b.MaxPool2D(e.in([]float32{1, float32(math.NaN()), 3, 2, 0, 0, 1, 1}, 1, 1, 2, 4), yNaN, p)
	h.checkClose("MaxPool2D NaN in window", e.get(yNaN), []float64{math.NaN(), 3}, exact)
}

func testAvgPool(h *harness) {
	for _, s := range poolShapes {
		oh, ow := s.out()
		xShape, yShape := []int{s.n, s.c, s.h, s.w}, []int{s.n, s.c, oh, ow}
		x0, dy0 := h.uniform(nn.Numel(xShape), -1, 1), h.uniform(nn.Numel(yShape), -1, 1)
		got, ref := h.runBoth(func(e *env) []named {
			x, y, dx := e.in(x0, xShape...), e.out(yShape...), e.grad(xShape...)
			e.b.AvgPool2D(x, y, s.p)
			e.b.AvgPool2DBackward(e.in(dy0, yShape...), dx, s.p)
			e.b.AvgPool2DBackward(e.in(dy0, yShape...), nil, s.p)
			return []named{{"y", e.get(y)}, {"dx", e.get(dx)}}
		})
		want := map[string][]float64{"y": refAvgPool(s, f64(x0)), "dx": plusInit(refAvgPoolBackward(s, f64(dy0)))}
		// Sums of at most 36 values in [−1, 1].
		h.checkOutputs("AvgPool2D "+s.String(), got, ref, want, tol{abs: 1e-6, rel: 1e-6})
	}

	// Hand-computed count_include_pad: ones under a padded 3×3 window give
	// 4/9 in corners, 6/9 on edges and 1 inside.
	e := h.env(h.b)
	y := e.out(1, 1, 3, 3)
	h.b.AvgPool2D(e.fill(1, 1, 1, 3, 3), y, nn.PoolParams{KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1})
	h.checkClose("AvgPool2D count_include_pad", e.get(y),
		[]float64{4. / 9, 6. / 9, 4. / 9, 6. / 9, 1, 6. / 9, 4. / 9, 6. / 9, 4. / 9}, tol{abs: 1e-7, rel: 1e-6})
}
