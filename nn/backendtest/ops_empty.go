package backendtest

import "github.com/dmtc-go/dmtc/nn"

// testEmptyBatch runs the batched ops on a batch of zero samples: they must
// not write anything (the guard bands stay NaN), gradient outputs keep
// gradInit, losses are 0 and running statistics stay as they were.
func testEmptyBatch(h *harness) {
	e := h.env(h.b)
	p := nn.ConvParams{StrideH: 1, StrideW: 1, PadH: 1, PadW: 1}
	x, w, y := e.out(0, 3, 5, 5), e.fill(0.5, 4, 3, 3, 3), e.out(0, 4, 5, 5)
	h.b.Conv2D(x, w, e.fill(1, 4), y, p)
	dw, db := e.grad(4, 3, 3, 3), e.grad(4)
	h.b.Conv2DBackwardFilter(x, y, dw, db, p)
	h.b.Conv2DBackwardData(y, w, e.grad(0, 3, 5, 5), p)
	h.checkClose("Conv2D empty batch dw", e.get(dw), plusInit(make([]float64, 4*3*3*3)), exact)
	h.checkClose("Conv2D empty batch db", e.get(db), plusInit(make([]float64, 4)), exact)

	rm, rv := e.in([]float32{1, 2}, 2), e.in([]float32{3, 4}, 2)
	h.b.BatchNorm(e.out(0, 2), e.fill(1, 2), e.fill(0, 2), rm, rv, e.out(2), e.out(2), e.out(0, 2),
		nn.BatchNormParams{Training: true, Momentum: 0.1, Eps: 1e-5})
	h.checkClose("BatchNorm empty batch runMean", e.get(rm), []float64{1, 2}, exact)
	h.checkClose("BatchNorm empty batch runVar", e.get(rv), []float64{3, 4}, exact)

	h.b.Softmax(e.out(0, 5), e.out(0, 5))
	h.b.MaxPool2D(e.out(0, 2, 4, 4), e.out(0, 2, 2, 2), nn.PoolParams{KH: 2, KW: 2, StrideH: 2, StrideW: 2})
	loss := h.b.CrossEntropy(e.out(0, 5), e.out(0), e.grad(0, 5), 1)
	h.checkScalar("CrossEntropy empty batch loss", loss, 0, exact)
	loss = h.b.BinaryCrossEntropy(e.out(0), e.out(0), e.grad(0), 1)
	h.checkScalar("BinaryCrossEntropy empty batch loss", loss, 0, exact)
	h.b.CosineSimilarity(e.out(0, 3), e.fill(1, 4, 3), e.out(0, 4))
	h.b.TopK(e.out(0, 4), e.out(0, 2), 2, true)
}
