package nn

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// layerStack runs conv → BN → tanh → avgpool → linear → BN → softmax and
// returns the BCE of the output against a fixed target plus the CE of the
// pre-softmax logits, so every layer of the tape has a gradient.
type layerStack struct {
	conv   *Conv2D
	bn     *BatchNorm
	lin    *Linear
	headBN *BatchNorm
}

func (s *layerStack) params() []*Param {
	var ps []*Param
	for _, m := range []Module{s.conv, s.bn, s.lin, s.headBN} {
		ps = append(ps, m.Params()...)
	}
	return ps
}

func (s *layerStack) loss(tp *Tape, x *Var, target, labels *Tensor) float64 {
	h := s.conv.Forward(tp, x)
	// Finite differences are meaningless at kinks, so the stack avoids them:
	// tanh in place of ReLU, and average pooling in place of max pooling,
	// whose window maximum a step of h can move to another cell.
	h = Activate(tp, Tanh, s.bn.Forward(tp, h, BatchStats))
	h = AvgPool2D(tp, h, Pool2)
	y := s.headBN.Forward(tp, s.lin.Forward(tp, h), BatchStats)
	p := Softmax(tp, y)
	unit := L2Normalize(tp, p)
	sim := MatMulT(tp, unit, unit)
	l := BinaryCrossEntropy(tp, sim, target, 1)
	// Loss ops return the unweighted loss and seed the weighted gradient.
	l += 0.5 * CrossEntropy(tp, y, labels, 0.5)
	return float64(l)
}

func TestTapeGradientsMatchFiniteDifferences(t *testing.T) {
	// Float32 central differences with step h: the truncation error is
	// O(h²) and the rounding error about 1e-7·|L|/h, so with h = 1e-2 an
	// absolute tolerance of 2e-3 plus 5 % of the gradient is safe.
	const h, absTol, relTol = 1e-2, 2e-3, 0.05
	b := NewCPU(1)
	rng := rand.New(rand.NewPCG(7, 7))
	s := &layerStack{
		conv:   NewConv2D(b, rng, "conv", 2, 3, 3, 1, 1, true),
		bn:     NewBatchNorm(b, "bn", 3),
		lin:    NewLinear(b, rng, "lin", 3*3*3, 4),
		headBN: NewBatchNorm(b, "head_bn", 4),
	}
	UniformFanIn(b, s.bn.Gamma.Value, 1, rng)
	UniformFanIn(b, s.conv.Bias.Value, 1, rng)
	const n = 5
	xs := make([]float32, n*2*6*6)
	for i := range xs {
		xs[i] = float32(rng.NormFloat64())
	}
	tp := NewTape(b)
	x := tp.Tensor(n, 2, 6, 6)
	b.Upload(x, xs)
	target := tp.Tensor(n, n)
	tv := make([]float32, n*n)
	for i := range tv {
		tv[i] = float32(rng.IntN(2))
	}
	b.Upload(target, tv)
	labels := tp.Tensor(n)
	b.Upload(labels, []float32{0, 3, -1, 2, 1})

	ZeroGrad(b, s.params())
	s.loss(tp, tp.Input(x), target, labels)
	tp.Backward()

	eval := func() float64 {
		nt := NewTape(b)
		nt.Grad = false
		defer nt.Release()
		return s.loss(nt, nt.Input(x), target, labels)
	}
	for _, p := range s.params() {
		values := make([]float32, p.Value.Len())
		grads := make([]float32, p.Grad.Len())
		b.Download(values, p.Value)
		b.Download(grads, p.Grad)
		for i := range values {
			old := values[i]
			values[i] = old + h
			b.Upload(p.Value, values)
			up := eval()
			values[i] = old - h
			b.Upload(p.Value, values)
			down := eval()
			values[i] = old
			b.Upload(p.Value, values)
			want := (up - down) / (2 * h)
			got := float64(grads[i])
			require.LessOrEqual(t, math.Abs(got-want), absTol+relTol*math.Abs(want),
				"param %s[%d]: got %g, want %g", p.Name, i, got, want)
		}
	}
}

func TestTapePoolReusesTensors(t *testing.T) {
	b := NewCPU(1)
	tp := NewTape(b)
	a := tp.Tensor(2, 3)
	tp.Reset()
	c := tp.Tensor(3, 2)
	require.Same(t, a, c, "a reset tape returns the pooled tensor of the same size")
	require.Equal(t, []int{3, 2}, c.Shape)
}
