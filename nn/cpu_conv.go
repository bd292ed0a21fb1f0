package nn

import "fmt"

// Convolution on the CPU is im2col + GEMM. For one sample, im2col unrolls x
// (C,H,W) into col (C·KH·KW, OH·OW), row (c,i,j) holding the input cell that
// filter tap (i,j) of channel c sees at each output position, 0 in padding.
// Then y (F, OH·OW) = w (F, C·KH·KW) · col. A 1×1 convolution with stride 1
// and no padding uses x directly as col.
//
// Work is split over samples. Each sample's GEMM uses the fixed tiling of
// gemmJob and the filter gradient is summed over samples in sample order, so
// results are bitwise identical for any thread count.

// convGeom holds the sizes of one convolution.
type convGeom struct {
	n, c, h, w     int // input (N, C, H, W)
	f, kh, kw      int // filter (F, C, KH, KW)
	oh, ow         int // output (N, F, OH, OW)
	sh, sw, ph, pw int // strides and paddings
}

// colRows is C·KH·KW, the inner dimension of the convolution GEMM.
func (g *convGeom) colRows() int { return g.c * g.kh * g.kw }

// colCols is OH·OW, the number of output positions.
func (g *convGeom) colCols() int { return g.oh * g.ow }

// pointwise reports whether col equals x, so im2col can be skipped.
func (g *convGeom) pointwise() bool {
	return g.kh == 1 && g.kw == 1 && g.sh == 1 && g.sw == 1 && g.ph == 0 && g.pw == 0
}

// newConvGeom checks the shapes of an input x (N,C,H,W), a filter w
// (F,C,KH,KW) and an output y (N,F,OH,OW) and returns the geometry. The names
// appear in the panic messages.
func newConvGeom(op, xName string, x, w *Tensor, yName string, y *Tensor, p ConvParams) convGeom {
	requireRank(op, xName, x, 4)
	requireRank(op, "w", w, 4)
	requireRank(op, yName, y, 4)
	if p.StrideH < 1 || p.StrideW < 1 || p.PadH < 0 || p.PadW < 0 {
		panic(fmt.Sprintf("nn: cpu: %s: invalid %+v: strides must be at least 1 and paddings at least 0",
			op, p))
	}
	g := convGeom{
		n: x.Shape[0], c: x.Shape[1], h: x.Shape[2], w: x.Shape[3],
		f: w.Shape[0], kh: w.Shape[2], kw: w.Shape[3],
		sh: p.StrideH, sw: p.StrideW, ph: p.PadH, pw: p.PadW,
	}
	if w.Shape[1] != g.c {
		panic(fmt.Sprintf("nn: cpu: %s: %s %v has %d channels but w %v expects %d",
			op, xName, x, g.c, w, w.Shape[1]))
	}
	g.oh, g.ow = ConvOutSize(g.h, g.w, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw)
	if g.oh < 1 || g.ow < 1 || g.kh < 1 || g.kw < 1 {
		panic(fmt.Sprintf("nn: cpu: %s: a %d×%d filter with %+v does not fit input %v",
			op, g.kh, g.kw, p, x))
	}
	requireShape(op, yName, y, g.n, g.f, g.oh, g.ow)
	return g
}

// validOutRange returns the output positions [lo, hi) among out whose input
// index o·stride + off lies in [0, size).
func validOutRange(off, stride, size, out int) (lo, hi int) {
	if off < 0 {
		lo = (-off + stride - 1) / stride
	}
	if size-1-off < 0 {
		return 0, 0
	}
	hi = min(out, (size-1-off)/stride+1)
	return min(lo, hi), hi
}

// im2col unrolls one sample x (C,H,W) into col (C·KH·KW, OH·OW).
func (g *convGeom) im2col(x, col []float32) {
	p := g.colCols()
	for ci := 0; ci < g.c; ci++ {
		plane := x[ci*g.h*g.w : (ci+1)*g.h*g.w]
		for ki := 0; ki < g.kh; ki++ {
			for kj := 0; kj < g.kw; kj++ {
				r := (ci*g.kh+ki)*g.kw + kj
				row := col[r*p : (r+1)*p]
				off := kj - g.pw
				lo, hi := validOutRange(off, g.sw, g.w, g.ow)
				for oy := 0; oy < g.oh; oy++ {
					dst := row[oy*g.ow : (oy+1)*g.ow]
					iy := oy*g.sh - g.ph + ki
					if iy < 0 || iy >= g.h {
						clear(dst)
						continue
					}
					src := plane[iy*g.w : (iy+1)*g.w]
					clear(dst[:lo])
					clear(dst[hi:])
					if g.sw == 1 {
						copy(dst[lo:hi], src[lo+off:hi+off])
						continue
					}
					for ox := lo; ox < hi; ox++ {
						dst[ox] = src[ox*g.sw+off]
					}
				}
			}
		}
	}
}

// col2imAdd adds col (C·KH·KW, OH·OW) back onto one sample x (C,H,W), the
// adjoint of im2col.
func (g *convGeom) col2imAdd(col, x []float32) {
	p := g.colCols()
	for ci := 0; ci < g.c; ci++ {
		plane := x[ci*g.h*g.w : (ci+1)*g.h*g.w]
		for ki := 0; ki < g.kh; ki++ {
			for kj := 0; kj < g.kw; kj++ {
				r := (ci*g.kh+ki)*g.kw + kj
				row := col[r*p : (r+1)*p]
				off := kj - g.pw
				lo, hi := validOutRange(off, g.sw, g.w, g.ow)
				for oy := 0; oy < g.oh; oy++ {
					iy := oy*g.sh - g.ph + ki
					if iy < 0 || iy >= g.h {
						continue
					}
					src := row[oy*g.ow : (oy+1)*g.ow]
					dst := plane[iy*g.w : (iy+1)*g.w]
					for ox := lo; ox < hi; ox++ {
						dst[ox*g.sw+off] += src[ox]
					}
				}
			}
		}
	}
}

// forEachSample calls body(n, scratch, parallelGemm) for every sample n. With
// at least as many samples as threads, samples run concurrently and each
// body runs its GEMM serially. With fewer, samples run one after another and
// each body should spread its GEMM tiles over the threads. Both give the
// same bits. scratch is a per-worker buffer of scratchLen elements. The
// caller must hold c.mu.
func (c *CPU) forEachSample(n, scratchLen int, body func(n int, scratch []float32, parallelGemm bool)) {
	if n >= c.threads {
		c.parallelFor(n, func(w, i int) {
			body(i, c.scratchBuf(w, scratchLen), false)
		})
		return
	}
	scratch := c.scratchBuf(0, scratchLen)
	for i := 0; i < n; i++ {
		body(i, scratch, true)
	}
}

// runGemm runs g serially or with its tiles spread over the threads.
func (c *CPU) runGemm(g *gemmJob, parallel bool) {
	if !parallel {
		gemmSerial(g)
		return
	}
	// The goroutines share a copy, so that g itself does not escape to
	// the heap on the serial path.
	shared := *g
	c.gemmParallel(&shared)
}

// Conv2D computes y = conv(x, w) + bias (cross-correlation).
func (c *CPU) Conv2D(x, w, bias, y *Tensor, p ConvParams) {
	const op = "Conv2D"
	g := newConvGeom(op, "x", x, w, "y", y, p)
	xs, ws, ys := data(op, "x", x), data(op, "w", w), data(op, "y", y)
	var bs []float32
	if bias != nil {
		requireShape(op, "bias", bias, g.f)
		bs = data(op, "bias", bias)
	}
	rows, cols := g.colRows(), g.colCols()
	inLen, outLen := g.c*g.h*g.w, g.f*cols
	scratchLen := rows * cols
	if g.pointwise() {
		scratchLen = 0
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	c.forEachSample(g.n, scratchLen, func(n int, col []float32, parallelGemm bool) {
		xn := xs[n*inLen : (n+1)*inLen]
		yn := ys[n*outLen : (n+1)*outLen]
		if !g.pointwise() {
			g.im2col(xn, col)
			xn = col
		}
		job := gemmJob{
			m: g.f, n: cols, k: rows, alpha: 1,
			a: ws, lda: rows, b: xn, ldb: cols, beta: 0, c: yn, ldc: cols,
		}
		c.runGemm(&job, parallelGemm)
		for f, b := range bs {
			seg := yn[f*cols : (f+1)*cols]
			for i := range seg {
				seg[i] += b
			}
		}
	})
}

// Conv2DBackwardData accumulates dx += ∂L/∂x: per sample, dcol = wᵀ·dy and
// dx += col2im(dcol).
func (c *CPU) Conv2DBackwardData(dy, w, dx *Tensor, p ConvParams) {
	const op = "Conv2DBackwardData"
	if dx == nil {
		return
	}
	g := newConvGeom(op, "dx", dx, w, "dy", dy, p)
	dys, ws, dxs := data(op, "dy", dy), data(op, "w", w), data(op, "dx", dx)
	rows, cols := g.colRows(), g.colCols()
	inLen, outLen := g.c*g.h*g.w, g.f*cols
	scratchLen := rows * cols
	if g.pointwise() {
		scratchLen = 0
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	c.forEachSample(g.n, scratchLen, func(n int, dcol []float32, parallelGemm bool) {
		dxn := dxs[n*inLen : (n+1)*inLen]
		job := gemmJob{
			transA: true,
			m:      rows, n: cols, k: g.f, alpha: 1,
			a: ws, lda: rows, b: dys[n*outLen : (n+1)*outLen], ldb: cols,
		}
		if g.pointwise() {
			// dx (C, H·W) += wᵀ (C, F) · dy (F, H·W) directly.
			job.beta, job.c, job.ldc = 1, dxn, cols
			c.runGemm(&job, parallelGemm)
			return
		}
		job.beta, job.c, job.ldc = 0, dcol, cols
		c.runGemm(&job, parallelGemm)
		g.col2imAdd(dcol, dxn)
	})
}

// Conv2DBackwardFilter accumulates dw += Σ_n dy_n·col_nᵀ and db += Σ dy. The
// per-sample products are computed concurrently into one buffer per round
// slot and added to dw in sample order.
func (c *CPU) Conv2DBackwardFilter(x, dy, dw, db *Tensor, p ConvParams) {
	const op = "Conv2DBackwardFilter"
	if dw == nil && db == nil {
		return
	}
	if dw == nil {
		c.BiasBackward(dy, db)
		return
	}
	g := newConvGeom(op, "x", x, dw, "dy", dy, p)
	if db != nil {
		requireShape(op, "db", db, g.f)
	}
	xs, dys, dws := data(op, "x", x), data(op, "dy", dy), data(op, "dw", dw)
	rows, cols := g.colRows(), g.colCols()
	inLen, outLen, wLen := g.c*g.h*g.w, g.f*cols, g.f*rows
	scratchLen := rows * cols
	if g.pointwise() {
		scratchLen = 0
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	// filterProduct writes dy_n·col_nᵀ into part.
	filterProduct := func(n int, col, part []float32, parallelGemm bool) {
		xn := xs[n*inLen : (n+1)*inLen]
		if !g.pointwise() {
			g.im2col(xn, col)
			xn = col
		}
		job := gemmJob{
			transB: true,
			m:      g.f, n: rows, k: cols, alpha: 1,
			a: dys[n*outLen : (n+1)*outLen], lda: cols, b: xn, ldb: cols,
			beta: 0, c: part, ldc: rows,
		}
		c.runGemm(&job, parallelGemm)
	}
	// addSlots adds the first count slot buffers to dw in slot order.
	addSlots := func(count int) {
		c.parallelRange(wLen, elementGrain, func(lo, hi int) {
			acc := dws[lo:hi]
			for slot := 0; slot < count; slot++ {
				part := c.partials[slot][lo:hi]
				for i := range acc {
					acc[i] += part[i]
				}
			}
		})
	}
	if g.n < c.threads {
		// Too few samples to go round: spread each sample's GEMM instead.
		for n := 0; n < g.n; n++ {
			filterProduct(n, c.scratchBuf(0, scratchLen), c.partialBuf(0, wLen), true)
			addSlots(1)
		}
	} else {
		for r0 := 0; r0 < g.n; r0 += c.threads {
			count := min(c.threads, g.n-r0)
			c.parallelFor(count, func(w, slot int) {
				filterProduct(r0+slot, c.scratchBuf(w, scratchLen), c.partialBuf(slot, wLen), false)
			})
			addSlots(count)
		}
	}
	if db != nil {
		c.BiasBackward(dy, db)
	}
}
