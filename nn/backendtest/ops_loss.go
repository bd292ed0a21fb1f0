package backendtest

import (
	"fmt"
	"math"

	"github.com/stretchr/testify/assert"

	"github.com/dmtc-go/dmtc/nn"
)

// rowShapes are (rows, columns) for the row-wise ops: one element, columns
// on both sides of 32 and 256 (GPU warp and block sizes), and many short
// rows.
var rowShapes = [][2]int{{1, 1}, {2, 3}, {5, 31}, {3, 32}, {4, 33}, {2, 255}, {1, 256}, {3, 257}, {300, 10}}

// softmaxTol: probabilities carry a float32 exp's relative error.
var softmaxTol = tol{abs: 1e-7, rel: 1e-5}

// logSoftmaxTol: log-probabilities down to about −10 have float32 spacing
// 1e−6, and x − lse cancels digits when x is near the maximum.
var logSoftmaxTol = tol{abs: 2e-6, rel: 1e-6}

func testSoftmax(h *harness) {
	for _, rc := range rowShapes {
		n, k := rc[0], rc[1]
		x0, dy0 := h.uniform(n*k, -5, 5), h.uniform(n*k, -1, 1)
		got, ref := h.runBoth(func(e *env) []named {
			x, y, ly := e.in(x0, n, k), e.out(n, k), e.out(n, k)
			e.b.Softmax(x, y)
			e.b.LogSoftmax(x, ly)
			dx, dlx := e.grad(n, k), e.grad(n, k)
			e.b.SoftmaxBackward(y, e.in(dy0, n, k), dx)
			e.b.LogSoftmaxBackward(ly, e.in(dy0, n, k), dlx)
			e.b.SoftmaxBackward(y, e.in(dy0, n, k), nil)
			e.b.LogSoftmaxBackward(ly, e.in(dy0, n, k), nil)
			return []named{{"softmax", e.get(y)}, {"logSoftmax", e.get(ly)},
				{"softmaxDx", e.get(dx)}, {"logSoftmaxDx", e.get(dlx)}}
		})
		y := refSoftmax(f64(x0), n, k)
		dx, dlx := make([]float64, n*k), make([]float64, n*k)
		for i := 0; i < n; i++ {
			var dot, sum float64
			for j := 0; j < k; j++ {
				dot += y[i*k+j] * float64(dy0[i*k+j])
				sum += float64(dy0[i*k+j])
			}
			for j := 0; j < k; j++ {
				dx[i*k+j] = y[i*k+j] * (float64(dy0[i*k+j]) - dot)
				dlx[i*k+j] = float64(dy0[i*k+j]) - y[i*k+j]*sum
			}
		}
		caseName := fmt.Sprintf("Softmax x (%d,%d)", n, k)
		h.checkOutputs(caseName, got[:1], ref[:1], map[string][]float64{"softmax": y}, softmaxTol)
		h.checkOutputs(caseName, got[1:2], ref[1:2], map[string][]float64{"logSoftmax": refLogSoftmax(f64(x0), n, k)},
			logSoftmaxTol)
		h.checkOutputs(caseName, got[2:], ref[2:], map[string][]float64{"softmaxDx": plusInit(dx),
			"logSoftmaxDx": plusInit(dlx)}, tol{abs: 1e-6, rel: 1e-5})
	}

	// Hard values: the maximum is subtracted before exp, so huge and hugely
	// negative logits neither overflow nor lose the result.
	e := h.env(h.b)
	cases := []struct {
		x               []float32
		softmax, logSof []float64
	}{
		{[]float32{-1e7, -1e7, -1e7}, []float64{1. / 3, 1. / 3, 1. / 3}, []float64{-1.0986123, -1.0986123, -1.0986123}},
		{[]float32{1e4, 0, -1e4}, []float64{1, 0, 0}, []float64{0, -1e4, -2e4}},
		{[]float32{1, 2, 3}, []float64{0.09003057317038046, 0.24472847105479764, 0.6652409557748219},
			[]float64{-2.40760596444438, -1.40760596444438, -0.4076059644443803}},
		{[]float32{42}, []float64{1}, []float64{0}},
	}
	for _, c := range cases {
		k := len(c.x)
		y, ly := e.out(1, k), e.out(1, k)
		h.b.Softmax(e.in(c.x, 1, k), y)
		h.b.LogSoftmax(e.in(c.x, 1, k), ly)
		h.checkClose(fmt.Sprintf("Softmax of %v", c.x), e.get(y), c.softmax, softmaxTol)
		h.checkClose(fmt.Sprintf("LogSoftmax of %v", c.x), e.get(ly), c.logSof, logSoftmaxTol)
	}
}

// lossTol: a loss is a float32 mean of a few hundred float32 terms.
var lossTol = tol{abs: 1e-6, rel: 1e-5}

// lossGradTol: per-element gradients of a mean are O(1/count).
var lossGradTol = tol{abs: 1e-7, rel: 1e-5}

func testCrossEntropy(h *harness) {
	const scale = 0.7
	for _, rc := range [][2]int{{1, 1}, {4, 3}, {33, 10}, {257, 5}, {3, 300}} {
		n, k := rc[0], rc[1]
		x0 := h.uniform(n*k, -4, 4)
		labels := make([]int, n)
		labels32 := make([]float32, n)
		for i := range labels {
			labels[i] = h.rng.IntN(k)
			if n > 1 && h.rng.IntN(4) == 0 {
				labels[i] = -1
			}
			labels32[i] = float32(labels[i])
		}
		var losses []float32
		got, ref := h.runBoth(func(e *env) []named {
			dx := e.grad(n, k)
			loss := e.b.CrossEntropy(e.in(x0, n, k), e.in(labels32, n), dx, scale)
			losses = append(losses, loss, e.b.CrossEntropy(e.in(x0, n, k), e.in(labels32, n), nil, scale))
			return []named{{"dlogits", e.get(dx)}}
		})
		caseName := fmt.Sprintf("CrossEntropy logits (%d,%d)", n, k)
		want := refCrossEntropy(f64(x0), labels, k)
		h.checkScalar(caseName+" loss", losses[0], want, lossTol)
		h.checkScalar(caseName+" loss without gradient", losses[1], want, lossTol)
		h.checkScalar(caseName+" loss vs CPU reference", losses[0], float64(losses[2]), lossTol)

		p := refSoftmax(f64(x0), n, k)
		count := 0
		for _, l := range labels {
			if l >= 0 {
				count++
			}
		}
		dx := make([]float64, n*k)
		for i, l := range labels {
			if l < 0 {
				continue
			}
			for j := 0; j < k; j++ {
				dx[i*k+j] = p[i*k+j]
				if j == l {
					dx[i*k+j]--
				}
				dx[i*k+j] *= scale / float64(count)
			}
		}
		h.checkOutputs(caseName, got, ref, map[string][]float64{"dlogits": plusInit(dx)}, lossGradTol)
	}

	// Hand-computed: row 0 is ln 2 with gradient (−½, ½), row 1 is unlabelled
	// and gets no gradient, and huge logits stay finite.
	e := h.env(h.b)
	dx := e.grad(2, 2)
	loss := h.b.CrossEntropy(e.in([]float32{0, 0, 1, 2}, 2, 2), e.in([]float32{0, -1}, 2), dx, 1)
	h.checkScalar("CrossEntropy hand value loss", loss, math.Ln2, lossTol)
	h.checkClose("CrossEntropy hand value dlogits", e.get(dx), plusInit([]float64{-0.5, 0.5, 0, 0}), lossGradTol)

	dxNone := e.grad(2, 2)
	loss = h.b.CrossEntropy(e.in([]float32{0, 0, 1, 2}, 2, 2), e.in([]float32{-1, -1}, 2), dxNone, 1)
	h.checkScalar("CrossEntropy with no labels", loss, 0, exact)
	h.checkClose("CrossEntropy with no labels dlogits", e.get(dxNone), plusInit(make([]float64, 4)), exact)

	dxBig := e.grad(1, 2)
	loss = h.b.CrossEntropy(e.in([]float32{1e4, -1e4}, 1, 2), e.in([]float32{1}, 1), dxBig, 2)
	h.checkScalar("CrossEntropy of logits ±1e4", loss, 2e4, lossTol)
	h.checkClose("CrossEntropy of logits ±1e4 dlogits", e.get(dxBig), plusInit([]float64{2, -2}), lossGradTol)

	assert.Panics(h.t, func() { h.b.CrossEntropy(e.fill(0, 2, 3), e.in([]float32{0, 3}, 2), nil, 1) },
		"CrossEntropy with label 3 for 3 classes must panic")
}

func testBCE(h *harness) {
	const scale = 1.5
	for _, n := range []int{1, 33, 1000} {
		p0, t0 := h.uniform(n, 0.01, 0.99), h.uniform(n, 0, 1)
		for i := range t0 {
			if i%3 == 0 {
				t0[i] = float32(h.rng.IntN(2))
			}
		}
		var losses []float32
		got, ref := h.runBoth(func(e *env) []named {
			dp := e.grad(n)
			losses = append(losses, e.b.BinaryCrossEntropy(e.in(p0, n), e.in(t0, n), dp, scale))
			return []named{{"dp", e.get(dp)}}
		})
		caseName := fmt.Sprintf("BinaryCrossEntropy n=%d", n)
		want := refBCE(f64(p0), f64(t0))
		h.checkScalar(caseName+" loss", losses[0], want, lossTol)
		h.checkScalar(caseName+" loss vs CPU reference", losses[0], float64(losses[1]), lossTol)
		dp := make([]float64, n)
		for i := range dp {
			p, t := float64(p0[i]), float64(t0[i])
			dp[i] = scale * (p - t) / (p * (1 - p)) / float64(n)
		}
		h.checkOutputs(caseName, got, ref, map[string][]float64{"dp": plusInit(dp)}, lossGradTol)
	}

	// Hand-computed: p is clamped to [1e−7, 1 − 1e−7] and the gradient is 0
	// where it was clamped.
	e := h.env(h.b)
	p := []float32{0.5, 0, 1, 0, 0.5}
	t := []float32{1, 1, 0, 0, 0}
	dp := e.grad(5)
	loss := h.b.BinaryCrossEntropy(e.in(p, 5), e.in(t, 5), dp, 1)
	want := refBCE(f64(p), f64(t))
	h.checkScalar("BinaryCrossEntropy clamped loss", loss, want, lossTol)
	h.checkScalar("BinaryCrossEntropy clamped loss hand value", loss,
		(math.Ln2-math.Log(1e-7)-math.Log(1-float64(bceHigh))-math.Log(1-1e-7)+math.Ln2)/5, lossTol)
	h.checkClose("BinaryCrossEntropy clamped dp", e.get(dp), plusInit([]float64{-0.4, 0, 0, 0, 0.4}), lossGradTol)
}

func testJSD(h *harness) {
	const scale = 0.5
	for _, sz := range [][2]int{{7, 13}, {1, 1}, {257, 31}, {5, 0}, {0, 3}} {
		np, nq := sz[0], sz[1]
		pos0, neg0 := h.uniform(np, -5, 5), h.uniform(nq, -5, 5)
		var losses []float32
		got, ref := h.runBoth(func(e *env) []named {
			dpos, dneg := e.grad(np), e.grad(nq)
			losses = append(losses, e.b.JSDMutualInfo(e.in(pos0, np), e.in(neg0, nq), dpos, dneg, scale))
			e.b.JSDMutualInfo(e.in(pos0, np), e.in(neg0, nq), nil, nil, scale)
			return []named{{"dpos", e.get(dpos)}, {"dneg", e.get(dneg)}}
		})
		caseName := fmt.Sprintf("JSDMutualInfo pos %d neg %d", np, nq)
		want := refJSD(f64(pos0), f64(neg0))
		h.checkScalar(caseName+" loss", losses[0], want, lossTol)
		h.checkScalar(caseName+" loss vs CPU reference", losses[0], float64(losses[1]), lossTol)
		dpos, dneg := make([]float64, np), make([]float64, nq)
		for i, v := range pos0 {
			dpos[i] = -scale * refActivate(nn.Sigmoid, -float64(v)) / float64(np)
		}
		for i, v := range neg0 {
			dneg[i] = scale * refActivate(nn.Sigmoid, float64(v)) / float64(nq)
		}
		h.checkOutputs(caseName, got, ref, map[string][]float64{"dpos": plusInit(dpos), "dneg": plusInit(dneg)},
			lossGradTol)
	}

	// Hand-computed: D = 0 gives 2·ln 2, and scores of ±1e10 stay finite.
	e := h.env(h.b)
	loss := h.b.JSDMutualInfo(e.in([]float32{0}, 1), e.in([]float32{0}, 1), nil, nil, 1)
	h.checkScalar("JSDMutualInfo at 0", loss, 2*math.Ln2, lossTol)
	dpos, dneg := e.grad(2), e.grad(1)
	loss = h.b.JSDMutualInfo(e.in([]float32{1e10, -1e10}, 2), e.in([]float32{-1e10}, 1), dpos, dneg, 1)
	h.checkScalar("JSDMutualInfo at ±1e10", loss, 5e9, lossTol)
	h.checkClose("JSDMutualInfo at ±1e10 dpos", e.get(dpos), plusInit([]float64{0, -0.5}), lossGradTol)
	h.checkClose("JSDMutualInfo at ±1e10 dneg", e.get(dneg), plusInit([]float64{0}), lossGradTol)
}
