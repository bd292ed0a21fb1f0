//go:build cuda || cudaemu

package cuda

import (
	"fmt"

	"github.com/dmtc-go/dmtc/nn"
)

// Launch geometry of kernels/pool.cu (checked by TestKernelConstantsMatch).
const (
	poolBlock  = 256
	poolBlocks = memoryMaxBlocks
)

// poolDims holds the sizes of one pooling call over x (N,C,H,W) into y
// (N,C,OH,OW).
type poolDims struct {
	n, c, h, w, oh, ow int
	p                  nn.PoolParams
}

// args returns the kernel parameters that follow the tensors.
func (d poolDims) args() []kernelArg {
	return []kernelArg{
		argInt(d.n), argInt(d.c), argInt(d.h), argInt(d.w), argInt(d.oh), argInt(d.ow),
		argInt(d.p.KH), argInt(d.p.KW), argInt(d.p.StrideH), argInt(d.p.StrideW),
		argInt(d.p.PadH), argInt(d.p.PadW),
	}
}

// poolGeometry checks x (N,C,H,W) against y (N,C,OH,OW) and p.
func (g *GPU) poolGeometry(op, xName string, x *nn.Tensor, yName string, y *nn.Tensor,
	p nn.PoolParams) poolDims {
	g.checkRank(op, xName, x, 4)
	if p.KH < 1 || p.KW < 1 || p.StrideH < 1 || p.StrideW < 1 || p.PadH < 0 || p.PadW < 0 {
		panic(fmt.Sprintf("%s: %s: invalid %+v: window and strides must be at least 1, "+
			"paddings at least 0", g.name, op, p))
	}
	d := poolDims{n: x.Shape[0], c: x.Shape[1], h: x.Shape[2], w: x.Shape[3], p: p}
	d.oh, d.ow = nn.ConvOutSize(d.h, d.w, p.KH, p.KW, p.StrideH, p.StrideW, p.PadH, p.PadW)
	if d.oh < 1 || d.ow < 1 {
		panic(fmt.Sprintf("%s: %s: a %d×%d window with %+v does not fit input %v",
			g.name, op, p.KH, p.KW, p, x))
	}
	g.checkShape(op, yName, y, d.n, d.c, d.oh, d.ow)
	return d
}

// poolLaunch queues kernel over count elements with tensors then d.args().
func (g *GPU) poolLaunch(op, kernel string, count int, d poolDims, tensors ...*nn.Tensor) {
	args := make([]kernelArg, 0, len(tensors)+12)
	for _, t := range tensors {
		args = append(args, argPtr(t))
	}
	args = append(args, d.args()...)
	g.run(op, func(e *exec) error {
		return e.launch1D(kernel, count, poolBlock, poolBlocks, args...)
	})
}

// MaxPool2D computes y as the window maxima of x; padded cells are −∞ and a
// NaN wins over any number.
func (g *GPU) MaxPool2D(x, y *nn.Tensor, p nn.PoolParams) {
	const op = "MaxPool2D"
	d := g.poolGeometry(op, "x", x, "y", y, p)
	g.poolLaunch(op, "dmtc_pool_max_forward", y.Len(), d, x, y)
}

// MaxPool2DBackward accumulates each window's dy into dx at the window's
// first maximum in row-major order. A nil dx is skipped.
func (g *GPU) MaxPool2DBackward(x, dy, dx *nn.Tensor, p nn.PoolParams) {
	const op = "MaxPool2DBackward"
	if dx == nil {
		return
	}
	d := g.poolGeometry(op, "x", x, "dy", dy, p)
	g.checkShape(op, "dx", dx, x.Shape...)
	g.poolLaunch(op, "dmtc_pool_max_backward", dx.Len(), d, x, dy, dx)
}

// AvgPool2D computes y as the window sums of x divided by KH·KW, so padded
// cells count as zeros.
func (g *GPU) AvgPool2D(x, y *nn.Tensor, p nn.PoolParams) {
	const op = "AvgPool2D"
	d := g.poolGeometry(op, "x", x, "y", y, p)
	g.poolLaunch(op, "dmtc_pool_avg_forward", y.Len(), d, x, y)
}

// AvgPool2DBackward accumulates dx += dy/(KH·KW) over every input cell of
// each window. A nil dx is skipped.
func (g *GPU) AvgPool2DBackward(dy, dx *nn.Tensor, p nn.PoolParams) {
	const op = "AvgPool2DBackward"
	if dx == nil {
		return
	}
	d := g.poolGeometry(op, "dx", dx, "dy", dy, p)
	g.poolLaunch(op, "dmtc_pool_avg_backward", dx.Len(), d, dy, dx)
}
