package nn

import (
	"fmt"
	"math/rand/v2"
)

// Conv2D is a 2-D convolution layer with a (Out, In, K, K) filter and an
// optional bias.
type Conv2D struct {
	W, Bias *Param // Bias is nil for a layer without bias
	In, Out int
	K       int
	P       ConvParams
}

// NewConv2D returns a k×k convolution with Kaiming-normal weights and zero
// bias.
func NewConv2D(b Backend, rng *rand.Rand, name string, in, out, k, stride, pad int, bias bool) *Conv2D {
	l := &Conv2D{In: in, Out: out, K: k, P: ConvParams{StrideH: stride, StrideW: stride, PadH: pad, PadW: pad}}
	l.W = NewParam(b, name+".weight", out, in, k, k)
	KaimingNormal(b, l.W.Value, in*k*k, rng)
	if bias {
		l.Bias = NewParam(b, name+".bias", out)
	}
	return l
}

// Params returns the weight and, if present, the bias.
func (l *Conv2D) Params() []*Param {
	if l.Bias == nil {
		return []*Param{l.W}
	}
	return []*Param{l.W, l.Bias}
}

// Forward convolves x (N, In, H, W).
func (l *Conv2D) Forward(tp *Tape, x *Var) *Var {
	s := x.Value.Shape
	if len(s) != 4 || s[1] != l.In {
		panic(fmt.Sprintf("nn: conv2d %s: input %v, expected (N,%d,H,W)", l.W.Name, s, l.In))
	}
	oh, ow := ConvOutSize(s[2], s[3], l.K, l.K, l.P.StrideH, l.P.StrideW, l.P.PadH, l.P.PadW)
	y := tp.NewVar(true, s[0], l.Out, oh, ow)
	var bias, dbias *Tensor
	if l.Bias != nil {
		bias, dbias = l.Bias.Value, l.Bias.Grad
	}
	tp.B.Conv2D(x.Value, l.W.Value, bias, y.Value, l.P)
	tp.Record(func() {
		tp.B.Conv2DBackwardFilter(x.Value, y.Grad, l.W.Grad, dbias, l.P)
		if x.Grad != nil {
			tp.B.Conv2DBackwardData(y.Grad, l.W.Value, x.Grad, l.P)
		}
	})
	return y
}

// Linear computes y = x·Wᵀ + b for x (N, In) and W (Out, In).
type Linear struct {
	W, Bias *Param
	In, Out int
}

// NewLinear returns a linear layer with Kaiming-normal weights and zero bias.
func NewLinear(b Backend, rng *rand.Rand, name string, in, out int) *Linear {
	l := &Linear{In: in, Out: out}
	l.W = NewParam(b, name+".weight", out, in)
	KaimingNormal(b, l.W.Value, in, rng)
	l.Bias = NewParam(b, name+".bias", out)
	return l
}

// Params returns the weight and the bias.
func (l *Linear) Params() []*Param { return []*Param{l.W, l.Bias} }

// Forward applies the layer to x (N, In); any trailing shape is flattened.
func (l *Linear) Forward(tp *Tape, x *Var) *Var {
	if x.Value.Cols() != l.In {
		panic(fmt.Sprintf("nn: linear %s: input %v, expected (N,%d)", l.W.Name, x.Value.Shape, l.In))
	}
	x = Reshape(x, x.Value.Rows(), l.In)
	y := tp.NewVar(true, x.Value.Rows(), l.Out)
	tp.B.Gemm(false, true, 1, x.Value, l.W.Value, 0, y.Value)
	tp.B.AddBias(y.Value, l.Bias.Value)
	tp.Record(func() {
		tp.B.Gemm(true, false, 1, y.Grad, x.Value, 1, l.W.Grad)
		tp.B.BiasBackward(y.Grad, l.Bias.Grad)
		if x.Grad != nil {
			tp.B.Gemm(false, false, 1, y.Grad, l.W.Value, 1, x.Grad)
		}
	})
	return y
}

// BatchNorm normalises (N, C) or (N, C, H, W) inputs per channel, with a
// learnt scale and shift and running statistics for evaluation.
type BatchNorm struct {
	Gamma, Beta     *Param
	RunMean, RunVar *Tensor
	C               int
	Momentum, Eps   float32
}

// NewBatchNorm returns a batch-norm layer with PyTorch's defaults: scale 1,
// shift 0, running mean 0 and variance 1, momentum 0.1, eps 1e−5.
func NewBatchNorm(b Backend, name string, c int) *BatchNorm {
	l := &BatchNorm{C: c, Momentum: 0.1, Eps: 1e-5}
	l.Gamma = NewParam(b, name+".weight", c)
	l.Beta = NewParam(b, name+".bias", c)
	b.Fill(l.Gamma.Value, 1)
	l.RunMean = b.Alloc(c)
	l.RunVar = b.Alloc(c)
	b.Fill(l.RunVar, 1)
	return l
}

// Params returns the scale and the shift; running statistics are buffers.
func (l *BatchNorm) Params() []*Param { return []*Param{l.Gamma, l.Beta} }

// Buffers returns the running mean and variance.
func (l *BatchNorm) Buffers() []*Tensor { return []*Tensor{l.RunMean, l.RunVar} }

// Mode selects how BatchNorm normalises.
type Mode int

const (
	// Train normalises with batch statistics and updates the running ones.
	Train Mode = iota
	// BatchStats normalises with batch statistics and leaves the running
	// statistics unchanged.
	BatchStats
	// Eval normalises with the running statistics.
	Eval
)

// Forward normalises x in the given mode. Gradients are recorded only in
// Train and BatchStats modes.
func (l *BatchNorm) Forward(tp *Tape, x *Var, mode Mode) *Var {
	if len(x.Value.Shape) < 2 || x.Value.Shape[1] != l.C {
		panic(fmt.Sprintf("nn: batchnorm %s: input %v, expected (N,%d,...)", l.Gamma.Name, x.Value.Shape, l.C))
	}
	y := tp.NewVar(true, x.Value.Shape...)
	p := BatchNormParams{Training: mode != Eval, Momentum: l.Momentum, Eps: l.Eps}
	if mode == BatchStats {
		p.Momentum = 0
	}
	if mode == Eval {
		tp.B.BatchNorm(x.Value, l.Gamma.Value, l.Beta.Value, l.RunMean, l.RunVar, nil, nil, y.Value, p)
		return y
	}
	mean, invStd := tp.Tensor(l.C), tp.Tensor(l.C)
	tp.B.BatchNorm(x.Value, l.Gamma.Value, l.Beta.Value, l.RunMean, l.RunVar, mean, invStd, y.Value, p)
	tp.Record(func() {
		tp.B.BatchNormBackward(x.Value, y.Grad, l.Gamma.Value, mean, invStd, x.Grad, l.Gamma.Grad, l.Beta.Grad)
	})
	return y
}

// Activate applies f element-wise.
func Activate(tp *Tape, f Activation, x *Var) *Var {
	y := tp.NewVar(x.Grad != nil, x.Value.Shape...)
	tp.B.Activate(f, x.Value, y.Value)
	if x.Grad != nil {
		tp.Record(func() { tp.B.ActivateBackward(f, x.Value, y.Value, y.Grad, x.Grad) })
	}
	return y
}

// MaxPool2D applies max pooling to x (N, C, H, W).
func MaxPool2D(tp *Tape, x *Var, p PoolParams) *Var {
	s := x.Value.Shape
	oh, ow := ConvOutSize(s[2], s[3], p.KH, p.KW, p.StrideH, p.StrideW, p.PadH, p.PadW)
	y := tp.NewVar(x.Grad != nil, s[0], s[1], oh, ow)
	tp.B.MaxPool2D(x.Value, y.Value, p)
	if x.Grad != nil {
		tp.Record(func() { tp.B.MaxPool2DBackward(x.Value, y.Grad, x.Grad, p) })
	}
	return y
}

// AvgPool2D applies average pooling to x (N, C, H, W).
func AvgPool2D(tp *Tape, x *Var, p PoolParams) *Var {
	s := x.Value.Shape
	oh, ow := ConvOutSize(s[2], s[3], p.KH, p.KW, p.StrideH, p.StrideW, p.PadH, p.PadW)
	y := tp.NewVar(x.Grad != nil, s[0], s[1], oh, ow)
	tp.B.AvgPool2D(x.Value, y.Value, p)
	if x.Grad != nil {
		tp.Record(func() { tp.B.AvgPool2DBackward(y.Grad, x.Grad, p) })
	}
	return y
}

// GlobalAvgPool averages x (N, C, H, W) over its grid, giving (N, C).
func GlobalAvgPool(tp *Tape, x *Var) *Var {
	s := x.Value.Shape
	y := AvgPool2D(tp, x, PoolParams{KH: s[2], KW: s[3], StrideH: 1, StrideW: 1})
	return Reshape(y, s[0], s[1])
}

// Pool2 is the 2×2, stride-2 pooling window.
var Pool2 = PoolParams{KH: 2, KW: 2, StrideH: 2, StrideW: 2}

// Softmax applies a row-wise softmax to x (N, K).
func Softmax(tp *Tape, x *Var) *Var {
	y := tp.NewVar(x.Grad != nil, x.Value.Shape...)
	tp.B.Softmax(x.Value, y.Value)
	if x.Grad != nil {
		tp.Record(func() { tp.B.SoftmaxBackward(y.Value, y.Grad, x.Grad) })
	}
	return y
}

// L2Normalize scales each row of x (N, D) to unit length.
func L2Normalize(tp *Tape, x *Var) *Var {
	y := tp.NewVar(x.Grad != nil, x.Value.Shape...)
	norms := tp.Tensor(x.Value.Rows())
	tp.B.L2NormalizeRows(x.Value, y.Value, norms)
	if x.Grad != nil {
		tp.Record(func() { tp.B.L2NormalizeRowsBackward(y.Value, norms, y.Grad, x.Grad) })
	}
	return y
}

// MatMulT returns a·bᵀ for a (N, D) and b (M, D).
func MatMulT(tp *Tape, a, b *Var) *Var {
	y := tp.NewVar(a.Grad != nil || b.Grad != nil, a.Value.Rows(), b.Value.Rows())
	tp.B.Gemm(false, true, 1, a.Value, b.Value, 0, y.Value)
	tp.Record(func() {
		if a.Grad != nil {
			tp.B.Gemm(false, false, 1, y.Grad, b.Value, 1, a.Grad)
		}
		if b.Grad != nil {
			tp.B.Gemm(true, false, 1, y.Grad, a.Value, 1, b.Grad)
		}
	})
	return y
}

// TileConcat repeats y (N, K) over the grid of m (N, C, H, W) and concatenates
// it before m's channels, giving (N, K+C, H, W).
func TileConcat(tp *Tape, y, m *Var) *Var {
	s := m.Value.Shape
	out := tp.NewVar(y.Grad != nil || m.Grad != nil, s[0], y.Value.Cols()+s[1], s[2], s[3])
	tp.B.TileConcat(y.Value, m.Value, out.Value)
	tp.Record(func() { tp.B.TileConcatBackward(out.Grad, y.Grad, m.Grad) })
	return out
}

// CrossEntropy returns the mean cross-entropy of logits (N, K) against labels
// (N, class index or −1) and seeds weight·∂loss/∂logits.
func CrossEntropy(tp *Tape, logits *Var, labels *Tensor, weight float32) float32 {
	return tp.B.CrossEntropy(logits.Value, labels, logits.Grad, weight)
}

// BinaryCrossEntropy returns the mean binary cross-entropy of probabilities p
// against targets and seeds weight·∂loss/∂p.
func BinaryCrossEntropy(tp *Tape, p *Var, target *Tensor, weight float32) float32 {
	return tp.B.BinaryCrossEntropy(p.Value, target, p.Grad, weight)
}

// JSDMutualInfo returns the Jensen-Shannon mutual-information loss on
// discriminator scores and seeds weight times its gradients.
func JSDMutualInfo(tp *Tape, pos, neg *Var, weight float32) float32 {
	return tp.B.JSDMutualInfo(pos.Value, neg.Value, pos.Grad, neg.Grad, weight)
}
