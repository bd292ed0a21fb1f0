//go:build cuda || cudaemu

package cuda

import (
	"fmt"

	"github.com/dmtc-go/dmtc/nn"
)

// Launch geometry of kernels/graph.cu (checked by TestKernelConstantsMatch).
const (
	rowBlock    = 256
	cosineTile  = 16
	topKBlock   = 128
	graphBlock  = 256
	graphBlocks = memoryMaxBlocks
)

// L2NormalizeRows writes y = x / max(‖x‖, 1e−12) row by row for x (N, D)
// and stores each row's norm in norms (N) when norms is not nil.
func (g *GPU) L2NormalizeRows(x, y, norms *nn.Tensor) {
	const op = "L2NormalizeRows"
	n, d := g.matrixDims(op, "x", x)
	g.checkShape(op, "y", y, n, d)
	if norms != nil {
		g.checkShape(op, "norms", norms, n)
	}
	if n == 0 {
		return
	}
	g.run(op, func(e *exec) error {
		return e.launch("dmtc_graph_l2norm", dim3{n, 1, 1}, dim3{rowBlock, 1, 1}, 0,
			argPtr(x), argPtr(y), argPtr(norms), argInt(n), argInt(d))
	})
}

// L2NormalizeRowsBackward accumulates dx from y, norms and dy. A nil dx is
// skipped.
func (g *GPU) L2NormalizeRowsBackward(y, norms, dy, dx *nn.Tensor) {
	const op = "L2NormalizeRowsBackward"
	if dx == nil {
		return
	}
	n, d := g.matrixDims(op, "y", y)
	g.checkShape(op, "norms", norms, n)
	g.checkShape(op, "dy", dy, n, d)
	g.checkShape(op, "dx", dx, n, d)
	if n == 0 {
		return
	}
	g.run(op, func(e *exec) error {
		return e.launch("dmtc_graph_l2norm_backward", dim3{n, 1, 1}, dim3{rowBlock, 1, 1}, 0,
			argPtr(y), argPtr(norms), argPtr(dy), argPtr(dx), argInt(n), argInt(d))
	})
}

// CosineSimilarity writes s[i,j] = cos(a_i, b_j) for a (N, D), b (M, D), s
// (N, M), clamped to [−1, 1]. A zero vector has similarity 0 with everything.
func (g *GPU) CosineSimilarity(a, b, s *nn.Tensor) {
	const op = "CosineSimilarity"
	n, d := g.matrixDims(op, "a", a)
	m, db := g.matrixDims(op, "b", b)
	if db != d {
		panic(fmt.Sprintf("%s: %s: a %v and b %v differ in row length", g.name, op, a, b))
	}
	g.checkShape(op, "s", s, n, m)
	if n == 0 || m == 0 {
		return
	}
	grid := dim3{blocksFor(m, cosineTile), blocksFor(n, cosineTile), 1}
	g.run(op, func(e *exec) error {
		return e.launch("dmtc_graph_cosine", grid, dim3{cosineTile, cosineTile, 1}, 0,
			argPtr(a), argPtr(b), argPtr(s), argInt(n), argInt(m), argInt(d))
	})
}

// ThresholdGraph writes g[i,j] = 1 where s[i,j] ≥ tau, else 0.
func (g *GPU) ThresholdGraph(s, graph *nn.Tensor, tau float32) {
	const op = "ThresholdGraph"
	n := lenOf(s)
	g.checkShape(op, "g", graph, s.Shape...)
	g.run(op, func(e *exec) error {
		return e.launch1D("dmtc_graph_threshold", n, graphBlock, graphBlocks,
			argPtr(s), argPtr(graph), argInt(n), argFloat(tau))
	})
}

// TopK writes into idx (N, k) the column indices of the k largest values of
// each row of s (N, M), largest first, ties to the lowest index, NaN after
// every number. With excludeDiagonal, column i is never chosen for row i.
// Slots beyond the number of candidates are −1.
func (g *GPU) TopK(s, idx *nn.Tensor, k int, excludeDiagonal bool) {
	const op = "TopK"
	n, m := g.matrixDims(op, "s", s)
	if k < 0 {
		panic(fmt.Sprintf("%s: %s: k = %d is negative", g.name, op, k))
	}
	g.checkShape(op, "idx", idx, n, k)
	if n == 0 || k == 0 {
		return
	}
	exclude := 0
	if excludeDiagonal {
		exclude = 1
	}
	g.run(op, func(e *exec) error {
		return e.launch("dmtc_graph_topk", dim3{n, 1, 1}, dim3{topKBlock, 1, 1}, 0,
			argPtr(s), argPtr(idx), argInt(n), argInt(m), argInt(k), argInt(exclude))
	})
}

// TileConcat writes out (N, K+C, H, W): channels 0..K−1 are y (N, K)
// repeated over the H×W grid, the rest are m (N, C, H, W).
func (g *GPU) TileConcat(y, m, out *nn.Tensor) {
	const op = "TileConcat"
	n, k := g.matrixDims(op, "y", y)
	g.checkRank(op, "m", m, 4)
	if m.Shape[0] != n {
		panic(fmt.Sprintf("%s: %s: y %v and m %v differ in batch size", g.name, op, y, m))
	}
	c, hw := m.Shape[1], m.Shape[2]*m.Shape[3]
	g.checkShape(op, "out", out, n, k+c, m.Shape[2], m.Shape[3])
	g.run(op, func(e *exec) error {
		return e.launch1D("dmtc_graph_tile_concat", n*(k+c)*hw, graphBlock, graphBlocks,
			argPtr(y), argPtr(m), argPtr(out), argInt(n), argInt(k), argInt(c), argInt(hw))
	})
}

// TileConcatBackward accumulates dy += the grid sum of dout's first K
// channels and dm += its remaining channels. Either output may be nil.
func (g *GPU) TileConcatBackward(dout, dy, dm *nn.Tensor) {
	const op = "TileConcatBackward"
	if dy == nil && dm == nil {
		return
	}
	g.checkRank(op, "dout", dout, 4)
	n, total := dout.Shape[0], dout.Shape[1]
	h, w := dout.Shape[2], dout.Shape[3]
	k := 0
	if dy != nil {
		_, k = g.matrixDims(op, "dy", dy)
		g.checkShape(op, "dy", dy, n, k)
	}
	if dm != nil {
		g.checkRank(op, "dm", dm, 4)
		if dy == nil {
			k = total - dm.Shape[1]
		}
	}
	if k < 0 || k > total {
		panic(fmt.Sprintf("%s: %s: %d tiled channels do not fit dout %v", g.name, op, k, dout))
	}
	c := total - k
	if dm != nil {
		g.checkShape(op, "dm", dm, n, c, h, w)
	}
	g.run(op, func(e *exec) error {
		if dy != nil {
			err := e.launch1D("dmtc_graph_tile_concat_backward_y", n*k, graphBlock, graphBlocks,
				argPtr(dout), argPtr(dy), argInt(n), argInt(k), argInt(c), argInt(h*w))
			if err != nil {
				return err
			}
		}
		if dm != nil {
			return e.launch1D("dmtc_graph_tile_concat_backward_m", n*c*h*w, graphBlock,
				graphBlocks, argPtr(dout), argPtr(dm), argInt(n), argInt(k), argInt(c),
				argInt(h*w))
		}
		return nil
	})
}
