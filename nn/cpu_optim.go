package nn

import (
	"fmt"
	"math"
)

// RMSprop applies sq = α·sq + (1 − α)·g², p −= lr·g/(√sq + eps) with
// g = grad + wd·p, element by element in float32 (PyTorch's update without
// momentum or centring).
func (c *CPU) RMSprop(param, grad, sq *Tensor, p RMSpropParams) {
	const op = "RMSprop"
	requireShape(op, "grad", grad, param.Shape...)
	requireShape(op, "sq", sq, param.Shape...)
	ps, gs, ss := data(op, "param", param), data(op, "grad", grad), data(op, "sq", sq)
	c.parallelRange(len(ps), elementGrain, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			g := gs[i] + p.WeightDecay*ps[i]
			s := p.Alpha*ss[i] + (1-p.Alpha)*g*g
			ss[i] = s
			ps[i] -= p.LR * g / (float32(math.Sqrt(float64(s))) + p.Eps)
		}
	})
}

// Adam applies, with g = grad + wd·p (L2 regularisation, not AdamW) and t =
// p.Step:
//
//	m = β1·m + (1 − β1)·g, v = β2·v + (1 − β2)·g²,
//	p −= lr·(m/(1 − β1ᵗ)) / (√(v/(1 − β2ᵗ)) + eps).
func (c *CPU) Adam(param, grad, m, v *Tensor, p AdamParams) {
	const op = "Adam"
	if p.Step < 1 {
		panic(fmt.Sprintf("nn: cpu: %s: Step = %d, want the 1-based update count", op, p.Step))
	}
	requireShape(op, "grad", grad, param.Shape...)
	requireShape(op, "m", m, param.Shape...)
	requireShape(op, "v", v, param.Shape...)
	ps, gs, ms, vs := data(op, "param", param), data(op, "grad", grad), data(op, "m", m), data(op, "v", v)
	corr1 := float32(1 - math.Pow(float64(p.Beta1), float64(p.Step)))
	corr2 := float32(1 - math.Pow(float64(p.Beta2), float64(p.Step)))
	c.parallelRange(len(ps), elementGrain, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			g := gs[i] + p.WeightDecay*ps[i]
			mi := p.Beta1*ms[i] + (1-p.Beta1)*g
			vi := p.Beta2*vs[i] + (1-p.Beta2)*g*g
			ms[i], vs[i] = mi, vi
			ps[i] -= p.LR * (mi / corr1) / (float32(math.Sqrt(float64(vi/corr2))) + p.Eps)
		}
	})
}
