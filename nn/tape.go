package nn

import "fmt"

// Var is a tensor in a computation together with its gradient. Grad is nil
// when no gradient flows to the value (inputs, no-grad passes).
type Var struct {
	Value *Tensor
	Grad  *Tensor
}

// Tape records the backward step of every layer call made through it and
// replays them in reverse. It works at layer granularity: each recorded step
// is one or a few Backend calls. Intermediate tensors come from a pool keyed
// by element count, so a training step of a fixed shape allocates nothing
// after the first step.
type Tape struct {
	B Backend
	// Grad reports whether calls record backward steps and allocate
	// gradients. A tape with Grad false is a no-grad (inference) pass.
	Grad bool

	steps []func()
	live  []*Tensor
	free  map[int][]*Tensor
}

// NewTape returns an empty tape on backend b that records gradients.
func NewTape(b Backend) *Tape {
	return &Tape{B: b, Grad: true, free: map[int][]*Tensor{}}
}

// Tensor returns a pooled tensor of the given shape whose contents are
// undefined; it stays valid until Reset.
func (tp *Tape) Tensor(shape ...int) *Tensor {
	n := Numel(shape)
	var t *Tensor
	if list := tp.free[n]; len(list) > 0 {
		t = list[len(list)-1]
		tp.free[n] = list[:len(list)-1]
		t.Shape = append(t.Shape[:0], shape...)
	} else {
		t = tp.B.Alloc(shape...)
	}
	tp.live = append(tp.live, t)
	return t
}

// Zeros returns a pooled tensor filled with zeros.
func (tp *Tape) Zeros(shape ...int) *Tensor {
	t := tp.Tensor(shape...)
	tp.B.Fill(t, 0)
	return t
}

// Input wraps a value that needs no gradient.
func (tp *Tape) Input(value *Tensor) *Var { return &Var{Value: value} }

// NewVar returns a Var with a pooled value and, when the tape records
// gradients and needGrad is set, a zeroed gradient.
func (tp *Tape) NewVar(needGrad bool, shape ...int) *Var {
	v := &Var{Value: tp.Tensor(shape...)}
	if tp.Grad && needGrad {
		v.Grad = tp.Zeros(shape...)
	}
	return v
}

// Record appends a backward step. It is a no-op on a no-grad tape.
func (tp *Tape) Record(step func()) {
	if tp.Grad {
		tp.steps = append(tp.steps, step)
	}
}

// Backward runs the recorded steps in reverse order. Loss ops seed the
// gradients when they are called, so there is no output gradient to pass.
func (tp *Tape) Backward() {
	for i := len(tp.steps) - 1; i >= 0; i-- {
		tp.steps[i]()
	}
	tp.steps = tp.steps[:0]
}

// Reset drops the recorded steps and returns every pooled tensor to the pool.
// Vars obtained from the tape must not be used afterwards.
func (tp *Tape) Reset() {
	tp.steps = tp.steps[:0]
	for _, t := range tp.live {
		n := t.Len()
		tp.free[n] = append(tp.free[n], t)
	}
	tp.live = tp.live[:0]
}

// Release frees every pooled tensor on the backend. The tape stays usable.
func (tp *Tape) Release() {
	tp.Reset()
	for n, list := range tp.free {
		for _, t := range list {
			tp.B.Free(t)
		}
		delete(tp.free, n)
	}
}

// Reshape returns v viewed under a new shape; value and gradient share
// storage with v, so no backward step is needed.
func Reshape(v *Var, shape ...int) *Var {
	out := &Var{Value: v.Value.Reshape(shape...)}
	if v.Grad != nil {
		out.Grad = v.Grad.Reshape(shape...)
	}
	return out
}

func mustShape(op string, t *Tensor, shape ...int) {
	if !SameShape(t.Shape, shape) {
		panic(fmt.Sprintf("nn: %s: shape %v, expected %v", op, t.Shape, shape))
	}
}
