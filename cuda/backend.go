//go:build cuda || cudaemu

package cuda

import (
	"fmt"
	"math"
	"sync"
	"unsafe"

	"github.com/dmtc-go/dmtc/nn"
)

// GPU is the CUDA implementation of nn.Backend. Create it with New and
// release it with Close. Its methods may be called from any goroutine; they
// run one at a time on the device goroutine.
//
// Errors that the nn.Backend methods cannot return (a failed launch, a
// failed copy) are recorded: the first one is sticky, later ops become
// no-ops, and Sync returns it. Allocation failure panics, because Alloc has
// no error result and a training step cannot continue without the tensor.
type GPU struct {
	dev  *device
	name string

	mu     sync.Mutex
	err    error // first recorded error
	closed bool
}

var _ nn.Backend = (*GPU)(nil)

// Buf is a tensor's device storage: a device pointer and an element count.
type Buf struct {
	ptr   devicePtr
	n     int
	owner *GPU
	freed bool
}

// Len returns the number of float32 elements.
func (b *Buf) Len() int { return b.n }

// New opens GPU ordinal (0 for the first) and starts its device goroutine.
func New(ordinal int) (*GPU, error) {
	dev, err := startDevice(func() (driver, error) { return openDriver(ordinal) })
	if err != nil {
		return nil, err
	}
	return &GPU{dev: dev, name: dev.drv.name()}, nil
}

// Close waits for queued work, frees all device memory and destroys the
// context. Tensors of g must not be used afterwards.
func (g *GPU) Close() error {
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return nil
	}
	g.closed = true
	g.mu.Unlock()
	return g.dev.stop()
}

// Name returns "cuda", or "cuda-emu" for the emulation build.
func (g *GPU) Name() string { return g.name }

// MemoryStats returns the caching allocator's counters.
func (g *GPU) MemoryStats() MemoryStats {
	var s MemoryStats
	_ = g.dev.do(func(x *exec) error {
		s = x.mem().stats
		return nil
	})
	return s
}

// EmptyCache returns the allocator's cached blocks to the driver.
func (g *GPU) EmptyCache() error {
	return g.dev.do(func(x *exec) error { return x.mem().releaseCache() })
}

// run runs op on the device goroutine unless an error is already recorded,
// and records the error op returns. name is the op's name for messages.
func (g *GPU) run(name string, op func(x *exec) error) {
	if g.failed() {
		return
	}
	if err := g.dev.do(op); err != nil {
		g.record(fmt.Errorf("%s: %s: %w", g.name, name, err))
	}
}

func (g *GPU) failed() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.err != nil
}

func (g *GPU) record(err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.err == nil {
		g.err = err
	}
}

// Sync waits for all queued kernels and returns the first recorded error.
func (g *GPU) Sync() error {
	g.run("Sync", func(x *exec) error { return x.drv().synchronize() })
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.err
}

// bufferOf returns t's device buffer. A tensor may view a prefix of its
// buffer (t.Len() ≤ Buf.Len()); ops use t.Len() elements. A tensor from
// another backend, one longer than its buffer, or one already freed is a
// programmer error.
func bufferOf(t *nn.Tensor) *Buf {
	b, ok := t.Buf.(*Buf)
	if !ok {
		panic(fmt.Sprintf("cuda: tensor %v has a %T buffer, not one from the GPU backend", t, t.Buf))
	}
	if b.freed {
		panic(fmt.Sprintf("cuda: tensor %v used after Free", t))
	}
	if t.Len() > b.n {
		panic(fmt.Sprintf("cuda: tensor %v has %d elements but its buffer only %d",
			t, t.Len(), b.n))
	}
	return b
}

// Alloc returns a zero-filled tensor of the given shape.
func (g *GPU) Alloc(shape ...int) *nn.Tensor {
	for _, d := range shape {
		if d < 0 {
			panic(fmt.Sprintf("%s: Alloc: negative dimension in shape %v", g.name, shape))
		}
	}
	n := nn.Numel(shape)
	b := &Buf{n: n, owner: g}
	if n > 0 {
		err := g.dev.do(func(x *exec) error {
			p, err := x.mem().alloc(4 * n)
			if err != nil {
				return err
			}
			b.ptr = p
			return x.drv().memsetD32(p, 0, n)
		})
		if err != nil {
			panic(fmt.Sprintf("%s: Alloc %v (%d bytes): %v", g.name, shape, 4*n, err))
		}
	}
	return &nn.Tensor{Shape: append([]int(nil), shape...), Buf: b}
}

// Free returns t's memory to the allocator's cache.
func (g *GPU) Free(t *nn.Tensor) {
	b := bufferOf(t)
	b.freed = true
	if b.n == 0 {
		return
	}
	err := g.dev.do(func(x *exec) error {
		x.mem().release(b.ptr)
		return nil
	})
	if err != nil {
		g.record(err)
	}
	b.ptr = 0
}

// Upload copies src into t.
func (g *GPU) Upload(t *nn.Tensor, src []float32) {
	b, n := bufferOf(t), t.Len()
	if len(src) != n {
		panic(fmt.Sprintf("%s: Upload: %d values into tensor %v of %d elements",
			g.name, len(src), t, n))
	}
	if n == 0 {
		return
	}
	g.run("Upload", func(x *exec) error {
		return x.drv().copyHtoD(b.ptr, unsafe.Pointer(&src[0]), 4*n)
	})
}

// Download copies t into dst. If the copy fails, or an earlier error is
// recorded, dst is filled with NaN so that stale values cannot pass for
// results.
func (g *GPU) Download(dst []float32, t *nn.Tensor) {
	b, n := bufferOf(t), t.Len()
	if len(dst) != n {
		panic(fmt.Sprintf("%s: Download: tensor %v of %d elements into %d values",
			g.name, t, n, len(dst)))
	}
	if n == 0 {
		return
	}
	g.run("Download", func(x *exec) error {
		return x.drv().copyDtoH(unsafe.Pointer(&dst[0]), b.ptr, 4*n)
	})
	if g.failed() {
		nan := float32(math.NaN())
		for i := range dst {
			dst[i] = nan
		}
	}
}
