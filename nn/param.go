package nn

import (
	"math"
	"math/rand/v2"
)

// Param is a trainable tensor with its gradient, both owned by a backend.
// Gradients accumulate across backward passes until ZeroGrad.
type Param struct {
	Name  string
	Value *Tensor
	Grad  *Tensor
}

// NewParam allocates a zero-filled parameter and its gradient.
func NewParam(b Backend, name string, shape ...int) *Param {
	return &Param{Name: name, Value: b.Alloc(shape...), Grad: b.Alloc(shape...)}
}

// Var returns the parameter as a Var whose gradient is the parameter's.
func (p *Param) Var() *Var { return &Var{Value: p.Value, Grad: p.Grad} }

// Module is anything that owns parameters.
type Module interface {
	Params() []*Param
}

// ZeroGrad sets the gradient of every parameter to zero.
func ZeroGrad(b Backend, params []*Param) {
	for _, p := range params {
		b.Fill(p.Grad, 0)
	}
}

// FreeParams releases the storage of every parameter and gradient.
func FreeParams(b Backend, params []*Param) {
	for _, p := range params {
		b.Free(p.Value)
		b.Free(p.Grad)
	}
}

// KaimingNormal fills p with samples of N(0, 2/fanIn), the He et al. (2015)
// initialisation for layers followed by ReLU, using rng. fanIn is the number
// of inputs of one output unit (in·kh·kw for a convolution).
func KaimingNormal(b Backend, p *Tensor, fanIn int, rng *rand.Rand) {
	std := math.Sqrt(2 / float64(fanIn))
	host := make([]float32, p.Len())
	for i := range host {
		host[i] = float32(rng.NormFloat64() * std)
	}
	b.Upload(p, host)
}

// UniformFanIn fills p with samples of U(−1/√fanIn, 1/√fanIn), PyTorch's
// default for biases and for the last linear layer of a head.
func UniformFanIn(b Backend, p *Tensor, fanIn int, rng *rand.Rand) {
	bound := 1 / math.Sqrt(float64(fanIn))
	host := make([]float32, p.Len())
	for i := range host {
		host[i] = float32((2*rng.Float64() - 1) * bound)
	}
	b.Upload(p, host)
}

// Constant fills p with v.
func Constant(b Backend, p *Tensor, v float32) { b.Fill(p, v) }
