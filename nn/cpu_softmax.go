package nn

import (
	"fmt"
	"math"
)

// rowsView checks that x is a matrix (N, K) and returns its sizes.
func rowsView(op, name string, x *Tensor) (n, k int) {
	requireRank(op, name, x, 2)
	return x.Shape[0], x.Shape[1]
}

// rowGrain returns how many rows of k elements one goroutine takes.
func rowGrain(k int) int { return max(1, elementGrain/max(k, 1)) }

// rowMaxLSE returns the maximum of row and log Σ exp(row), the latter
// computed as max + log Σ exp(x − max) in float64 so that it neither
// overflows nor underflows.
func rowMaxLSE(row []float32) (float64, float64) {
	m := math.Inf(-1)
	for _, v := range row {
		m = math.Max(m, float64(v))
	}
	var sum float64
	for _, v := range row {
		sum += math.Exp(float64(v) - m)
	}
	return m, m + math.Log(sum)
}

// Softmax computes y = exp(x − lse(x)) row by row, in float64.
func (c *CPU) Softmax(x, y *Tensor) {
	const op = "Softmax"
	n, k := rowsView(op, "x", x)
	requireShape(op, "y", y, n, k)
	xs, ys := data(op, "x", x), data(op, "y", y)
	c.parallelRange(n, rowGrain(k), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			row, out := xs[i*k:(i+1)*k], ys[i*k:(i+1)*k]
			_, lse := rowMaxLSE(row)
			for j, v := range row {
				out[j] = float32(math.Exp(float64(v) - lse))
			}
		}
	})
}

// SoftmaxBackward accumulates dx += y ⊙ (dy − Σ dy·y) row by row.
func (c *CPU) SoftmaxBackward(y, dy, dx *Tensor) {
	const op = "SoftmaxBackward"
	if dx == nil {
		return
	}
	n, k := rowsView(op, "y", y)
	requireShape(op, "dy", dy, n, k)
	requireShape(op, "dx", dx, n, k)
	ys, dys, dxs := data(op, "y", y), data(op, "dy", dy), data(op, "dx", dx)
	c.parallelRange(n, rowGrain(k), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			yr, gr, dr := ys[i*k:(i+1)*k], dys[i*k:(i+1)*k], dxs[i*k:(i+1)*k]
			var dot float64
			for j, v := range yr {
				dot += float64(v) * float64(gr[j])
			}
			for j, v := range yr {
				dr[j] += float32(float64(v) * (float64(gr[j]) - dot))
			}
		}
	})
}

// LogSoftmax computes y = x − lse(x) row by row, in float64.
func (c *CPU) LogSoftmax(x, y *Tensor) {
	const op = "LogSoftmax"
	n, k := rowsView(op, "x", x)
	requireShape(op, "y", y, n, k)
	xs, ys := data(op, "x", x), data(op, "y", y)
	c.parallelRange(n, rowGrain(k), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			row, out := xs[i*k:(i+1)*k], ys[i*k:(i+1)*k]
			_, lse := rowMaxLSE(row)
			for j, v := range row {
				out[j] = float32(float64(v) - lse)
			}
		}
	})
}

// LogSoftmaxBackward accumulates dx += dy − exp(y)·Σ dy row by row.
func (c *CPU) LogSoftmaxBackward(y, dy, dx *Tensor) {
	const op = "LogSoftmaxBackward"
	if dx == nil {
		return
	}
	n, k := rowsView(op, "y", y)
	requireShape(op, "dy", dy, n, k)
	requireShape(op, "dx", dx, n, k)
	ys, dys, dxs := data(op, "y", y), data(op, "dy", dy), data(op, "dx", dx)
	c.parallelRange(n, rowGrain(k), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			yr, gr, dr := ys[i*k:(i+1)*k], dys[i*k:(i+1)*k], dxs[i*k:(i+1)*k]
			var sum float64
			for _, g := range gr {
				sum += float64(g)
			}
			for j, v := range yr {
				dr[j] += float32(float64(gr[j]) - math.Exp(float64(v))*sum)
			}
		}
	})
}

// CrossEntropy returns the mean over labelled rows of lse(logits) − logit at
// the label and accumulates scale·(softmax − onehot)/count into dlogits. A
// label must be −1 or an integer in [0, K), and anything else panics.
func (c *CPU) CrossEntropy(logits, labels, dlogits *Tensor, scale float32) float32 {
	const op = "CrossEntropy"
	n, k := rowsView(op, "logits", logits)
	if labels.Len() != n {
		panic(fmt.Sprintf("nn: cpu: %s: labels %v has %d elements for %d rows of logits %v",
			op, labels, labels.Len(), n, logits))
	}
	xs, ls := data(op, "logits", logits), data(op, "labels", labels)
	var ds []float32
	if dlogits != nil {
		requireShape(op, "dlogits", dlogits, n, k)
		ds = data(op, "dlogits", dlogits)
	}

	count := 0
	for i, l := range ls {
		if l == -1 {
			continue
		}
		if l < 0 || l >= float32(k) || l != float32(int(l)) {
			panic(fmt.Sprintf("nn: cpu: %s: label %v at row %d is not a class index in [0, %d) or −1 for no label",
				op, l, i, k))
		}
		count++
	}
	if count == 0 {
		return 0
	}

	var total float64
	g := float64(scale) / float64(count)
	for i, l := range ls {
		if l == -1 {
			continue
		}
		label := int(l)
		row := xs[i*k : (i+1)*k]
		_, lse := rowMaxLSE(row)
		total += lse - float64(row[label])
		if ds == nil {
			continue
		}
		dr := ds[i*k : (i+1)*k]
		for j, v := range row {
			p := math.Exp(float64(v) - lse)
			if j == label {
				p--
			}
			dr[j] += float32(g * p)
		}
	}
	return float32(total / float64(count))
}

// bceClamp is the lower clamp of BinaryCrossEntropy's p, and the upper clamp is
// 1 − bceClamp rounded to float32.
const bceClamp float32 = 1e-7

// BinaryCrossEntropy returns mean(−t·log p − (1−t)·log(1−p)) with p clamped
// to [bceClamp, 1 − bceClamp], and accumulates
// scale·(p − t)/(p·(1 − p))/count into dp, 0 where p was clamped.
// An empty p gives 0.
func (c *CPU) BinaryCrossEntropy(p, target, dp *Tensor, scale float32) float32 {
	const op = "BinaryCrossEntropy"
	requireSameLen(op, "p", p, "target", target)
	ps, ts := data(op, "p", p), data(op, "target", target)
	var ds []float32
	if dp != nil {
		requireSameLen(op, "p", p, "dp", dp)
		ds = data(op, "dp", dp)
	}
	if len(ps) == 0 {
		return 0
	}
	lo, hi := bceClamp, 1-bceClamp
	g := float64(scale) / float64(len(ps))
	var total float64
	for i, v := range ps {
		clamped := v < lo || v > hi
		pc := float64(min(max(v, lo), hi))
		t := float64(ts[i])
		total -= t*math.Log(pc) + (1-t)*math.Log(1-pc)
		if ds != nil && !clamped {
			ds[i] += float32(g * (pc - t) / (pc * (1 - pc)))
		}
	}
	return float32(total / float64(len(ps)))
}

// JSDMutualInfo returns mean(softplus(−pos)) + mean(softplus(neg)), an empty
// set contributing 0, and accumulates dpos += −scale·σ(−pos)/len(pos) and
// dneg += scale·σ(neg)/len(neg).
func (c *CPU) JSDMutualInfo(pos, neg, dpos, dneg *Tensor, scale float32) float32 {
	const op = "JSDMutualInfo"
	ps, ns := data(op, "pos", pos), data(op, "neg", neg)
	var dps, dns []float32
	if dpos != nil {
		requireSameLen(op, "pos", pos, "dpos", dpos)
		dps = data(op, "dpos", dpos)
	}
	if dneg != nil {
		requireSameLen(op, "neg", neg, "dneg", dneg)
		dns = data(op, "dneg", dneg)
	}
	var loss float64
	if len(ps) > 0 {
		var sum float64
		g := float64(scale) / float64(len(ps))
		for i, v := range ps {
			sum += softplus64(-float64(v))
			if dps != nil {
				dps[i] -= float32(g * sigmoid64(-float64(v)))
			}
		}
		loss += sum / float64(len(ps))
	}
	if len(ns) > 0 {
		var sum float64
		g := float64(scale) / float64(len(ns))
		for i, v := range ns {
			sum += softplus64(float64(v))
			if dns != nil {
				dns[i] += float32(g * sigmoid64(float64(v)))
			}
		}
		loss += sum / float64(len(ns))
	}
	return float32(loss)
}
