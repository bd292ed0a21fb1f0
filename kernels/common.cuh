// Shared definitions for every kernel file: the CUDA-or-emulation switch,
// shared-memory declarations, block reductions, a float atomic max, the
// launch check for host code and kernel registration.
#ifndef DMTC_KERNELS_COMMON_CUH
#define DMTC_KERNELS_COMMON_CUH

#ifdef DMTC_EMU
#include "emu/emu.h"
#else
#include <cuda_runtime.h>

#include <cstdio>
#include <cstdlib>
#endif

// Threads per warp, as a compile-time constant for array bounds.
constexpr int kWarpSize = 32;

// Returns ⌈a / b⌉ for a ≥ 0, b > 0.
__host__ __device__ __forceinline__ long long dmtc_ceil_div(long long a, long long b) {
    return (a + b - 1) / b;
}

// DMTC_SHARED(T, name, dims) declares a static shared array or scalar, for
// example DMTC_SHARED(float, tile, [32][33]). Use it instead of __shared__:
// under emulation it becomes per-block storage that starts as NaN.
// DMTC_DYNAMIC_SHARED(T, name) declares `T* name` pointing at the launch's
// dynamic shared memory (16-byte aligned).
#ifdef DMTC_EMU
#define DMTC_SHARED(T, name, dims) DMTC_EMU_SHARED(T, name, dims)
#define DMTC_DYNAMIC_SHARED(T, name) DMTC_EMU_DYNAMIC_SHARED(T, name)
#define DMTC_REGISTER_KERNEL(name) DMTC_EMU_REGISTER_KERNEL(name)
#else
#define DMTC_SHARED(T, name, dims) __shared__ T name dims
// One byte array for every kernel: declaring extern __shared__ arrays of
// different types under the same name in one file does not compile.
#define DMTC_DYNAMIC_SHARED(T, name)                                     \
    extern __shared__ __align__(16) unsigned char dmtc_dynamic_shared[]; \
    T* name = reinterpret_cast<T*>(dmtc_dynamic_shared)
#define DMTC_REGISTER_KERNEL(name)
#endif

// Returns the sum of v over the warp's 32 lanes in every lane. All 32 lanes
// must call it.
__device__ __forceinline__ float dmtc_warp_sum(float v) {
    for (int offset = kWarpSize / 2; offset > 0; offset /= 2) {
        v += __shfl_xor_sync(0xffffffffu, v, offset);
    }
    return v;
}

// Returns the maximum of v over the warp's 32 lanes in every lane. NaN
// propagates: fmaxf would drop it and hide a bad input.
__device__ __forceinline__ float dmtc_warp_max(float v) {
    for (int offset = kWarpSize / 2; offset > 0; offset /= 2) {
        const float other = __shfl_xor_sync(0xffffffffu, v, offset);
        v = (other > v || other != other) ? other : v;
    }
    return v;
}

// Returns the sum of v over a one-dimensional block in every thread.
// blockDim.x must be a multiple of 32 and at most 1024, and every thread of
// the block must call it. scratch points to at least 32 floats of shared memory;
// the function synchronises before returning, so scratch may be reused.
__device__ __forceinline__ float dmtc_block_sum(float v, float* scratch) {
    const int lane = static_cast<int>(threadIdx.x) % kWarpSize;
    const int warp = static_cast<int>(threadIdx.x) / kWarpSize;
    const int nwarps = static_cast<int>(blockDim.x) / kWarpSize;
    v = dmtc_warp_sum(v);
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    v = lane < nwarps ? scratch[lane] : 0.0f;
    v = dmtc_warp_sum(v);
    __syncthreads();
    return v;
}

// Returns the maximum of v over a one-dimensional block in every thread, with
// the same requirements as dmtc_block_sum. Inactive lanes of the last step
// contribute -inf.
__device__ __forceinline__ float dmtc_block_max(float v, float* scratch) {
    const int lane = static_cast<int>(threadIdx.x) % kWarpSize;
    const int warp = static_cast<int>(threadIdx.x) / kWarpSize;
    const int nwarps = static_cast<int>(blockDim.x) / kWarpSize;
    v = dmtc_warp_max(v);
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    v = lane < nwarps ? scratch[lane] : -INFINITY;
    v = dmtc_warp_max(v);
    __syncthreads();
    return v;
}

// Atomically sets *address to max(*address, v) and returns the old value.
// CUDA has no float atomicMax, so this loops on atomicCAS over the bit
// pattern. A NaN v is ignored.
__device__ __forceinline__ float dmtc_atomic_max_float(float* address, float v) {
    int* bits = reinterpret_cast<int*>(address);
    int old = *bits;
    while (__int_as_float(old) < v) {
        const int assumed = old;
        old = atomicCAS(bits, assumed, __float_as_int(v));
        if (old == assumed) break;
    }
    return __int_as_float(old);
}

#ifndef DMTC_EMU
// DMTC_CHECK_LAUNCH() reports the last launch error with the file and line
// and aborts. For host-side C++ tools and tests only; the Go backend checks
// every cuLaunchKernel result itself.
#define DMTC_CHECK_LAUNCH()                                                             \
    do {                                                                                \
        cudaError_t dmtc_err = cudaGetLastError();                                      \
        if (dmtc_err == cudaSuccess) dmtc_err = cudaDeviceSynchronize();                \
        if (dmtc_err != cudaSuccess) {                                                  \
            std::fprintf(stderr, "%s:%d: CUDA launch failed: %s\n", __FILE__, __LINE__, \
                         cudaGetErrorString(dmtc_err));                                 \
            std::abort();                                                               \
        }                                                                               \
    } while (0)
#else
// Under emulation a launch is checked by dmtc_emu_launch's return value.
#define DMTC_CHECK_LAUNCH() \
    do {                    \
    } while (0)
#endif

#endif  // DMTC_KERNELS_COMMON_CUH
