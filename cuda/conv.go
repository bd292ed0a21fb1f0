//go:build cuda || cudaemu

package cuda

import (
	"fmt"

	"github.com/dmtc-go/dmtc/nn"
)

// Launch geometry of kernels/conv.cu (checked by TestKernelConstantsMatch):
// a block of convThreads×convThreads threads computes a convTile×convTile
// tile of one implicit GEMM.
const (
	convTile    = 64
	convThreads = 16
)

// convDims holds the sizes of one convolution.
type convDims struct {
	n, c, h, w     int // input (N, C, H, W)
	f, kh, kw      int // filter (F, C, KH, KW)
	oh, ow         int // output (N, F, OH, OW)
	sh, sw, ph, pw int // strides and paddings
}

// args returns the kernel parameters that follow the tensors.
func (d convDims) args() []kernelArg {
	return []kernelArg{
		argInt(d.n), argInt(d.c), argInt(d.h), argInt(d.w), argInt(d.f), argInt(d.kh),
		argInt(d.kw), argInt(d.oh), argInt(d.ow), argInt(d.sh), argInt(d.sw), argInt(d.ph),
		argInt(d.pw),
	}
}

// convGeometry checks an input x (N,C,H,W), a filter w (F,C,KH,KW) and an
// output y (N,F,OH,OW) against p and returns the sizes. The names appear in
// panic messages.
func (g *GPU) convGeometry(op, xName string, x, w *nn.Tensor, yName string, y *nn.Tensor,
	p nn.ConvParams) convDims {
	g.checkRank(op, xName, x, 4)
	g.checkRank(op, "w", w, 4)
	g.checkRank(op, yName, y, 4)
	if p.StrideH < 1 || p.StrideW < 1 || p.PadH < 0 || p.PadW < 0 {
		panic(fmt.Sprintf("%s: %s: invalid %+v: strides must be at least 1 and paddings at "+
			"least 0", g.name, op, p))
	}
	d := convDims{
		n: x.Shape[0], c: x.Shape[1], h: x.Shape[2], w: x.Shape[3],
		f: w.Shape[0], kh: w.Shape[2], kw: w.Shape[3],
		sh: p.StrideH, sw: p.StrideW, ph: p.PadH, pw: p.PadW,
	}
	if w.Shape[1] != d.c {
		panic(fmt.Sprintf("%s: %s: %s %v has %d channels but w %v expects %d",
			g.name, op, xName, x, d.c, w, w.Shape[1]))
	}
	d.oh, d.ow = nn.ConvOutSize(d.h, d.w, d.kh, d.kw, d.sh, d.sw, d.ph, d.pw)
	if d.oh < 1 || d.ow < 1 || d.kh < 1 || d.kw < 1 {
		panic(fmt.Sprintf("%s: %s: a %d×%d filter with %+v does not fit input %v",
			g.name, op, d.kh, d.kw, p, x))
	}
	g.checkShape(op, yName, y, d.n, d.f, d.oh, d.ow)
	return d
}

// convLaunch queues kernel over the rows × cols output matrix of one
// implicit GEMM, with tensors then d.args() as parameters.
func convLaunch(e *exec, kernel string, rows, cols int, d convDims, tensors ...*nn.Tensor) error {
	if rows == 0 || cols == 0 {
		return nil
	}
	args := make([]kernelArg, 0, len(tensors)+13)
	for _, t := range tensors {
		args = append(args, argPtr(t))
	}
	args = append(args, d.args()...)
	grid := dim3{blocksFor(cols, convTile), blocksFor(rows, convTile), 1}
	return e.launch(kernel, grid, dim3{convThreads, convThreads, 1}, 0, args...)
}

// Conv2D computes y = conv(x, w) + bias (cross-correlation, as in PyTorch)
// for x (N,C,H,W), w (F,C,KH,KW), bias (F) or nil, y (N,F,OH,OW).
func (g *GPU) Conv2D(x, w, bias, y *nn.Tensor, p nn.ConvParams) {
	const op = "Conv2D"
	d := g.convGeometry(op, "x", x, w, "y", y, p)
	if bias != nil {
		g.checkShape(op, "bias", bias, d.f)
	}
	g.run(op, func(e *exec) error {
		return convLaunch(e, "dmtc_conv_forward", d.f, d.n*d.oh*d.ow, d, x, w, bias, y)
	})
}

// Conv2DBackwardData accumulates dx += ∂L/∂x from dy and w. A nil dx is
// skipped.
func (g *GPU) Conv2DBackwardData(dy, w, dx *nn.Tensor, p nn.ConvParams) {
	const op = "Conv2DBackwardData"
	if dx == nil {
		return
	}
	d := g.convGeometry(op, "dx", dx, w, "dy", dy, p)
	g.run(op, func(e *exec) error {
		return convLaunch(e, "dmtc_conv_backward_data", d.c, d.n*d.h*d.w, d, dy, w, dx)
	})
}

// Conv2DBackwardFilter accumulates dw += ∂L/∂w and, when db is not nil,
// db += ∂L/∂bias. Either may be nil.
func (g *GPU) Conv2DBackwardFilter(x, dy, dw, db *nn.Tensor, p nn.ConvParams) {
	const op = "Conv2DBackwardFilter"
	if dw == nil && db == nil {
		return
	}
	if dw == nil {
		g.BiasBackward(dy, db)
		return
	}
	d := g.convGeometry(op, "x", x, dw, "dy", dy, p)
	if db != nil {
		g.checkShape(op, "db", db, d.f)
	}
	g.run(op, func(e *exec) error {
		err := convLaunch(e, "dmtc_conv_backward_filter", d.f, d.c*d.kh*d.kw, d, x, dy, dw)
		if err != nil || db == nil {
			return err
		}
		return launchBiasBackward(e, dy, db, d.n, d.f, d.oh*d.ow)
	})
}
