//go:build cuda || cudaemu

package cuda

import (
	"math"
	"unsafe"

	"github.com/dmtc-go/dmtc/nn"
)

// devicePtr is a device address; 0 is the null pointer.
type devicePtr uint64

// dim3 is a grid or block size.
type dim3 struct{ X, Y, Z int }

// kernelArg is one kernel parameter as the 8 bytes the kernel receives: a
// device pointer, a long long or a double. gorgonia.org/cu v0.9.6 copies 8
// bytes from each parameter's address, so kernels take no narrower scalar.
type kernelArg uint64

// kernel is a loaded kernel function.
type kernel interface {
	// launch starts the kernel on the driver's stream. The emulation driver
	// has finished the kernel when launch returns; the cu driver has only
	// queued it.
	launch(grid, block dim3, sharedBytes int, args []kernelArg) error
}

// driver is the thin layer over the CUDA driver API (or its emulation) that
// the rest of the package uses. Every method is called on the device
// goroutine only.
type driver interface {
	// name is the backend name used in messages: "cuda" or "cuda-emu".
	name() string
	alloc(bytes int) (devicePtr, error)
	free(p devicePtr) error
	copyHtoD(dst devicePtr, src unsafe.Pointer, bytes int) error
	copyDtoH(dst unsafe.Pointer, src devicePtr, bytes int) error
	copyDtoD(dst, src devicePtr, bytes int) error
	// memsetD32 sets n 32-bit words at dst to value.
	memsetD32(dst devicePtr, value uint32, n int) error
	// function looks a kernel up by its extern "C" name.
	function(name string) (kernel, error)
	// synchronize waits for all queued work and returns its first error.
	synchronize() error
	// close releases the context and everything allocated in it.
	close() error
}

// argPtr passes t's device pointer; a nil tensor passes the null pointer.
func argPtr(t *nn.Tensor) kernelArg {
	if t == nil {
		return 0
	}
	return kernelArg(bufferOf(t).ptr)
}

// argInt passes v as a long long.
func argInt(v int) kernelArg { return kernelArg(int64(v)) }

// argFloat passes v as a double; kernels convert it back to float.
func argFloat(v float32) kernelArg { return kernelArg(math.Float64bits(float64(v))) }

// argFloat64 passes v as a double.
func argFloat64(v float64) kernelArg { return kernelArg(math.Float64bits(v)) }
