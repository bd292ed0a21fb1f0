//go:build cudaemu && !cuda

package cuda

// The emulation library is built by CMake; see kernels/README.md.

/*
#cgo CFLAGS: -I${SRCDIR}/../kernels/emu
#cgo LDFLAGS: -L${SRCDIR}/../build/emu -ldmtc_emu -lstdc++ -lm
#include <stdlib.h>
#include "capi.h"
*/
import "C"

import (
	"fmt"
	"unsafe"
)

// The constant is written by CMake next to the library; "undefined:
// emuLibrarySHA256" means build/emu/libdmtc_emu.a has not been built: run
// cmake -S . -B build && cmake --build build.
var _ = emuLibrarySHA256

// emuDriver runs kernels with the host emulator in libdmtc_emu. Device
// pointers are host addresses from the C heap, which Go's garbage collector
// does not manage.
type emuDriver struct{}

func openEmuDriver() (driver, error) { return emuDriver{}, nil }

func emuError(op string) error {
	return fmt.Errorf("cuda-emu: %s: %s", op, C.GoString(C.dmtc_emu_last_error()))
}

func (emuDriver) name() string { return "cuda-emu" }

func (emuDriver) alloc(bytes int) (devicePtr, error) {
	var p C.uint64_t
	if C.dmtc_emu_malloc(&p, C.size_t(bytes)) != 0 {
		return 0, emuError("alloc")
	}
	return devicePtr(p), nil
}

func (emuDriver) free(p devicePtr) error {
	C.dmtc_emu_free(C.uint64_t(p))
	return nil
}

func (emuDriver) copyHtoD(dst devicePtr, src unsafe.Pointer, bytes int) error {
	C.dmtc_emu_memcpy(C.uint64_t(dst), C.uint64_t(uintptr(src)), C.size_t(bytes))
	return nil
}

func (emuDriver) copyDtoH(dst unsafe.Pointer, src devicePtr, bytes int) error {
	C.dmtc_emu_memcpy(C.uint64_t(uintptr(dst)), C.uint64_t(src), C.size_t(bytes))
	return nil
}

func (emuDriver) copyDtoD(dst, src devicePtr, bytes int) error {
	C.dmtc_emu_memcpy(C.uint64_t(dst), C.uint64_t(src), C.size_t(bytes))
	return nil
}

func (emuDriver) memsetD32(dst devicePtr, value uint32, n int) error {
	C.dmtc_emu_memset_d32(C.uint64_t(dst), C.uint32_t(value), C.size_t(n))
	return nil
}

type emuKernel struct {
	name  string
	cname *C.char // freed never: kernels live as long as the process
}

func (emuDriver) function(name string) (kernel, error) {
	cname := C.CString(name)
	if C.dmtc_emu_has_kernel(cname) == 0 {
		C.free(unsafe.Pointer(cname))
		return nil, fmt.Errorf("cuda-emu: kernel %s not found in libdmtc_emu: "+
			"rebuild with cmake --build build", name)
	}
	return &emuKernel{name: name, cname: cname}, nil
}

func (k *emuKernel) launch(grid, block dim3, sharedBytes int, args []kernelArg) error {
	var values *C.uint64_t
	if len(args) > 0 {
		values = (*C.uint64_t)(unsafe.Pointer(&args[0]))
	}
	rc := C.dmtc_emu_launch_values(k.cname,
		C.longlong(grid.X), C.longlong(grid.Y), C.longlong(grid.Z),
		C.longlong(block.X), C.longlong(block.Y), C.longlong(block.Z),
		C.size_t(sharedBytes), values, C.int(len(args)))
	if rc != 0 {
		return emuError("launch " + k.name)
	}
	return nil
}

func (emuDriver) synchronize() error { return nil }

func (emuDriver) close() error { return nil }
