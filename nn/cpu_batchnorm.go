package nn

import (
	"fmt"
	"math"
)

// bnView returns x's (N, C, S) view, S being the product of the dimensions
// after the channel (1 for (N, C) input).
func bnView(op string, x *Tensor) (n, ch, s int) {
	if len(x.Shape) < 2 {
		panic(fmt.Sprintf("nn: cpu: %s: x has shape %v, want (N, C) or (N, C, H, W)", op, x))
	}
	return x.Shape[0], x.Shape[1], Numel(x.Shape[2:])
}

// channelData returns the storage of an optional per-channel tensor (C).
func channelData(op, name string, t *Tensor, ch int) []float32 {
	if t == nil {
		return nil
	}
	requireShape(op, name, t, ch)
	return data(op, name, t)
}

// requireChannel panics when a per-channel tensor that the call needs is nil.
func requireChannel(op, name string, t *Tensor) {
	if t == nil {
		panic(fmt.Sprintf("nn: cpu: %s: %s is nil", op, name))
	}
}

// BatchNorm normalises x per channel. Statistics are summed in float64, one
// channel per work item. In training, a nil saveMean, saveInvStd, runMean or
// runVar is skipped, and a batch with no values leaves all of them unchanged.
// In evaluation runMean and runVar are required.
func (c *CPU) BatchNorm(x, gamma, beta, runMean, runVar, saveMean, saveInvStd, y *Tensor,
	p BatchNormParams) {
	const op = "BatchNorm"
	n, ch, s := bnView(op, x)
	requireShape(op, "y", y, x.Shape...)
	requireChannel(op, "gamma", gamma)
	requireChannel(op, "beta", beta)
	xs, ys := data(op, "x", x), data(op, "y", y)
	gs, bs := channelData(op, "gamma", gamma, ch), channelData(op, "beta", beta, ch)
	rm, rv := channelData(op, "runMean", runMean, ch), channelData(op, "runVar", runVar, ch)
	count := n * s

	if !p.Training {
		requireChannel(op, "runMean", runMean)
		requireChannel(op, "runVar", runVar)
		c.parallelRange(ch, channelGrain(count), func(lo, hi int) {
			for k := lo; k < hi; k++ {
				invStd := 1 / math.Sqrt(float64(rv[k])+float64(p.Eps))
				bnApply(xs, ys, n, ch, s, k, float64(rm[k]), invStd, float64(gs[k]), float64(bs[k]))
			}
		})
		return
	}

	sm := channelData(op, "saveMean", saveMean, ch)
	si := channelData(op, "saveInvStd", saveInvStd, ch)
	if count == 0 {
		// An empty batch has no statistics: leave every tensor unchanged.
		return
	}
	momentum := float64(p.Momentum)
	c.parallelRange(ch, channelGrain(count), func(lo, hi int) {
		for k := lo; k < hi; k++ {
			var sum float64
			for i := 0; i < n; i++ {
				for _, v := range xs[(i*ch+k)*s : (i*ch+k+1)*s] {
					sum += float64(v)
				}
			}
			mean := sum / float64(max(count, 1))
			var sq float64
			for i := 0; i < n; i++ {
				for _, v := range xs[(i*ch+k)*s : (i*ch+k+1)*s] {
					d := float64(v) - mean
					sq += d * d
				}
			}
			variance := sq / float64(max(count, 1))
			invStd := 1 / math.Sqrt(variance+float64(p.Eps))
			bnApply(xs, ys, n, ch, s, k, mean, invStd, float64(gs[k]), float64(bs[k]))
			if sm != nil {
				sm[k] = float32(mean)
			}
			if si != nil {
				si[k] = float32(invStd)
			}
			if rm != nil {
				rm[k] = float32((1-momentum)*float64(rm[k]) + momentum*mean)
			}
			if rv != nil {
				// The running variance is unbiased. With a single value
				// per channel the variance is 0 either way.
				unbiased := sq / float64(max(count-1, 1))
				rv[k] = float32((1-momentum)*float64(rv[k]) + momentum*unbiased)
			}
		}
	})
}

// channelGrain returns how many channels one goroutine takes so that it
// handles about elementGrain elements.
func channelGrain(perChannel int) int {
	return max(1, elementGrain/max(perChannel, 1))
}

// bnApply writes y = gamma·(x − mean)·invStd + beta for channel k.
func bnApply(xs, ys []float32, n, ch, s, k int, mean, invStd, gamma, beta float64) {
	scale := gamma * invStd
	shift := beta - mean*scale
	for i := 0; i < n; i++ {
		off := (i*ch + k) * s
		xv, yv := xs[off:off+s], ys[off:off+s]
		for j, v := range xv {
			yv[j] = float32(float64(v)*scale + shift)
		}
	}
}

// BatchNormBackward accumulates, with x̂ = (x − mean)·invStd and M = N·S
// values per channel:
//
//	dbeta += Σ dy, dgamma += Σ dy·x̂,
//	dx += gamma·invStd·(dy − Σdy/M − x̂·Σ(dy·x̂)/M).
//
// Any of dx, dgamma and dbeta may be nil.
func (c *CPU) BatchNormBackward(x, dy, gamma, saveMean, saveInvStd, dx, dgamma, dbeta *Tensor) {
	const op = "BatchNormBackward"
	n, ch, s := bnView(op, x)
	requireShape(op, "dy", dy, x.Shape...)
	requireChannel(op, "gamma", gamma)
	requireChannel(op, "saveMean", saveMean)
	requireChannel(op, "saveInvStd", saveInvStd)
	xs, dys := data(op, "x", x), data(op, "dy", dy)
	gs := channelData(op, "gamma", gamma, ch)
	sm, si := channelData(op, "saveMean", saveMean, ch), channelData(op, "saveInvStd", saveInvStd, ch)
	var dxs []float32
	if dx != nil {
		requireShape(op, "dx", dx, x.Shape...)
		dxs = data(op, "dx", dx)
	}
	dgs, dbs := channelData(op, "dgamma", dgamma, ch), channelData(op, "dbeta", dbeta, ch)
	count := float64(max(n*s, 1))

	c.parallelRange(ch, channelGrain(n*s), func(lo, hi int) {
		for k := lo; k < hi; k++ {
			mean, invStd := float64(sm[k]), float64(si[k])
			var sumDy, sumDyXhat float64
			for i := 0; i < n; i++ {
				off := (i*ch + k) * s
				for j, g := range dys[off : off+s] {
					sumDy += float64(g)
					sumDyXhat += float64(g) * (float64(xs[off+j]) - mean) * invStd
				}
			}
			if dbs != nil {
				dbs[k] += float32(sumDy)
			}
			if dgs != nil {
				dgs[k] += float32(sumDyXhat)
			}
			if dxs == nil {
				continue
			}
			scale := float64(gs[k]) * invStd
			meanDy, meanDyXhat := sumDy/count, sumDyXhat/count
			for i := 0; i < n; i++ {
				off := (i*ch + k) * s
				for j, g := range dys[off : off+s] {
					xhat := (float64(xs[off+j]) - mean) * invStd
					dxs[off+j] += float32(scale * (float64(g) - meanDy - xhat*meanDyXhat))
				}
			}
		}
	})
}
