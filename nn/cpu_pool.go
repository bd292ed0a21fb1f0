package nn

import (
	"fmt"
	"math"
)

// poolGeom holds the sizes of one pooling call over x (N,C,H,W) into
// y (N,C,OH,OW).
type poolGeom struct {
	planes, h, w, oh, ow int
	p                    PoolParams
}

// newPoolGeom checks x (N,C,H,W) against y (N,C,OH,OW) and returns the
// geometry.
func newPoolGeom(op, xName string, x *Tensor, yName string, y *Tensor, p PoolParams) poolGeom {
	requireRank(op, xName, x, 4)
	if p.KH < 1 || p.KW < 1 || p.StrideH < 1 || p.StrideW < 1 || p.PadH < 0 || p.PadW < 0 {
		panic(fmt.Sprintf("nn: cpu: %s: invalid %+v: window and strides must be at least 1, paddings at least 0",
			op, p))
	}
	g := poolGeom{planes: x.Shape[0] * x.Shape[1], h: x.Shape[2], w: x.Shape[3], p: p}
	g.oh, g.ow = ConvOutSize(g.h, g.w, p.KH, p.KW, p.StrideH, p.StrideW, p.PadH, p.PadW)
	if g.oh < 1 || g.ow < 1 {
		panic(fmt.Sprintf("nn: cpu: %s: a %d×%d window with %+v does not fit input %v", op, p.KH, p.KW, p, x))
	}
	requireShape(op, yName, y, x.Shape[0], x.Shape[1], g.oh, g.ow)
	return g
}

// window returns the input rows [y0, y1) and columns [x0, x1) that output
// (oy, ox) covers, clipped to the input.
func (g *poolGeom) window(oy, ox int) (y0, y1, x0, x1 int) {
	y0 = oy*g.p.StrideH - g.p.PadH
	x0 = ox*g.p.StrideW - g.p.PadW
	y1 = min(y0+g.p.KH, g.h)
	x1 = min(x0+g.p.KW, g.w)
	return max(y0, 0), y1, max(x0, 0), x1
}

// argmax returns the plane offset of the maximum of the window of output
// (oy, ox) and its value. It follows PyTorch: the first maximum in row-major
// order wins, a NaN wins over any number (the last NaN if there are several),
// and a window of −∞ values picks its first cell. A window that covers only
// padding returns −1 and −∞.
func (g *poolGeom) argmax(plane []float32, oy, ox int) (int, float32) {
	y0, y1, x0, x1 := g.window(oy, ox)
	if y0 >= y1 || x0 >= x1 {
		return -1, float32(math.Inf(-1))
	}
	best, bestVal := y0*g.w+x0, float32(math.Inf(-1))
	for iy := y0; iy < y1; iy++ {
		for ix := x0; ix < x1; ix++ {
			v := plane[iy*g.w+ix]
			if v > bestVal || v != v {
				best, bestVal = iy*g.w+ix, v
			}
		}
	}
	return best, bestVal
}

// planeGrain returns how many planes one goroutine takes.
func (g *poolGeom) planeGrain() int {
	return max(1, elementGrain/max(g.h*g.w, 1))
}

// MaxPool2D computes y as the window maxima of x, padded cells being −∞.
func (c *CPU) MaxPool2D(x, y *Tensor, p PoolParams) {
	const op = "MaxPool2D"
	g := newPoolGeom(op, "x", x, "y", y, p)
	xs, ys := data(op, "x", x), data(op, "y", y)
	c.parallelRange(g.planes, g.planeGrain(), func(lo, hi int) {
		for pl := lo; pl < hi; pl++ {
			plane := xs[pl*g.h*g.w : (pl+1)*g.h*g.w]
			out := ys[pl*g.oh*g.ow : (pl+1)*g.oh*g.ow]
			for oy := 0; oy < g.oh; oy++ {
				for ox := 0; ox < g.ow; ox++ {
					_, out[oy*g.ow+ox] = g.argmax(plane, oy, ox)
				}
			}
		}
	})
}

// MaxPool2DBackward accumulates dy into dx at each window's maximum, found
// again from x by the rule of MaxPool2D.
func (c *CPU) MaxPool2DBackward(x, dy, dx *Tensor, p PoolParams) {
	const op = "MaxPool2DBackward"
	if dx == nil {
		return
	}
	g := newPoolGeom(op, "x", x, "dy", dy, p)
	requireShape(op, "dx", dx, x.Shape...)
	xs, dys, dxs := data(op, "x", x), data(op, "dy", dy), data(op, "dx", dx)
	c.parallelRange(g.planes, g.planeGrain(), func(lo, hi int) {
		for pl := lo; pl < hi; pl++ {
			plane := xs[pl*g.h*g.w : (pl+1)*g.h*g.w]
			grad := dxs[pl*g.h*g.w : (pl+1)*g.h*g.w]
			in := dys[pl*g.oh*g.ow : (pl+1)*g.oh*g.ow]
			for oy := 0; oy < g.oh; oy++ {
				for ox := 0; ox < g.ow; ox++ {
					if at, _ := g.argmax(plane, oy, ox); at >= 0 {
						grad[at] += in[oy*g.ow+ox]
					}
				}
			}
		}
	})
}

// AvgPool2D computes y as the window sums of x divided by KH·KW, so padded
// cells count as zeros (count_include_pad).
func (c *CPU) AvgPool2D(x, y *Tensor, p PoolParams) {
	const op = "AvgPool2D"
	g := newPoolGeom(op, "x", x, "y", y, p)
	xs, ys := data(op, "x", x), data(op, "y", y)
	inv := 1 / float64(p.KH*p.KW)
	c.parallelRange(g.planes, g.planeGrain(), func(lo, hi int) {
		for pl := lo; pl < hi; pl++ {
			plane := xs[pl*g.h*g.w : (pl+1)*g.h*g.w]
			out := ys[pl*g.oh*g.ow : (pl+1)*g.oh*g.ow]
			for oy := 0; oy < g.oh; oy++ {
				for ox := 0; ox < g.ow; ox++ {
					y0, y1, x0, x1 := g.window(oy, ox)
					var sum float64
					for iy := y0; iy < y1; iy++ {
						for _, v := range plane[iy*g.w+x0 : iy*g.w+max(x1, x0)] {
							sum += float64(v)
						}
					}
					out[oy*g.ow+ox] = float32(sum * inv)
				}
			}
		}
	})
}

// AvgPool2DBackward accumulates dx += dy/(KH·KW) over every input cell of
// each window.
func (c *CPU) AvgPool2DBackward(dy, dx *Tensor, p PoolParams) {
	const op = "AvgPool2DBackward"
	if dx == nil {
		return
	}
	g := newPoolGeom(op, "dx", dx, "dy", dy, p)
	dys, dxs := data(op, "dy", dy), data(op, "dx", dx)
	inv := 1 / float32(p.KH*p.KW)
	c.parallelRange(g.planes, g.planeGrain(), func(lo, hi int) {
		for pl := lo; pl < hi; pl++ {
			grad := dxs[pl*g.h*g.w : (pl+1)*g.h*g.w]
			in := dys[pl*g.oh*g.ow : (pl+1)*g.oh*g.ow]
			for oy := 0; oy < g.oh; oy++ {
				for ox := 0; ox < g.ow; ox++ {
					share := in[oy*g.ow+ox] * inv
					y0, y1, x0, x1 := g.window(oy, ox)
					for iy := y0; iy < y1; iy++ {
						for ix := x0; ix < x1; ix++ {
							grad[iy*g.w+ix] += share
						}
					}
				}
			}
		}
	})
}
