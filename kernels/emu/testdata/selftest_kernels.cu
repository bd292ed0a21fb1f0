// Kernels for the emulator's self-test (emu/selftest.cc). They exercise
// barriers, warp collectives, shared memory and atomics, and two of them are
// deliberately wrong: the emulator must make their bug visible.
//
// Launch geometry: one-dimensional blocks; see each kernel.
#include "../../common.cuh"

constexpr int kSelftestBlock = 64;

// out[i] = in[n-1-i] for one block of n = blockDim.x ≤ kSelftestBlock
// threads, staged through shared memory.
extern "C" __global__ void dmtc_emutest_reverse(const float* in, float* out) {
    DMTC_SHARED(float, tile, [kSelftestBlock]);
    const int t = static_cast<int>(threadIdx.x);
    const int n = static_cast<int>(blockDim.x);
    tile[t] = in[t];
    __syncthreads();
    out[t] = tile[n - 1 - t];
}

// The same kernel without the barrier. The emulator runs each thread until
// it blocks or returns, so thread t < n/2 reads tile[n-1-t] before thread
// n-1-t has written it and gets the NaN fill, on every run.
extern "C" __global__ void dmtc_emutest_reverse_missing_sync(const float* in, float* out) {
    DMTC_SHARED(float, tile, [kSelftestBlock]);
    const int t = static_cast<int>(threadIdx.x);
    const int n = static_cast<int>(blockDim.x);
    tile[t] = in[t];
    out[t] = tile[n - 1 - t];
}

// out[b] = Σ in[b·blockDim.x + t] over t, one block per row, blockDim.x a
// multiple of 32; uses dmtc_block_sum (shuffles and a shared scratch array).
extern "C" __global__ void dmtc_emutest_row_sum(const float* in, float* out) {
    DMTC_SHARED(float, scratch, [kWarpSize]);
    const long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
    const float s = dmtc_block_sum(in[i], scratch);
    if (threadIdx.x == 0) out[blockIdx.x] = s;
}

// out[b] = max in[b·blockDim.x + t] over t, as dmtc_emutest_row_sum.
extern "C" __global__ void dmtc_emutest_row_max(const float* in, float* out) {
    DMTC_SHARED(float, scratch, [kWarpSize]);
    const long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
    const float m = dmtc_block_max(in[i], scratch);
    if (threadIdx.x == 0) out[blockIdx.x] = m;
}

// Writes the block's thread index into dynamic shared memory in reverse and
// reads it back: out[t] = blockDim.x - 1 - t.
extern "C" __global__ void dmtc_emutest_dynamic_shared(float* out) {
    DMTC_DYNAMIC_SHARED(float, buf);
    const int t = static_cast<int>(threadIdx.x);
    buf[blockDim.x - 1 - t] = static_cast<float>(t);
    __syncthreads();
    out[t] = buf[t];
}

// Every block records its shared variable before writing its own index into
// it. Blocks run in order on one host thread, so a block would read the
// previous block's index if shared memory were not per block and refilled:
// out[b] must be NaN for every b.
extern "C" __global__ void dmtc_emutest_shared_per_block(float* out) {
    DMTC_SHARED(float, value, );
    if (threadIdx.x == 0) out[blockIdx.x] = value;
    __syncthreads();
    if (threadIdx.x == 0) value = static_cast<float>(blockIdx.x);
}

// out[0] += 1 from every thread of the grid with atomicAdd; out[1] becomes
// the maximum of in[] with dmtc_atomic_max_float; counts[0] gets the number
// of threads whose in[] value is positive, via __syncthreads_count, summed
// over blocks.
extern "C" __global__ void dmtc_emutest_atomics(const float* in, float* out, long long* counts) {
    const long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
    atomicAdd(&out[0], 1.0f);
    dmtc_atomic_max_float(&out[1], in[i]);
    const int positive = __syncthreads_count(in[i] > 0.0f);
    if (threadIdx.x == 0) {
        atomicAdd(reinterpret_cast<unsigned long long*>(&counts[0]),
                  static_cast<unsigned long long>(positive));
    }
}

// out[t] = the value of lane (lane + delta) for __shfl_down_sync with width
// 8, and out[32 + t] = the warp's ballot of (in[t] > 0) as a float.
extern "C" __global__ void dmtc_emutest_shuffles(const float* in, float* out, long long delta) {
    const int t = static_cast<int>(threadIdx.x);
    out[t] = __shfl_down_sync(0xffffffffu, in[t], static_cast<unsigned int>(delta), 8);
    const unsigned int ballot = __ballot_sync(0xffffffffu, in[t] > 0.0f);
    out[32 + t] = static_cast<float>(ballot);
}

// Wrong on purpose: odd lanes leave before the shuffle, so the even lanes'
// full-mask shuffle waits for lanes that have returned. The emulator must
// report the divergence as a launch error.
extern "C" __global__ void dmtc_emutest_divergent_shuffle(float* out) {
    const int t = static_cast<int>(threadIdx.x);
    if (t % 2 == 1) return;
    out[t] = __shfl_xor_sync(0xffffffffu, 1.0f, 1);
}

// Wrong on purpose: the two halves of the block wait at different
// __syncthreads calls, which CUDA does not allow. The emulator must report it.
extern "C" __global__ void dmtc_emutest_divergent_syncthreads(float* out) {
    const int t = static_cast<int>(threadIdx.x);
    if (t < 16) {
        out[t] = 1.0f;
        __syncthreads();
    } else {
        out[t] = 2.0f;
        __syncthreads();
    }
}

DMTC_REGISTER_KERNEL(dmtc_emutest_divergent_syncthreads);
DMTC_REGISTER_KERNEL(dmtc_emutest_reverse);
DMTC_REGISTER_KERNEL(dmtc_emutest_reverse_missing_sync);
DMTC_REGISTER_KERNEL(dmtc_emutest_row_sum);
DMTC_REGISTER_KERNEL(dmtc_emutest_row_max);
DMTC_REGISTER_KERNEL(dmtc_emutest_dynamic_shared);
DMTC_REGISTER_KERNEL(dmtc_emutest_shared_per_block);
DMTC_REGISTER_KERNEL(dmtc_emutest_atomics);
DMTC_REGISTER_KERNEL(dmtc_emutest_shuffles);
DMTC_REGISTER_KERNEL(dmtc_emutest_divergent_shuffle);
