//go:build cuda || cudaemu

package cuda

import (
	"fmt"

	"github.com/dmtc-go/dmtc/nn"
)

// Launch geometry and constants of kernels/activation.cu (checked by
// TestKernelConstantsMatch).
const (
	activationBlock  = 256
	biasReduceBlock  = 256
	actReLU          = int(nn.ReLU)
	actSigmoid       = int(nn.Sigmoid)
	actTanh          = int(nn.Tanh)
	activationBlocks = memoryMaxBlocks
)

// checkActivation panics on an activation the kernels do not know.
func (g *GPU) checkActivation(op string, f nn.Activation) {
	switch f {
	case nn.ReLU, nn.Sigmoid, nn.Tanh, nn.Softplus:
	default:
		panic(fmt.Sprintf("%s: %s: unknown activation %d", g.name, op, f))
	}
}

// Activate computes y = f(x) element-wise.
func (g *GPU) Activate(f nn.Activation, x, y *nn.Tensor) {
	const op = "Activate"
	g.checkActivation(op, f)
	n := g.sameLen(op, x, y)
	g.run(op, func(e *exec) error {
		return e.launch1D("dmtc_activation_forward", n, activationBlock, activationBlocks,
			argPtr(x), argPtr(y), argInt(n), argInt(int(f)))
	})
}

// ActivateBackward accumulates dx += f'(x)·dy. ReLU and Softplus read x;
// Sigmoid and Tanh read y. A nil dx is skipped.
func (g *GPU) ActivateBackward(f nn.Activation, x, y, dy, dx *nn.Tensor) {
	const op = "ActivateBackward"
	if dx == nil {
		return
	}
	g.checkActivation(op, f)
	n := g.sameLen(op, dy, dx)
	var xArg, yArg kernelArg
	if f == nn.ReLU || f == nn.Softplus {
		g.sameLen(op, x, dx)
		xArg = argPtr(x)
	} else {
		g.sameLen(op, y, dx)
		yArg = argPtr(y)
	}
	g.run(op, func(e *exec) error {
		return e.launch1D("dmtc_activation_backward", n, activationBlock, activationBlocks,
			xArg, yArg, argPtr(dy), argPtr(dx), argInt(n), argInt(int(f)))
	})
}

// biasDims returns y's (N, F, S) view for a bias of F elements and panics
// when y's second dimension is not F.
func (g *GPU) biasDims(op string, y, bias *nn.Tensor) (n, f, s int) {
	g.checkRank(op, "bias", bias, 1)
	lenOf(y)
	if len(y.Shape) < 2 || y.Shape[1] != bias.Shape[0] {
		panic(fmt.Sprintf("%s: %s: y %v needs a second dimension of size %d to match bias %v",
			g.name, op, y, bias.Shape[0], bias))
	}
	return y.Shape[0], y.Shape[1], nn.Numel(y.Shape[2:])
}

// AddBias computes y[n,f,s] += bias[f] on y viewed as (N, F, S).
func (g *GPU) AddBias(y, bias *nn.Tensor) {
	const op = "AddBias"
	n, f, s := g.biasDims(op, y, bias)
	g.run(op, func(e *exec) error {
		return e.launch1D("dmtc_activation_add_bias", n*f*s, activationBlock, activationBlocks,
			argPtr(y), argPtr(bias), argInt(n), argInt(f), argInt(s))
	})
}

// BiasBackward accumulates db[f] += Σ_{n,s} dy[n,f,s], summed in double in a
// fixed order. A nil db is skipped.
func (g *GPU) BiasBackward(dy, db *nn.Tensor) {
	const op = "BiasBackward"
	if db == nil {
		return
	}
	n, f, s := g.biasDims(op, dy, db)
	g.run(op, func(e *exec) error { return launchBiasBackward(e, dy, db, n, f, s) })
}

// launchBiasBackward queues db[f] += Σ dy[n,f,s]: one block per channel.
func launchBiasBackward(e *exec, dy, db *nn.Tensor, n, f, s int) error {
	if f == 0 {
		return nil
	}
	return e.launch("dmtc_activation_bias_backward", dim3{f, 1, 1}, dim3{biasReduceBlock, 1, 1}, 0,
		argPtr(dy), argPtr(db), argInt(n), argInt(f), argInt(s))
}
