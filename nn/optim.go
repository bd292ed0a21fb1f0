package nn

// Optimizer updates parameters from their accumulated gradients.
type Optimizer interface {
	// Step applies one update to every parameter.
	Step()
	// Free releases the optimiser's state buffers.
	Free()
}

// RMSprop is PyTorch's RMSprop without momentum and centring.
type RMSprop struct {
	B      Backend
	P      RMSpropParams
	params []*Param
	sq     []*Tensor
}

// NewRMSprop returns an RMSprop optimiser over params with zeroed state.
func NewRMSprop(b Backend, params []*Param, p RMSpropParams) *RMSprop {
	o := &RMSprop{B: b, P: p, params: params}
	for _, q := range params {
		o.sq = append(o.sq, b.Alloc(q.Value.Shape...))
	}
	return o
}

// Step updates every parameter.
func (o *RMSprop) Step() {
	for i, q := range o.params {
		o.B.RMSprop(q.Value, q.Grad, o.sq[i], o.P)
	}
}

// Free releases the running mean squares.
func (o *RMSprop) Free() {
	for _, t := range o.sq {
		o.B.Free(t)
	}
	o.sq = nil
}

// Adam is the Adam optimiser of Kingma and Ba (2015) with bias correction
// and L2 weight decay added to the gradient.
type Adam struct {
	B      Backend
	P      AdamParams
	params []*Param
	m, v   []*Tensor
}

// NewAdam returns an Adam optimiser over params with zeroed moments.
func NewAdam(b Backend, params []*Param, p AdamParams) *Adam {
	o := &Adam{B: b, P: p, params: params}
	for _, q := range params {
		o.m = append(o.m, b.Alloc(q.Value.Shape...))
		o.v = append(o.v, b.Alloc(q.Value.Shape...))
	}
	return o
}

// Step increments the step count and updates every parameter.
func (o *Adam) Step() {
	o.P.Step++
	for i, q := range o.params {
		o.B.Adam(q.Value, q.Grad, o.m[i], o.v[i], o.P)
	}
}

// Free releases the moment buffers.
func (o *Adam) Free() {
	for i := range o.m {
		o.B.Free(o.m[i])
		o.B.Free(o.v[i])
	}
	o.m, o.v = nil, nil
}
