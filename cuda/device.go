//go:build cuda || cudaemu

package cuda

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
)

// device runs every driver call on one goroutine locked to its OS thread,
// because a CUDA context is current on one thread. Callers hand it coarse
// jobs (a whole backend op) and wait for the job to return. The kernels that
// the job launched may still be running on the GPU afterwards.
type device struct {
	mu      sync.Mutex // serialises callers: one job in flight
	closed  bool       // set by stop, under mu
	jobs    chan func()
	stopped chan struct{}

	// Owned by the device goroutine.
	drv     driver
	alloc   *allocator
	kernels map[string]kernel
}

// errDeviceClosed is returned for jobs submitted after Close.
var errDeviceClosed = errors.New("the GPU backend is closed")

// startDevice starts the device goroutine and opens the driver on it.
func startDevice(open func() (driver, error)) (*device, error) {
	d := &device{jobs: make(chan func()), stopped: make(chan struct{})}
	opened := make(chan error, 1)
	go func() {
		// The goroutine never unlocks: when it exits, its thread exits too
		// and cannot be reused with a stale context current.
		runtime.LockOSThread()
		defer close(d.stopped)
		drv, err := open()
		if err != nil {
			opened <- err
			return
		}
		d.drv = drv
		d.alloc = newAllocator(drv)
		d.kernels = map[string]kernel{}
		opened <- nil
		for job := range d.jobs {
			job()
		}
	}()
	if err := <-opened; err != nil {
		return nil, err
	}
	return d, nil
}

// do runs fn on the device goroutine and returns its error. A panic in fn is
// re-raised on the caller's goroutine, so the device goroutine survives a
// programmer error.
func (d *device) do(fn func(x *exec) error) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return errDeviceClosed
	}
	var (
		err       error
		recovered any
		done      = make(chan struct{})
	)
	d.jobs <- func() {
		defer close(done)
		defer func() { recovered = recover() }()
		err = fn(&exec{dev: d})
	}
	<-done
	if recovered != nil {
		panic(recovered)
	}
	return err
}

// stop closes the driver and ends the device goroutine.
func (d *device) stop() error {
	err := d.do(func(x *exec) error {
		allocErr := d.alloc.releaseAll()
		if err := d.drv.close(); err != nil {
			return err
		}
		return allocErr
	})
	d.mu.Lock()
	if !d.closed {
		d.closed = true
		close(d.jobs)
	}
	d.mu.Unlock()
	<-d.stopped
	return err
}

// exec gives a job the driver, allocator and kernel cache of the device
// goroutine. It must not escape the job.
type exec struct {
	dev *device
}

// launch starts kernel name with the given geometry. Arguments are built
// with argPtr, argInt and argFloat, in the kernel's parameter order.
func (x *exec) launch(name string, grid, block dim3, sharedBytes int, args ...kernelArg) error {
	k, ok := x.dev.kernels[name]
	if !ok {
		var err error
		k, err = x.dev.drv.function(name)
		if err != nil {
			return err
		}
		x.dev.kernels[name] = k
	}
	if err := k.launch(grid, block, sharedBytes, args); err != nil {
		return fmt.Errorf("%s: launch %s grid %v block %v shared %d: %w",
			x.dev.drv.name(), name, grid, block, sharedBytes, err)
	}
	return nil
}

// launch1D launches kernel name over n elements with one thread an element,
// block threads a block and at most maxBlocks blocks. Kernels written for it
// loop with a grid-sized stride. It launches nothing when n is 0.
func (x *exec) launch1D(name string, n, block, maxBlocks int, args ...kernelArg) error {
	if n == 0 {
		return nil
	}
	return x.launch(name, grid1D(n, block, maxBlocks), dim3{block, 1, 1}, 0, args...)
}

// grid1D returns ⌈n / block⌉ blocks, at least 1 and at most maxBlocks.
func grid1D(n, block, maxBlocks int) dim3 {
	blocks := (n + block - 1) / block
	blocks = max(1, min(blocks, maxBlocks))
	return dim3{blocks, 1, 1}
}

// drv returns the device's driver, for copies and memsets.
func (x *exec) drv() driver { return x.dev.drv }

// mem returns the device's caching allocator.
func (x *exec) mem() *allocator { return x.dev.alloc }
