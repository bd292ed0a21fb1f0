// Host emulation of the CUDA C++ subset used by kernels/*.cu.
//
// With DMTC_EMU defined, common.cuh includes this header instead of the CUDA
// headers, and the kernel files compile as ordinary C++17. A launch through
// dmtc_emu_launch (emu/capi.h) runs the grid's blocks one after another on
// the calling host thread. The threads of a block run as cooperative fibers
// (ucontext), switched round-robin at barriers only:
//
//   - a thread runs until it calls __syncthreads, a warp collective
//     (__shfl_*_sync, __ballot_sync, __syncwarp, ...) or returns;
//   - a warp collective completes when every lane named in its mask has
//     arrived at a collective with the same mask, and is an error otherwise;
//   - __syncthreads releases when every thread that has not returned has
//     arrived (exited threads count as arrived, as on sm_70 and later).
//
// Shared memory is filled with 0xFF bytes (a float or double NaN, integer -1)
// at the start of every block. A kernel that reads shared memory before the
// barrier that would order it after the write therefore reads NaN on every
// run, deterministically, instead of racing. Because only one fiber runs at a
// time and switches happen only at barriers, atomics are plain
// read-modify-writes here.
//
// Shared memory must be declared with DMTC_SHARED / DMTC_DYNAMIC_SHARED from
// common.cuh. A bare __shared__ does not compile under emulation: a prefix
// macro cannot move a static variable into per-block, NaN-filled storage.
//
// This is a test harness, not an engine: expect a few microseconds per thread
// switch, so keep emulated problem sizes small.
#ifndef DMTC_EMU_EMU_H
#define DMTC_EMU_EMU_H

#ifndef DMTC_EMU
#error "emu/emu.h is only for emulation builds (define DMTC_EMU)"
#endif

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <type_traits>
#include <utility>

// ---- Types and built-in variables -----------------------------------------

struct uint3 {
    unsigned int x, y, z;
};

struct dim3 {
    unsigned int x, y, z;
    constexpr dim3(unsigned int vx = 1, unsigned int vy = 1, unsigned int vz = 1)
        : x(vx), y(vy), z(vz) {}
};

constexpr int warpSize = 32;

namespace dmtc_emu {

// Kinds of warp collective a fiber can wait at.
enum class WarpOp : int { Shfl, ShflUp, ShflDown, ShflXor, Ballot, Any, All, Sync };

// Block-wide barrier variants.
enum class BlockOp : int { Sync, Count, And, Or };

// Thread is the state of one emulated CUDA thread (one fiber).
struct Thread {
    uint3 thread_idx;
    int lane;  // linear thread index % 32
    // Warp collective in progress: the request and, once resolved, the result.
    WarpOp warp_op;
    unsigned int warp_mask;
    int warp_arg;  // source lane, delta or lane mask
    int warp_width;
    std::uint64_t warp_value;
    std::uint64_t warp_result;
    // Block barrier in progress, with the source location of its call.
    BlockOp block_op;
    const char* block_file;
    int block_line;
    int block_pred;
    int block_result;
};

// Block-wide state visible to the kernel body.
struct BlockState {
    uint3 block_idx;
    dim3 block_dim;
    dim3 grid_dim;
};

Thread* current_thread();
const BlockState& current_block();

// Yields at a warp collective and returns its result; see emu.cc.
std::uint64_t warp_collective(WarpOp op, unsigned int mask, std::uint64_t value, int arg,
                              int width);
// Yields at a block barrier and returns the reduced predicate (Count, And, Or).
// file and line locate the __syncthreads call, to detect divergent barriers.
int block_barrier(BlockOp op, int pred, const char* file, int line);

// Returns the per-block storage for the static shared variable identified by
// tag (the address of a function-local static). Every thread of the block
// gets the same pointer; the bytes start as 0xFF.
void* shared_static(const void* tag, std::size_t bytes, std::size_t align);
// Returns the dynamic shared memory of the current block (the launch's
// shared_bytes, 0xFF-filled, 16-byte aligned).
void* shared_dynamic();

// Stops the current block with an error that dmtc_emu_launch reports.
[[noreturn]] void fail(const char* message);

template <typename T>
inline std::uint64_t to_bits(T v) {
    static_assert(sizeof(T) <= 8 && std::is_trivially_copyable<T>::value,
                  "warp shuffles move values of at most 8 bytes");
    std::uint64_t bits = 0;
    std::memcpy(&bits, &v, sizeof(T));
    return bits;
}

template <typename T>
inline T from_bits(std::uint64_t bits) {
    T v;
    std::memcpy(&v, &bits, sizeof(T));
    return v;
}

// ---- Kernel registry -------------------------------------------------------

using KernelThunk = void (*)(void** args);

// Registers a kernel under name with a thunk that unpacks void** arguments.
// Returns a dummy value so that registration can initialise a static.
int register_kernel(const char* name, KernelThunk thunk, int arity);

// Parameters must be 8 bytes wide: the Go driver (gorgonia.org/cu v0.9.6)
// copies 8 bytes from each parameter's address, so kernels take device
// pointers, long long and double only.
template <typename T>
constexpr bool is_kernel_param = std::is_pointer<T>::value || std::is_same<T, long long>::value ||
                                 std::is_same<T, double>::value;

template <typename F, F f>
struct Thunk;

template <typename... A, void (*f)(A...)>
struct Thunk<void (*)(A...), f> {
    static_assert((is_kernel_param<A> && ...),
                  "kernel parameters must be pointers, long long or double (8 bytes each)");
    static constexpr int arity = sizeof...(A);

    template <std::size_t... I>
    static void call_with(void** args, std::index_sequence<I...>) {
        f(*static_cast<A*>(args[I])...);
    }
    static void call(void** args) { call_with(args, std::index_sequence_for<A...>{}); }
};

}  // namespace dmtc_emu

#define threadIdx (::dmtc_emu::current_thread()->thread_idx)
#define blockIdx (::dmtc_emu::current_block().block_idx)
#define blockDim (::dmtc_emu::current_block().block_dim)
#define gridDim (::dmtc_emu::current_block().grid_dim)

// ---- Qualifiers ------------------------------------------------------------

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __align__(n) __attribute__((aligned(n)))
#define __launch_bounds__(...)
#define __constant__ static_assert(false, "__constant__ memory is not emulated");
// A bare __shared__ is rejected; see the file comment.
#define __shared__ dmtc_emu_use_DMTC_SHARED_or_DMTC_DYNAMIC_SHARED_from_common_cuh

// ---- Barriers and warp collectives -----------------------------------------

// The default arguments record the caller's source location. Threads that
// wait at __syncthreads calls on different lines fail the launch: CUDA allows
// __syncthreads in conditional code only when the whole block takes the same
// branch.
inline void __syncthreads(const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
    dmtc_emu::block_barrier(dmtc_emu::BlockOp::Sync, 0, file, line);
}
inline int __syncthreads_count(int pred, const char* file = __builtin_FILE(),
                               int line = __builtin_LINE()) {
    return dmtc_emu::block_barrier(dmtc_emu::BlockOp::Count, pred, file, line);
}
inline int __syncthreads_and(int pred, const char* file = __builtin_FILE(),
                             int line = __builtin_LINE()) {
    return dmtc_emu::block_barrier(dmtc_emu::BlockOp::And, pred, file, line);
}
inline int __syncthreads_or(int pred, const char* file = __builtin_FILE(),
                            int line = __builtin_LINE()) {
    return dmtc_emu::block_barrier(dmtc_emu::BlockOp::Or, pred, file, line);
}

inline void __syncwarp(unsigned int mask = 0xffffffffu) {
    dmtc_emu::warp_collective(dmtc_emu::WarpOp::Sync, mask, 0, 0, warpSize);
}

template <typename T>
inline T __shfl_sync(unsigned int mask, T var, int src_lane, int width = warpSize) {
    return dmtc_emu::from_bits<T>(dmtc_emu::warp_collective(
        dmtc_emu::WarpOp::Shfl, mask, dmtc_emu::to_bits(var), src_lane, width));
}
template <typename T>
inline T __shfl_up_sync(unsigned int mask, T var, unsigned int delta, int width = warpSize) {
    return dmtc_emu::from_bits<T>(dmtc_emu::warp_collective(
        dmtc_emu::WarpOp::ShflUp, mask, dmtc_emu::to_bits(var), static_cast<int>(delta), width));
}
template <typename T>
inline T __shfl_down_sync(unsigned int mask, T var, unsigned int delta, int width = warpSize) {
    return dmtc_emu::from_bits<T>(dmtc_emu::warp_collective(
        dmtc_emu::WarpOp::ShflDown, mask, dmtc_emu::to_bits(var), static_cast<int>(delta), width));
}
template <typename T>
inline T __shfl_xor_sync(unsigned int mask, T var, int lane_mask, int width = warpSize) {
    return dmtc_emu::from_bits<T>(dmtc_emu::warp_collective(
        dmtc_emu::WarpOp::ShflXor, mask, dmtc_emu::to_bits(var), lane_mask, width));
}
inline unsigned int __ballot_sync(unsigned int mask, int pred) {
    return static_cast<unsigned int>(
        dmtc_emu::warp_collective(dmtc_emu::WarpOp::Ballot, mask, pred != 0, 0, warpSize));
}
inline int __any_sync(unsigned int mask, int pred) {
    return static_cast<int>(
        dmtc_emu::warp_collective(dmtc_emu::WarpOp::Any, mask, pred != 0, 0, warpSize));
}
inline int __all_sync(unsigned int mask, int pred) {
    return static_cast<int>(
        dmtc_emu::warp_collective(dmtc_emu::WarpOp::All, mask, pred != 0, 0, warpSize));
}
inline unsigned int __activemask() {
    // NOTE: every thread of the block that has not returned counts as active;
    // the emulator does not track divergence inside a warp.
    return __ballot_sync(0xffffffffu, 1);
}

// Memory fences order nothing between fibers that only switch at barriers.
inline void __threadfence() {}
inline void __threadfence_block() {}

// ---- Atomics ---------------------------------------------------------------
// Fibers never switch inside these functions, so plain read-modify-writes are
// atomic with respect to every other emulated thread.

template <typename T>
inline T atomicAdd(T* address, T val) {
    static_assert(std::is_arithmetic<T>::value, "atomicAdd takes an arithmetic type");
    T old = *address;
    *address = old + val;
    return old;
}
template <typename T>
inline T atomicSub(T* address, T val) {
    T old = *address;
    *address = old - val;
    return old;
}
template <typename T>
inline T atomicExch(T* address, T val) {
    T old = *address;
    *address = val;
    return old;
}
template <typename T>
inline T atomicMax(T* address, T val) {
    static_assert(std::is_integral<T>::value,
                  "CUDA has no float atomicMax; use dmtc_atomic_max_float from common.cuh");
    T old = *address;
    if (val > old) *address = val;
    return old;
}
template <typename T>
inline T atomicMin(T* address, T val) {
    static_assert(std::is_integral<T>::value,
                  "CUDA has no float atomicMin; build one from atomicCAS");
    T old = *address;
    if (val < old) *address = val;
    return old;
}
template <typename T>
inline T atomicCAS(T* address, T compare, T val) {
    static_assert(std::is_integral<T>::value, "atomicCAS takes an integer type");
    T old = *address;
    if (old == compare) *address = val;
    return old;
}

// ---- Math intrinsics -------------------------------------------------------
// <cmath> supplies expf, logf, log1pf, fmaxf, fminf, sqrtf, tanhf, fabsf and
// the rest of the C library; these are the CUDA-only names.

inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }
inline double rsqrt(double x) { return 1.0 / std::sqrt(x); }
inline float __expf(float x) { return std::exp(x); }
inline float __logf(float x) { return std::log(x); }
inline float __powf(float x, float y) { return std::pow(x, y); }
inline float __fdividef(float x, float y) { return x / y; }
inline float __frcp_rn(float x) { return 1.0f / x; }
inline float __fsqrt_rn(float x) { return std::sqrt(x); }
inline float __fmaf_rn(float a, float b, float c) { return std::fma(a, b, c); }
inline float __saturatef(float x) { return x < 0.0f ? 0.0f : (x > 1.0f ? 1.0f : x); }
inline int __float_as_int(float x) { return dmtc_emu::from_bits<int>(dmtc_emu::to_bits(x)); }
inline unsigned int __float_as_uint(float x) {
    return dmtc_emu::from_bits<unsigned int>(dmtc_emu::to_bits(x));
}
inline float __int_as_float(int x) { return dmtc_emu::from_bits<float>(dmtc_emu::to_bits(x)); }
inline float __uint_as_float(unsigned int x) {
    return dmtc_emu::from_bits<float>(dmtc_emu::to_bits(x));
}
inline int __popc(unsigned int x) { return __builtin_popcount(x); }
inline int __ffs(int x) { return __builtin_ffs(x); }
inline int __clz(int x) { return x == 0 ? 32 : __builtin_clz(static_cast<unsigned int>(x)); }
template <typename T>
inline T __ldg(const T* p) {
    return *p;
}

// CUDA device code has overloaded min and max for every arithmetic type.
inline int min(int a, int b) { return a < b ? a : b; }
inline int max(int a, int b) { return a > b ? a : b; }
inline unsigned int min(unsigned int a, unsigned int b) { return a < b ? a : b; }
inline unsigned int max(unsigned int a, unsigned int b) { return a > b ? a : b; }
inline long long min(long long a, long long b) { return a < b ? a : b; }
inline long long max(long long a, long long b) { return a > b ? a : b; }
inline float min(float a, float b) { return std::fmin(a, b); }
inline float max(float a, float b) { return std::fmax(a, b); }
inline double min(double a, double b) { return std::fmin(a, b); }
inline double max(double a, double b) { return std::fmax(a, b); }

// ---- Shared memory and registration ----------------------------------------

#define DMTC_EMU_CAT2(a, b) a##b
#define DMTC_EMU_CAT(a, b) DMTC_EMU_CAT2(a, b)

// DMTC_EMU_SHARED(T, name, dims) declares name as a reference to per-block
// storage of type T dims (dims is empty or array bounds such as [32][33]).
#define DMTC_EMU_SHARED(T, name, dims)                                                      \
    static const char DMTC_EMU_CAT(dmtc_emu_tag_, name) = 0;                                \
    using DMTC_EMU_CAT(dmtc_emu_type_, name) = T dims;                                      \
    DMTC_EMU_CAT(dmtc_emu_type_, name)& name =                                              \
        *static_cast<DMTC_EMU_CAT(dmtc_emu_type_, name)*>(::dmtc_emu::shared_static(        \
            &DMTC_EMU_CAT(dmtc_emu_tag_, name), sizeof(DMTC_EMU_CAT(dmtc_emu_type_, name)), \
            alignof(DMTC_EMU_CAT(dmtc_emu_type_, name))))

#define DMTC_EMU_DYNAMIC_SHARED(T, name) T* name = static_cast<T*>(::dmtc_emu::shared_dynamic())

#define DMTC_EMU_REGISTER_KERNEL(name)                                                       \
    static const int DMTC_EMU_CAT(dmtc_emu_registered_, name) =                              \
        ::dmtc_emu::register_kernel(#name, &::dmtc_emu::Thunk<decltype(&name), &name>::call, \
                                    ::dmtc_emu::Thunk<decltype(&name), &name>::arity)

#endif  // DMTC_EMU_EMU_H
