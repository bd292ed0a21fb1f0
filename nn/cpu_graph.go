package nn

import (
	"fmt"
	"math"
)

// l2NormEps is the smallest norm L2NormalizeRows divides by.
const l2NormEps = 1e-12

// L2NormalizeRows writes y = x / max(‖x‖, 1e−12) row by row and, when norms
// is not nil, each row's norm ‖x‖ (unclamped). Norms are summed in float64.
func (c *CPU) L2NormalizeRows(x, y, norms *Tensor) {
	const op = "L2NormalizeRows"
	n, d := rowsView(op, "x", x)
	requireShape(op, "y", y, n, d)
	xs, ys := data(op, "x", x), data(op, "y", y)
	var ns []float32
	if norms != nil {
		requireShape(op, "norms", norms, n)
		ns = data(op, "norms", norms)
	}
	c.parallelRange(n, rowGrain(d), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			row, out := xs[i*d:(i+1)*d], ys[i*d:(i+1)*d]
			norm := rowNorm(row)
			inv := 1 / math.Max(norm, l2NormEps)
			for j, v := range row {
				out[j] = float32(float64(v) * inv)
			}
			if ns != nil {
				ns[i] = float32(norm)
			}
		}
	})
}

// rowNorm returns the Euclidean norm of row, summed in float64.
func rowNorm(row []float32) float64 {
	var sq float64
	for _, v := range row {
		sq += float64(v) * float64(v)
	}
	return math.Sqrt(sq)
}

// L2NormalizeRowsBackward accumulates dx += (dy − y·(y·dy))/‖x‖ for rows
// whose norm exceeds 1e−12, and dx += dy/1e−12 for the others, where
// y = x/1e−12 is linear in x.
func (c *CPU) L2NormalizeRowsBackward(y, norms, dy, dx *Tensor) {
	const op = "L2NormalizeRowsBackward"
	if dx == nil {
		return
	}
	n, d := rowsView(op, "y", y)
	requireShape(op, "norms", norms, n)
	requireShape(op, "dy", dy, n, d)
	requireShape(op, "dx", dx, n, d)
	ys, ns, dys, dxs := data(op, "y", y), data(op, "norms", norms), data(op, "dy", dy), data(op, "dx", dx)
	c.parallelRange(n, rowGrain(d), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			yr, gr, dr := ys[i*d:(i+1)*d], dys[i*d:(i+1)*d], dxs[i*d:(i+1)*d]
			norm := float64(ns[i])
			if !(norm > l2NormEps) {
				for j, g := range gr {
					dr[j] += float32(float64(g) / l2NormEps)
				}
				continue
			}
			var dot float64
			for j, v := range yr {
				dot += float64(v) * float64(gr[j])
			}
			for j, v := range yr {
				dr[j] += float32((float64(gr[j]) - float64(v)*dot) / norm)
			}
		}
	})
}

// CosineSimilarity writes s[i,j] = cos(a_i, b_j), clamped to [−1, 1]. Rows
// are normalised in float64 (a zero row stays zero, so its similarities are
// 0) and multiplied with the tiled GEMM.
func (c *CPU) CosineSimilarity(a, b, s *Tensor) {
	const op = "CosineSimilarity"
	n, d := rowsView(op, "a", a)
	m, db := rowsView(op, "b", b)
	if db != d {
		panic(fmt.Sprintf("nn: cpu: %s: a %v and b %v differ in row length", op, a, b))
	}
	requireShape(op, "s", s, n, m)
	as, bs, ss := data(op, "a", a), data(op, "b", b), data(op, "s", s)

	c.mu.Lock()
	defer c.mu.Unlock()
	unit := c.sharedBuf((n + m) * d)
	ua, ub := unit[:n*d], unit[n*d:]
	normalizeRows := func(src, dst []float32, rows int) {
		c.parallelRange(rows, rowGrain(d), func(lo, hi int) {
			for i := lo; i < hi; i++ {
				row, out := src[i*d:(i+1)*d], dst[i*d:(i+1)*d]
				norm := rowNorm(row)
				inv := 0.0
				if norm > 0 {
					inv = 1 / norm
				}
				for j, v := range row {
					out[j] = float32(float64(v) * inv)
				}
			}
		})
	}
	normalizeRows(as, ua, n)
	normalizeRows(bs, ub, m)
	job := gemmJob{
		transB: true,
		m:      n, n: m, k: d, alpha: 1,
		a: ua, lda: max(d, 1), b: ub, ldb: max(d, 1), beta: 0, c: ss, ldc: max(m, 1),
	}
	if d == 0 {
		job.alpha = 0
	}
	c.gemmParallel(&job)
	c.parallelRange(len(ss), elementGrain, func(lo, hi int) {
		for i, v := range ss[lo:hi] {
			ss[lo+i] = min(max(v, -1), 1)
		}
	})
}

// ThresholdGraph writes g = 1 where s ≥ tau and 0 elsewhere (NaN gives 0).
func (c *CPU) ThresholdGraph(s, g *Tensor, tau float32) {
	const op = "ThresholdGraph"
	requireShape(op, "g", g, s.Shape...)
	ss, gs := data(op, "s", s), data(op, "g", g)
	c.parallelRange(len(gs), elementGrain, func(lo, hi int) {
		for i, v := range ss[lo:hi] {
			if v >= tau {
				gs[lo+i] = 1
			} else {
				gs[lo+i] = 0
			}
		}
	})
}

// TopK writes the column indices of each row's k largest values, largest
// first, ties to the lowest index, NaN ranked below every number. Slots
// beyond the number of candidates are −1. Each row keeps a sorted list of
// its best k candidates, so the cost is O(M·k) per row in the worst case.
func (c *CPU) TopK(s, idx *Tensor, k int, excludeDiagonal bool) {
	const op = "TopK"
	n, m := rowsView(op, "s", s)
	if k < 0 {
		panic(fmt.Sprintf("nn: cpu: %s: k = %d is negative", op, k))
	}
	requireShape(op, "idx", idx, n, k)
	ss, is := data(op, "s", s), data(op, "idx", idx)
	if k == 0 {
		return
	}
	c.parallelRange(n, rowGrain(m), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			topKRow(ss[i*m:(i+1)*m], is[i*k:(i+1)*k], i, excludeDiagonal)
		}
	})
}

// topKRow fills out (length k) with the indices of the largest values of row
// i, skipping column i when excludeDiagonal is set.
func topKRow(row, out []float32, i int, excludeDiagonal bool) {
	k := len(out)
	filled := 0
	for j, v := range row {
		if excludeDiagonal && j == i {
			continue
		}
		// Find the first slot whose occupant v beats. Candidates come in
		// increasing index order, so an equal occupant keeps its slot.
		pos := filled
		for pos > 0 && beats(v, row[int(out[pos-1])]) {
			pos--
		}
		if pos >= k {
			continue
		}
		end := min(filled, k-1)
		copy(out[pos+1:end+1], out[pos:end])
		out[pos] = float32(j)
		filled = min(filled+1, k)
	}
	for p := filled; p < k; p++ {
		out[p] = -1
	}
}

// beats reports whether a candidate value v ranks above an occupant value u
// that has a lower column index: strictly larger, or a number against NaN.
func beats(v, u float32) bool {
	return v > u || (u != u && v == v)
}

// TileConcat writes out (N, K+C, H, W): channel k < K of sample n is the
// constant y[n,k], channel K+c is m[n,c].
func (c *CPU) TileConcat(y, m, out *Tensor) {
	const op = "TileConcat"
	n, k := rowsView(op, "y", y)
	requireRank(op, "m", m, 4)
	if m.Shape[0] != n {
		panic(fmt.Sprintf("nn: cpu: %s: y %v and m %v differ in batch size", op, y, m))
	}
	ch, plane := m.Shape[1], m.Shape[2]*m.Shape[3]
	requireShape(op, "out", out, n, k+ch, m.Shape[2], m.Shape[3])
	ys, ms, os := data(op, "y", y), data(op, "m", m), data(op, "out", out)
	sample := (k + ch) * plane
	c.parallelRange(n, max(1, elementGrain/max(sample, 1)), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			dst := os[i*sample : (i+1)*sample]
			for j, v := range ys[i*k : (i+1)*k] {
				seg := dst[j*plane : (j+1)*plane]
				for p := range seg {
					seg[p] = v
				}
			}
			copy(dst[k*plane:], ms[i*ch*plane:(i+1)*ch*plane])
		}
	})
}

// TileConcatBackward accumulates dy[n,k] += Σ_{h,w} dout[n,k,h,w] (summed in
// float64) and dm += dout's channels K and above.
func (c *CPU) TileConcatBackward(dout, dy, dm *Tensor) {
	const op = "TileConcatBackward"
	if dy == nil && dm == nil {
		return
	}
	requireRank(op, "dout", dout, 4)
	n, total, plane := dout.Shape[0], dout.Shape[1], dout.Shape[2]*dout.Shape[3]
	var k int
	var dys, dms []float32
	if dy != nil {
		_, k = rowsView(op, "dy", dy)
		requireShape(op, "dy", dy, n, k)
		dys = data(op, "dy", dy)
	}
	if dm != nil {
		requireRank(op, "dm", dm, 4)
		if dy == nil {
			k = total - dm.Shape[1]
		}
		requireShape(op, "dm", dm, n, total-k, dout.Shape[2], dout.Shape[3])
		dms = data(op, "dm", dm)
	}
	if k < 0 || k > total {
		panic(fmt.Sprintf("nn: cpu: %s: %d tiled channels do not fit dout %v", op, k, dout))
	}
	ch := total - k
	ds := data(op, "dout", dout)
	sample := total * plane
	c.parallelRange(n, max(1, elementGrain/max(sample, 1)), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			src := ds[i*sample : (i+1)*sample]
			if dys != nil {
				for j := 0; j < k; j++ {
					var sum float64
					for _, v := range src[j*plane : (j+1)*plane] {
						sum += float64(v)
					}
					dys[i*k+j] += float32(sum)
				}
			}
			if dms != nil {
				dst := dms[i*ch*plane : (i+1)*ch*plane]
				for p, v := range src[k*plane:] {
					dst[p] += v
				}
			}
		}
	})
}
