package nn

import (
	"fmt"
	"math"
	"runtime"
	"sync"
)

// CPU is the pure-Go Backend and the numerical reference for other backends.
// Tensors are host []float32 slices. Heavy ops run on up to Threads()
// goroutines over a partition that does not depend on the thread count, so
// results are bitwise identical for any thread count.
//
// A CPU may be used from several goroutines. Ops that need scratch memory
// (convolution, cosine similarity) serialise on an internal mutex and reuse
// their scratch buffers across calls. Create one with NewCPU: the zero value
// is not usable.
type CPU struct {
	threads int

	mu sync.Mutex
	// scratch holds one reusable buffer per worker, grown on demand.
	scratch [][]float32
	// partials holds one reusable buffer per slot of a reduction round.
	partials [][]float32
	// shared is one reusable buffer that all workers read.
	shared []float32
}

// NewCPU returns a CPU backend that runs on up to threads goroutines. With
// threads <= 0 it uses runtime.GOMAXPROCS(0).
func NewCPU(threads int) *CPU {
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	return &CPU{
		threads:  threads,
		scratch:  make([][]float32, threads),
		partials: make([][]float32, threads),
	}
}

// Name returns "cpu".
func (c *CPU) Name() string { return "cpu" }

// Threads returns the maximum number of goroutines one op runs on.
func (c *CPU) Threads() int { return c.threads }

// cpuBuffer is the storage of a tensor allocated by a CPU backend.
type cpuBuffer struct {
	data []float32
}

func (b *cpuBuffer) Len() int { return len(b.data) }

// data returns the first Numel(t.Shape) elements of t's storage. It panics
// when t is nil, was not allocated by a CPU backend, or its buffer is shorter
// than its shape.
func data(op, name string, t *Tensor) []float32 {
	if t == nil {
		panic(fmt.Sprintf("nn: cpu: %s: %s is nil", op, name))
	}
	buf, ok := t.Buf.(*cpuBuffer)
	if !ok {
		panic(fmt.Sprintf("nn: cpu: %s: %s has a buffer of type %T, not one allocated by the CPU backend",
			op, name, t.Buf))
	}
	n := t.Len()
	if n > len(buf.data) {
		panic(fmt.Sprintf("nn: cpu: %s: %s has shape %v (%d elements) but its buffer holds %d",
			op, name, t, n, len(buf.data)))
	}
	return buf.data[:n:n]
}

// requireShape panics unless t has exactly the given shape.
func requireShape(op, name string, t *Tensor, shape ...int) {
	if !SameShape(t.Shape, shape) {
		// The copy keeps shape, the variadic slice, from escaping to the
		// heap on every call.
		want := &Tensor{Shape: append([]int(nil), shape...)}
		panic(fmt.Sprintf("nn: cpu: %s: %s has shape %v, want %v", op, name, t, want))
	}
}

// requireRank panics unless t has the given number of dimensions.
func requireRank(op, name string, t *Tensor, rank int) {
	if len(t.Shape) != rank {
		panic(fmt.Sprintf("nn: cpu: %s: %s has shape %v, want %d dimensions", op, name, t, rank))
	}
}

// requireSameLen panics unless a and b have the same element count.
func requireSameLen(op, nameA string, a *Tensor, nameB string, b *Tensor) {
	if a.Len() != b.Len() {
		panic(fmt.Sprintf("nn: cpu: %s: %s %v and %s %v differ in element count",
			op, nameA, a, nameB, b))
	}
}

// Alloc returns a zero-filled tensor of the given shape.
func (c *CPU) Alloc(shape ...int) *Tensor {
	for _, d := range shape {
		if d < 0 {
			panic(fmt.Sprintf("nn: cpu: Alloc: negative dimension in shape %v", shape))
		}
	}
	return &Tensor{
		Shape: append([]int(nil), shape...),
		Buf:   &cpuBuffer{data: make([]float32, Numel(shape))},
	}
}

// Free drops t's storage, so a later use of t panics instead of reading
// stale values.
func (c *CPU) Free(t *Tensor) {
	if t == nil {
		return
	}
	if buf, ok := t.Buf.(*cpuBuffer); ok {
		buf.data = nil
	}
}

// Upload copies src into t.
func (c *CPU) Upload(t *Tensor, src []float32) {
	dst := data("Upload", "t", t)
	if len(src) != len(dst) {
		panic(fmt.Sprintf("nn: cpu: Upload: %d values for a tensor of shape %v (%d elements)",
			len(src), t, len(dst)))
	}
	copy(dst, src)
}

// Download copies t into dst.
func (c *CPU) Download(dst []float32, t *Tensor) {
	src := data("Download", "t", t)
	if len(src) != len(dst) {
		panic(fmt.Sprintf("nn: cpu: Download: %d destination values for a tensor of shape %v (%d elements)",
			len(dst), t, len(src)))
	}
	copy(dst, src)
}

// Sync returns nil: every CPU op has finished when it returns.
func (c *CPU) Sync() error { return nil }

// elementGrain is the number of elements one goroutine handles in the
// element-wise ops: large enough that the goroutine start-up (about a
// microsecond) is small against the work.
const elementGrain = 1 << 15

// Fill sets every element of t to v.
func (c *CPU) Fill(t *Tensor, v float32) {
	x := data("Fill", "t", t)
	c.parallelRange(len(x), elementGrain, func(lo, hi int) {
		s := x[lo:hi]
		for i := range s {
			s[i] = v
		}
	})
}

// Copy copies src into dst.
func (c *CPU) Copy(dst, src *Tensor) {
	requireSameLen("Copy", "dst", dst, "src", src)
	d, s := data("Copy", "dst", dst), data("Copy", "src", src)
	c.parallelRange(len(d), elementGrain, func(lo, hi int) {
		copy(d[lo:hi], s[lo:hi])
	})
}

// Axpy computes y += alpha·x.
func (c *CPU) Axpy(alpha float32, x, y *Tensor) {
	requireSameLen("Axpy", "x", x, "y", y)
	xs, ys := data("Axpy", "x", x), data("Axpy", "y", y)
	c.parallelRange(len(ys), elementGrain, func(lo, hi int) {
		xv, yv := xs[lo:hi], ys[lo:hi]
		for i := range yv {
			yv[i] += alpha * xv[i]
		}
	})
}

// Scale computes x *= alpha.
func (c *CPU) Scale(alpha float32, x *Tensor) {
	xs := data("Scale", "x", x)
	c.parallelRange(len(xs), elementGrain, func(lo, hi int) {
		v := xs[lo:hi]
		for i := range v {
			v[i] *= alpha
		}
	})
}

// Activate computes y = f(x). Sigmoid, Tanh and Softplus are evaluated in
// float64 and rounded once.
func (c *CPU) Activate(f Activation, x, y *Tensor) {
	requireSameLen("Activate", "x", x, "y", y)
	xs, ys := data("Activate", "x", x), data("Activate", "y", y)
	c.parallelRange(len(ys), elementGrain, func(lo, hi int) {
		xv, yv := xs[lo:hi], ys[lo:hi]
		switch f {
		case ReLU:
			for i, v := range xv {
				// Go's max returns NaN for a NaN argument, so NaN passes
				// through, as in PyTorch. On random signs it ran 3x faster
				// than an if/else here, which mispredicts half the time.
				yv[i] = max(v, 0)
			}
		case Sigmoid:
			for i, v := range xv {
				yv[i] = float32(sigmoid64(float64(v)))
			}
		case Tanh:
			for i, v := range xv {
				yv[i] = float32(math.Tanh(float64(v)))
			}
		case Softplus:
			for i, v := range xv {
				yv[i] = float32(softplus64(float64(v)))
			}
		default:
			panic(fmt.Sprintf("nn: cpu: Activate: unknown activation %d", f))
		}
	})
}

// ActivateBackward accumulates dx += f'(x)·dy. ReLU and Softplus read x,
// while Sigmoid and Tanh read y.
func (c *CPU) ActivateBackward(f Activation, x, y, dy, dx *Tensor) {
	if dx == nil {
		return
	}
	requireSameLen("ActivateBackward", "dy", dy, "dx", dx)
	dys, dxs := data("ActivateBackward", "dy", dy), data("ActivateBackward", "dx", dx)
	var in []float32
	switch f {
	case ReLU, Softplus:
		requireSameLen("ActivateBackward", "x", x, "dx", dx)
		in = data("ActivateBackward", "x", x)
	case Sigmoid, Tanh:
		requireSameLen("ActivateBackward", "y", y, "dx", dx)
		in = data("ActivateBackward", "y", y)
	default:
		panic(fmt.Sprintf("nn: cpu: ActivateBackward: unknown activation %d", f))
	}
	c.parallelRange(len(dxs), elementGrain, func(lo, hi int) {
		iv, gv, dv := in[lo:hi], dys[lo:hi], dxs[lo:hi]
		switch f {
		case ReLU:
			for i, v := range iv {
				// dy is masked to zero bits where x ≤ 0 or NaN: on random
				// signs this ran 1.7x faster than adding inside an if.
				var keep uint32
				if v > 0 {
					keep = math.MaxUint32
				}
				dv[i] += math.Float32frombits(math.Float32bits(gv[i]) & keep)
			}
		case Sigmoid:
			for i, v := range iv {
				dv[i] += gv[i] * v * (1 - v)
			}
		case Tanh:
			for i, v := range iv {
				dv[i] += gv[i] * (1 - v*v)
			}
		case Softplus:
			for i, v := range iv {
				dv[i] += gv[i] * float32(sigmoid64(float64(v)))
			}
		}
	})
}

// sigmoid64 returns 1/(1+e⁻ˣ) without overflow for either sign of x.
func sigmoid64(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

// softplus64 returns log(1+eˣ) as max(x, 0) + log1p(e^−|x|), which never
// overflows: for x above about 37 the correction is below float64 precision
// and the result is x itself.
func softplus64(x float64) float64 {
	if x > 0 {
		return x + math.Log1p(math.Exp(-x))
	}
	return math.Log1p(math.Exp(x))
}

var _ Backend = (*CPU)(nil)
