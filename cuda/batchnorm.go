//go:build cuda || cudaemu

package cuda

import (
	"fmt"

	"github.com/dmtc-go/dmtc/nn"
)

// Launch geometry of kernels/batchnorm.cu (checked by
// TestKernelConstantsMatch).
const (
	batchNormBlock  = 256
	batchNormBlocks = memoryMaxBlocks
)

// batchNormDims returns x's (N, C, S) view, S being the product of the
// dimensions after the channel (1 for (N, C) input).
func (g *GPU) batchNormDims(op string, x *nn.Tensor) (n, c, s int) {
	lenOf(x)
	if len(x.Shape) < 2 {
		panic(fmt.Sprintf("%s: %s: x has shape %v, want (N, C) or (N, C, H, W)", g.name, op, x))
	}
	return x.Shape[0], x.Shape[1], nn.Numel(x.Shape[2:])
}

// checkChannel panics unless t is nil or a (C) tensor; required says whether
// nil is allowed.
func (g *GPU) checkChannel(op, name string, t *nn.Tensor, c int, required bool) {
	if t == nil {
		if required {
			g.checkNotNil(op, name, t)
		}
		return
	}
	g.checkShape(op, name, t, c)
}

// BatchNorm normalises x per channel. In training it uses the batch
// statistics, stores the batch mean and 1/√(var+eps) in saveMean and
// saveInvStd, and updates runMean and runVar. A nil one of these four is
// skipped, and a batch with no values leaves all of them unchanged. In
// evaluation it uses runMean and runVar, which are required.
func (g *GPU) BatchNorm(x, gamma, beta, runMean, runVar, saveMean, saveInvStd, y *nn.Tensor,
	p nn.BatchNormParams) {
	const op = "BatchNorm"
	n, c, s := g.batchNormDims(op, x)
	g.checkShape(op, "y", y, x.Shape...)
	g.checkChannel(op, "gamma", gamma, c, true)
	g.checkChannel(op, "beta", beta, c, true)
	g.checkChannel(op, "runMean", runMean, c, !p.Training)
	g.checkChannel(op, "runVar", runVar, c, !p.Training)
	if !p.Training {
		g.run(op, func(e *exec) error {
			return e.launch1D("dmtc_batchnorm_forward_eval", n*c*s, batchNormBlock,
				batchNormBlocks, argPtr(x), argPtr(gamma), argPtr(beta), argPtr(runMean),
				argPtr(runVar), argPtr(y), argInt(n), argInt(c), argInt(s), argFloat(p.Eps))
		})
		return
	}
	g.checkChannel(op, "saveMean", saveMean, c, false)
	g.checkChannel(op, "saveInvStd", saveInvStd, c, false)
	if c == 0 || n*s == 0 {
		// An empty batch has no statistics, so every tensor stays unchanged.
		return
	}
	g.run(op, func(e *exec) error {
		return e.launch("dmtc_batchnorm_forward_train", dim3{c, 1, 1},
			dim3{batchNormBlock, 1, 1}, 0, argPtr(x), argPtr(gamma), argPtr(beta),
			argPtr(runMean), argPtr(runVar), argPtr(saveMean), argPtr(saveInvStd), argPtr(y),
			argInt(n), argInt(c), argInt(s), argFloat(p.Momentum), argFloat(p.Eps))
	})
}

// BatchNormBackward accumulates dx, dgamma and dbeta, each skipped when nil,
// for a training-mode forward pass whose saved statistics are given.
func (g *GPU) BatchNormBackward(x, dy, gamma, saveMean, saveInvStd, dx, dgamma,
	dbeta *nn.Tensor) {
	const op = "BatchNormBackward"
	n, c, s := g.batchNormDims(op, x)
	g.checkShape(op, "dy", dy, x.Shape...)
	g.checkChannel(op, "gamma", gamma, c, true)
	g.checkChannel(op, "saveMean", saveMean, c, true)
	g.checkChannel(op, "saveInvStd", saveInvStd, c, true)
	if dx != nil {
		g.checkShape(op, "dx", dx, x.Shape...)
	}
	g.checkChannel(op, "dgamma", dgamma, c, false)
	g.checkChannel(op, "dbeta", dbeta, c, false)
	if c == 0 || (dx == nil && dgamma == nil && dbeta == nil) {
		return
	}
	g.run(op, func(e *exec) error {
		return e.launch("dmtc_batchnorm_backward", dim3{c, 1, 1}, dim3{batchNormBlock, 1, 1},
			0, argPtr(x), argPtr(dy), argPtr(gamma), argPtr(saveMean), argPtr(saveInvStd),
			argPtr(dx), argPtr(dgamma), argPtr(dbeta), argInt(n), argInt(c), argInt(s))
	})
}
