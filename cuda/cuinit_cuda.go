//go:build cuda && !cudaemu

package cuda

// gorgonia.org/cu v0.9.6 calls cuInit in its package init and exits the
// process when it fails, before main or any test runs. This file defines
// cuInit in the executable itself. The static linker binds cu's call to this
// definition rather than libcuda's (a definition in the executable takes
// precedence over one in a shared library), and this cuInit calls the real
// one through dlsym(RTLD_NEXT). It records the result and reports success to
// cu, so the process keeps running without a usable GPU: New returns the
// recorded failure, tests skip with it, and the CPU backend still works.

/*
#cgo LDFLAGS: -ldl
#define _GNU_SOURCE
#include <cuda.h>
#include <dlfcn.h>

static CUresult dmtc_cuinit_result = CUDA_ERROR_NOT_INITIALIZED;
static int dmtc_cuinit_found = 0;

CUresult CUDAAPI cuInit(unsigned int flags) {
	typedef CUresult (*init_fn)(unsigned int);
	init_fn real = (init_fn)dlsym(RTLD_NEXT, "cuInit");
	if (real == NULL) {
		dmtc_cuinit_found = 0;
		dmtc_cuinit_result = CUDA_ERROR_NOT_FOUND;
		return CUDA_SUCCESS;
	}
	dmtc_cuinit_found = 1;
	dmtc_cuinit_result = real(flags);
	return CUDA_SUCCESS;
}

static int dmtc_cuinit_status(int* found) {
	*found = dmtc_cuinit_found;
	return (int)dmtc_cuinit_result;
}

static const char* dmtc_cuda_error_name(int code) {
	const char* name = NULL;
	typedef CUresult (*name_fn)(CUresult, const char**);
	name_fn get = (name_fn)dlsym(RTLD_DEFAULT, "cuGetErrorName");
	if (get == NULL || get((CUresult)code, &name) != CUDA_SUCCESS || name == NULL) {
		return "unknown CUDA error";
	}
	return name;
}
*/
import "C"

import "fmt"

// initError returns why the CUDA driver could not be initialised, or nil.
func initError() error {
	var found C.int
	code := C.dmtc_cuinit_status(&found)
	if found == 0 {
		return fmt.Errorf("cuda: cuInit not found in the CUDA driver library (libcuda.so.1): " +
			"install the NVIDIA driver, or use the CPU backend, which needs no GPU")
	}
	if code != 0 {
		return fmt.Errorf("cuda: cuInit failed with %s (%d): no usable NVIDIA GPU or driver; "+
			"use the CPU backend, which needs no GPU",
			C.GoString(C.dmtc_cuda_error_name(code)), int(code))
	}
	return nil
}
