// Element-wise memory kernels of the GPU backend: fill, copy, axpy and scale
// over flat float32 arrays of n elements (any tensor shape, viewed as (n)).
//
// Launch geometry: one-dimensional, kMemoryBlock threads a block and
// ⌈n / kMemoryBlock⌉ blocks, capped by the Go launcher. Each thread walks the
// array with a grid-sized stride, so any n fits one launch.
#include "common.cuh"

constexpr int kMemoryBlock = 256;  // also the __launch_bounds__ of every kernel here

// x[i] = v for i < n.
extern "C" __global__ void __launch_bounds__(kMemoryBlock)
    dmtc_memory_fill(float* x, long long n, double v) {
    const float value = static_cast<float>(v);
    const long long stride = static_cast<long long>(gridDim.x) * blockDim.x;
    for (long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
         i += stride) {
        x[i] = value;
    }
}

// dst[i] = src[i] for i < n. The arrays do not overlap.
extern "C" __global__ void __launch_bounds__(kMemoryBlock)
    dmtc_memory_copy(float* __restrict__ dst, const float* __restrict__ src, long long n) {
    const long long stride = static_cast<long long>(gridDim.x) * blockDim.x;
    for (long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
         i += stride) {
        dst[i] = src[i];
    }
}

// y[i] += alpha·x[i] for i < n. x and y may be the same array, so neither is
// __restrict__.
extern "C" __global__ void __launch_bounds__(kMemoryBlock)
    dmtc_memory_axpy(double alpha, const float* x, float* y, long long n) {
    const float a = static_cast<float>(alpha);
    const long long stride = static_cast<long long>(gridDim.x) * blockDim.x;
    for (long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
         i += stride) {
        y[i] += a * x[i];
    }
}

// x[i] *= alpha for i < n.
extern "C" __global__ void __launch_bounds__(kMemoryBlock)
    dmtc_memory_scale(double alpha, float* x, long long n) {
    const float a = static_cast<float>(alpha);
    const long long stride = static_cast<long long>(gridDim.x) * blockDim.x;
    for (long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
         i += stride) {
        x[i] *= a;
    }
}

DMTC_REGISTER_KERNEL(dmtc_memory_fill);
DMTC_REGISTER_KERNEL(dmtc_memory_copy);
DMTC_REGISTER_KERNEL(dmtc_memory_axpy);
DMTC_REGISTER_KERNEL(dmtc_memory_scale);
