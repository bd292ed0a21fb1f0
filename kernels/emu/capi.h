/* C interface of the CUDA emulator, used by the cudaemu build of the Go
 * package cuda through cgo. "Device" memory is host memory: a device pointer
 * is the host address as an integer. Every function returns 0 on success and
 * a non-zero code on failure; dmtc_emu_last_error then describes the failure.
 */
#ifndef DMTC_EMU_CAPI_H
#define DMTC_EMU_CAPI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Runs kernel name over a gx×gy×gz grid of bx×by×bz blocks with
 * shared_bytes of dynamic shared memory. args[i] points to the i-th
 * parameter's value, as with cuLaunchKernel. The kernel has finished when
 * the call returns. */
int dmtc_emu_launch(const char* name, long long gx, long long gy, long long gz, long long bx,
                    long long by, long long bz, size_t shared_bytes, void** args);

/* Like dmtc_emu_launch, with the parameters given as nargs 8-byte values; it
 * fails when nargs differs from the kernel's parameter count. */
int dmtc_emu_launch_values(const char* name, long long gx, long long gy, long long gz, long long bx,
                           long long by, long long bz, size_t shared_bytes, const uint64_t* values,
                           int nargs);

/* Reports whether a kernel called name is registered (1) or not (0). */
int dmtc_emu_has_kernel(const char* name);

/* Allocates bytes of 256-byte aligned memory, not initialised, into *ptr. */
int dmtc_emu_malloc(uint64_t* ptr, size_t bytes);
int dmtc_emu_free(uint64_t ptr);
int dmtc_emu_memcpy(uint64_t dst, uint64_t src, size_t bytes);
/* Sets n 32-bit words at dst to value, like cuMemsetD32. */
int dmtc_emu_memset_d32(uint64_t dst, uint32_t value, size_t n);

/* Returns the message of the last failure on the calling thread ("" if none).
 * The string stays valid until the next failing call on that thread. */
const char* dmtc_emu_last_error(void);

#ifdef __cplusplus
}
#endif

#endif /* DMTC_EMU_CAPI_H */
