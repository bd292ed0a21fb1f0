//go:build cuda || cudaemu

package cuda

import (
	"fmt"
	"math"

	"github.com/dmtc-go/dmtc/nn"
)

// Launch geometry of kernels/optim.cu (checked by TestKernelConstantsMatch).
const (
	optimBlock  = 256
	optimBlocks = memoryMaxBlocks
)

// RMSprop applies sq = α·sq + (1 − α)·g², p −= lr·g/(√sq + eps) with
// g = grad + wd·p, element by element in float32.
func (g *GPU) RMSprop(param, grad, sq *nn.Tensor, p nn.RMSpropParams) {
	const op = "RMSprop"
	n := lenOf(param)
	g.checkShape(op, "grad", grad, param.Shape...)
	g.checkShape(op, "sq", sq, param.Shape...)
	g.run(op, func(e *exec) error {
		return e.launch1D("dmtc_optim_rmsprop", n, optimBlock, optimBlocks,
			argPtr(param), argPtr(grad), argPtr(sq), argInt(n), argFloat(p.LR),
			argFloat(p.Alpha), argFloat(p.Eps), argFloat(p.WeightDecay))
	})
}

// Adam applies one Adam step (L2 weight decay, not AdamW) with moment
// buffers m and v; p.Step is the 1-based update count of the bias
// corrections.
func (g *GPU) Adam(param, grad, m, v *nn.Tensor, p nn.AdamParams) {
	const op = "Adam"
	if p.Step < 1 {
		panic(fmt.Sprintf("%s: %s: Step = %d, want the 1-based update count", g.name, op, p.Step))
	}
	n := lenOf(param)
	g.checkShape(op, "grad", grad, param.Shape...)
	g.checkShape(op, "m", m, param.Shape...)
	g.checkShape(op, "v", v, param.Shape...)
	// The bias corrections are rounded to float32 as in the CPU backend.
	corr1 := float32(1 - math.Pow(float64(p.Beta1), float64(p.Step)))
	corr2 := float32(1 - math.Pow(float64(p.Beta2), float64(p.Step)))
	g.run(op, func(e *exec) error {
		return e.launch1D("dmtc_optim_adam", n, optimBlock, optimBlocks,
			argPtr(param), argPtr(grad), argPtr(m), argPtr(v), argInt(n), argFloat(p.LR),
			argFloat(p.Beta1), argFloat(p.Beta2), argFloat(p.Eps), argFloat(p.WeightDecay),
			argFloat(corr1), argFloat(corr2))
	})
}
