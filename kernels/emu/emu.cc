// Runtime of the CUDA emulator: the kernel registry, the fiber scheduler that
// runs one block at a time, per-block shared memory, and the C interface in
// capi.h. See emu.h for the execution model.
#include "emu.h"

#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include <cstdarg>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "capi.h"

namespace dmtc_emu {
namespace {

// Hardware limits the emulator enforces so that a launch that fails on a GPU
// also fails here. Shared memory: 48 KiB static plus dynamic, the limit
// without cudaFuncSetAttribute opt-in on sm_80 and sm_90.
constexpr long long kMaxThreadsPerBlock = 1024;
constexpr long long kMaxBlockDimXY = 1024;
constexpr long long kMaxBlockDimZ = 64;
constexpr long long kMaxGridDimX = 2147483647LL;
constexpr long long kMaxGridDimYZ = 65535;
constexpr std::size_t kMaxSharedBytes = 48 * 1024;

// Each fiber gets its own stack with an inaccessible guard page below it, so
// an overflow faults instead of corrupting a neighbour. Pages are only
// committed when touched.
constexpr std::size_t kStackBytes = 256 * 1024;
constexpr unsigned char kPoisonByte = 0xFF;

enum class State { Ready, AtWarp, AtBlock, Done };

// A saved execution context. On x86-64 a switch saves the callee-saved
// registers on the old stack and swaps stack pointers (dmtc_emu_switch
// below), which takes tens of nanoseconds. Other architectures fall back to
// ucontext, whose swapcontext also makes a signal-mask system call.
struct Context {
#if defined(__x86_64__)
    void* sp = nullptr;
#else
    ucontext_t uc{};
#endif
};

struct Fiber {
    Thread thread;
    State state;
    Context context;
    char* stack;
};

struct Slot {
    const void* tag;
    std::size_t offset;
};

class Runner {
public:
    ~Runner() { release_stacks(); }

    // Runs one launch; returns an empty string or the failure message.
    std::string launch(const char* name, KernelThunk thunk, void** args, dim3 grid, dim3 block,
                       std::size_t shared_bytes);

    Fiber* current = nullptr;
    BlockState block_state{};
    Context scheduler{};
    KernelThunk thunk = nullptr;
    void** args = nullptr;
    bool failed = false;
    std::string error;

    alignas(16) unsigned char shared[kMaxSharedBytes];
    std::size_t dynamic_bytes = 0;  // at the start of shared[]
    std::size_t static_used = 0;    // static variables follow the dynamic part
    std::size_t static_high_water = 0;
    std::vector<Slot> slots;

private:
    void ensure_fibers(std::size_t n);
    void release_stacks();
    void run_block(std::size_t nthreads);
    void run_warp(std::size_t first, std::size_t end);
    void resolve_warp(std::size_t first, std::size_t end, std::size_t lane0);
    void release_block_barrier(std::size_t nthreads);
    void resume(Fiber& f);
    void failf(const char* format, ...);

    std::vector<Fiber> fibers_;
    char* stack_region_ = nullptr;
    std::size_t stack_region_bytes_ = 0;
    std::size_t page_bytes_ = 0;
};

thread_local Runner* t_runner = nullptr;

#if defined(__x86_64__)
extern "C" void dmtc_emu_switch(void** save_sp, void* load_sp);

// dmtc_emu_switch(save_sp, load_sp) pushes the state that the System V ABI
// makes callee-saved: rbp, rbx, r12-r15 and the SSE and x87 control words.
// It stores the stack pointer in *save_sp, loads load_sp, and pops the same
// frame from that stack before returning on it.
asm(R"(
    .pushsection .text
    .globl dmtc_emu_switch
    .type dmtc_emu_switch, @function
dmtc_emu_switch:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    subq $8, %rsp
    stmxcsr (%rsp)
    fnstcw 4(%rsp)
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    ldmxcsr (%rsp)
    fldcw 4(%rsp)
    addq $8, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .size dmtc_emu_switch, .-dmtc_emu_switch
    .popsection
)");

void switch_context(Context& save, Context& load) { dmtc_emu_switch(&save.sp, load.sp); }

// Prepares a frame on the stack [stack, stack + bytes) that dmtc_emu_switch
// pops into a call of entry with an ABI-aligned stack.
void init_context(Context& c, char* stack, std::size_t bytes, void (*entry)()) {
    auto top = reinterpret_cast<std::uintptr_t>(stack + bytes) & ~std::uintptr_t{15};
    auto* frame = reinterpret_cast<std::uint64_t*>(top);
    *--frame = 0;  // return address of entry, which never returns
    *--frame = reinterpret_cast<std::uint64_t>(entry);
    for (int i = 0; i < 6; i++) *--frame = 0;  // rbp, rbx, r12-r15
    // Default MXCSR (all exceptions masked, round to nearest) in the low
    // word, default x87 control word in the high word.
    *--frame = 0x1F80ull | (0x037Full << 32);
    c.sp = frame;
}
#else
void switch_context(Context& save, Context& load) { swapcontext(&save.uc, &load.uc); }

void init_context(Context& c, char* stack, std::size_t bytes, void (*entry)()) {
    getcontext(&c.uc);
    c.uc.uc_stack.ss_sp = stack;
    c.uc.uc_stack.ss_size = bytes;
    c.uc.uc_link = nullptr;
    makecontext(&c.uc, entry, 0);
}
#endif
thread_local std::string t_last_error;

struct Kernel {
    KernelThunk thunk;
    int arity;
};

std::map<std::string, Kernel>& registry() {
    static std::map<std::string, Kernel> kernels;
    return kernels;
}

[[noreturn]] void fiber_main() {
    Runner* r = t_runner;
    r->thunk(r->args);
    Fiber* f = r->current;
    f->state = State::Done;
    switch_context(f->context, r->scheduler);
    // A finished fiber is started afresh, never resumed.
    std::abort();
}

void Runner::release_stacks() {
    if (stack_region_ != nullptr) munmap(stack_region_, stack_region_bytes_);
    stack_region_ = nullptr;
    stack_region_bytes_ = 0;
}

void Runner::ensure_fibers(std::size_t n) {
    if (fibers_.size() >= n) return;
    release_stacks();
    page_bytes_ = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    const std::size_t per_fiber = kStackBytes + page_bytes_;
    stack_region_bytes_ = per_fiber * n;
    void* region = mmap(nullptr, stack_region_bytes_, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (region == MAP_FAILED) {
        stack_region_ = nullptr;
        fibers_.clear();
        std::fprintf(stderr, "dmtc emu: mmap of %zu bytes of fiber stacks failed\n",
                     stack_region_bytes_);
        std::abort();
    }
    stack_region_ = static_cast<char*>(region);
    fibers_.assign(n, Fiber{});
    for (std::size_t i = 0; i < n; i++) {
        char* guard = stack_region_ + i * per_fiber;
        mprotect(guard, page_bytes_, PROT_NONE);
        fibers_[i].stack = guard + page_bytes_;
    }
}

void Runner::failf(const char* format, ...) {
    if (failed) return;
    char buf[512];
    va_list ap;
    va_start(ap, format);
    std::vsnprintf(buf, sizeof buf, format, ap);
    va_end(ap);
    failed = true;
    error = buf;
}

void Runner::resume(Fiber& f) {
    current = &f;
    switch_context(scheduler, f.context);
    current = nullptr;
}

std::string describe_state(const Fiber& f) {
    switch (f.state) {
        case State::Done:
            return "has returned";
        case State::AtBlock:
            return "waits at __syncthreads";
        case State::AtWarp:
            return "waits at another warp collective";
        default:
            return "is running";
    }
}

// Resolves the warp collective that the lane at index lane0 waits at: every
// lane named in its mask must wait at the same collective with the same mask.
void Runner::resolve_warp(std::size_t first, std::size_t end, std::size_t lane0) {
    const Thread& t0 = fibers_[lane0].thread;
    const unsigned int mask = t0.warp_mask;
    const WarpOp op = t0.warp_op;
    const int width = t0.warp_width;
    const int self = static_cast<int>(lane0 - first);
    if ((mask >> self & 1u) == 0) {
        return failf("lane %d calls a warp collective with mask 0x%08x that omits itself", self,
                     mask);
    }
    if (width < 1 || width > warpSize || (width & (width - 1)) != 0) {
        return failf("warp shuffle width %d is not a power of two in [1, 32]", width);
    }
    for (int lane = 0; lane < warpSize; lane++) {
        if ((mask >> lane & 1u) == 0) continue;
        const std::size_t i = first + static_cast<std::size_t>(lane);
        if (i >= end) {
            return failf("warp collective mask 0x%08x names lane %d, which is outside the block",
                         mask, lane);
        }
        const Fiber& f = fibers_[i];
        if (f.state != State::AtWarp || f.thread.warp_mask != mask || f.thread.warp_op != op ||
            f.thread.warp_width != width) {
            return failf(
                "warp collective with mask 0x%08x: lane %d waits for lane %d, which %s "
                "(divergent or mismatched warp collective)",
                mask, self, lane, describe_state(f).c_str());
        }
    }

    std::uint64_t ballot = 0;
    int count = 0;
    for (int lane = 0; lane < warpSize; lane++) {
        if ((mask >> lane & 1u) == 0) continue;
        count++;
        if (fibers_[first + static_cast<std::size_t>(lane)].thread.warp_value != 0) {
            ballot |= 1ull << lane;
        }
    }
    const int popcount = __builtin_popcountll(ballot);

    for (int lane = 0; lane < warpSize; lane++) {
        if ((mask >> lane & 1u) == 0) continue;
        Thread& t = fibers_[first + static_cast<std::size_t>(lane)].thread;
        const int segment = lane & ~(width - 1);
        int src = lane;
        switch (op) {
            case WarpOp::Shfl:
                src = segment + (((t.warp_arg % width) + width) % width);
                break;
            case WarpOp::ShflUp:
                src = lane - t.warp_arg;
                if (src < segment) src = lane;
                break;
            case WarpOp::ShflDown:
                src = lane + t.warp_arg;
                if (src >= segment + width) src = lane;
                break;
            case WarpOp::ShflXor:
                // Lanes may read earlier segments but not later ones.
                src = lane ^ t.warp_arg;
                if (src >= segment + width || src < 0) src = lane;
                break;
            default:
                break;
        }
        switch (op) {
            case WarpOp::Ballot:
                t.warp_result = ballot;
                break;
            case WarpOp::Any:
                t.warp_result = popcount > 0;
                break;
            case WarpOp::All:
                t.warp_result = popcount == count;
                break;
            case WarpOp::Sync:
                t.warp_result = 0;
                break;
            default:
                // Reading a lane outside the mask is undefined in CUDA; return
                // poison so that the result cannot look plausible.
                if (src < warpSize && (mask >> src & 1u) != 0) {
                    t.warp_result =
                        fibers_[first + static_cast<std::size_t>(src)].thread.warp_value;
                } else {
                    t.warp_result = ~0ull;
                }
                break;
        }
    }
    for (int lane = 0; lane < warpSize; lane++) {
        if ((mask >> lane & 1u) != 0)
            fibers_[first + static_cast<std::size_t>(lane)].state = State::Ready;
    }
}

// Runs the lanes [first, end) until each has returned or waits at a block
// barrier, resolving warp collectives on the way.
void Runner::run_warp(std::size_t first, std::size_t end) {
    for (;;) {
        for (std::size_t i = first; i < end; i++) {
            if (fibers_[i].state == State::Ready) resume(fibers_[i]);
            if (failed) return;
        }
        std::size_t waiting = end;
        for (std::size_t i = first; i < end; i++) {
            if (fibers_[i].state == State::AtWarp) {
                waiting = i;
                break;
            }
        }
        if (waiting == end) return;
        resolve_warp(first, end, waiting);
        if (failed) return;
    }
}

void Runner::release_block_barrier(std::size_t nthreads) {
    const Thread* first = nullptr;
    int count = 0, all = 1, any = 0;
    for (std::size_t i = 0; i < nthreads; i++) {
        const Fiber& f = fibers_[i];
        if (f.state != State::AtBlock) continue;
        if (first == nullptr) {
            first = &f.thread;
        } else if (f.thread.block_line != first->block_line ||
                   std::strcmp(f.thread.block_file, first->block_file) != 0 ||
                   f.thread.block_op != first->block_op) {
            const uint3 a = first->thread_idx, b = f.thread.thread_idx;
            return failf(
                "divergent __syncthreads: thread (%u,%u,%u) waits at %s:%d, thread (%u,%u,%u) "
                "at %s:%d",
                a.x, a.y, a.z, first->block_file, first->block_line, b.x, b.y, b.z,
                f.thread.block_file, f.thread.block_line);
        }
        count += f.thread.block_pred != 0;
        all &= f.thread.block_pred != 0;
        any |= f.thread.block_pred != 0;
    }
    int result = 0;
    switch (first != nullptr ? first->block_op : BlockOp::Sync) {
        case BlockOp::Count:
            result = count;
            break;
        case BlockOp::And:
            result = all;
            break;
        case BlockOp::Or:
            result = any;
            break;
        default:
            break;
    }
    for (std::size_t i = 0; i < nthreads; i++) {
        Fiber& f = fibers_[i];
        if (f.state != State::AtBlock) continue;
        f.thread.block_result = result;
        f.state = State::Ready;
    }
}

void Runner::run_block(std::size_t nthreads) {
    // Fill the shared memory the previous blocks used plus the dynamic part.
    std::memset(shared, kPoisonByte, dynamic_bytes + static_high_water);
    static_used = 0;
    slots.clear();

    const dim3 bd = block_state.block_dim;
    for (std::size_t i = 0; i < nthreads; i++) {
        Fiber& f = fibers_[i];
        f.thread = Thread{};
        f.thread.thread_idx.x = static_cast<unsigned int>(i % bd.x);
        f.thread.thread_idx.y = static_cast<unsigned int>(i / bd.x % bd.y);
        f.thread.thread_idx.z =
            static_cast<unsigned int>(i / (static_cast<std::size_t>(bd.x) * bd.y));
        f.thread.lane = static_cast<int>(i % warpSize);
        f.state = State::Ready;
        init_context(f.context, f.stack, kStackBytes, fiber_main);
    }

    for (;;) {
        for (std::size_t first = 0; first < nthreads; first += warpSize) {
            run_warp(first, std::min(first + warpSize, nthreads));
            if (failed) return;
        }
        bool waiting = false;
        for (std::size_t i = 0; i < nthreads; i++) {
            if (fibers_[i].state == State::AtBlock) {
                waiting = true;
                break;
            }
        }
        if (!waiting) return;
        release_block_barrier(nthreads);
        if (failed) return;
    }
}

std::string Runner::launch(const char* name, KernelThunk kernel, void** kernel_args, dim3 grid,
                           dim3 block, std::size_t shared_bytes) {
    const std::size_t nthreads = static_cast<std::size_t>(block.x) * block.y * block.z;
    ensure_fibers(nthreads);
    thunk = kernel;
    args = kernel_args;
    failed = false;
    error.clear();
    dynamic_bytes = (shared_bytes + 15) / 16 * 16;
    static_high_water = 0;
    block_state.block_dim = block;
    block_state.grid_dim = grid;

    Runner* saved = t_runner;
    t_runner = this;
    for (unsigned int z = 0; z < grid.z && !failed; z++) {
        for (unsigned int y = 0; y < grid.y && !failed; y++) {
            for (unsigned int x = 0; x < grid.x && !failed; x++) {
                block_state.block_idx = uint3{x, y, z};
                run_block(nthreads);
                if (failed) {
                    error = std::string("kernel ") + name + " block (" + std::to_string(x) + "," +
                            std::to_string(y) + "," + std::to_string(z) + "): " + error;
                }
            }
        }
    }
    t_runner = saved;
    current = nullptr;
    return failed ? error : std::string();
}

Runner& runner() {
    thread_local std::unique_ptr<Runner> r(new Runner());
    return *r;
}

int set_error(const std::string& message) {
    t_last_error = message;
    return 1;
}

}  // namespace

Thread* current_thread() { return &t_runner->current->thread; }

const BlockState& current_block() { return t_runner->block_state; }

std::uint64_t warp_collective(WarpOp op, unsigned int mask, std::uint64_t value, int arg,
                              int width) {
    Runner* r = t_runner;
    Fiber* f = r->current;
    f->thread.warp_op = op;
    f->thread.warp_mask = mask;
    f->thread.warp_value = value;
    f->thread.warp_arg = arg;
    f->thread.warp_width = width;
    f->state = State::AtWarp;
    switch_context(f->context, r->scheduler);
    return f->thread.warp_result;
}

int block_barrier(BlockOp op, int pred, const char* file, int line) {
    Runner* r = t_runner;
    Fiber* f = r->current;
    f->thread.block_op = op;
    f->thread.block_file = file;
    f->thread.block_line = line;
    f->thread.block_pred = pred;
    f->state = State::AtBlock;
    switch_context(f->context, r->scheduler);
    return f->thread.block_result;
}

void* shared_static(const void* tag, std::size_t bytes, std::size_t align) {
    Runner* r = t_runner;
    for (const Slot& s : r->slots) {
        if (s.tag == tag) return r->shared + s.offset;
    }
    std::size_t offset = (r->dynamic_bytes + r->static_used + align - 1) / align * align;
    if (offset + bytes > kMaxSharedBytes) {
        fail("static plus dynamic shared memory exceeds 48 KiB");
    }
    r->slots.push_back(Slot{tag, offset});
    r->static_used = offset + bytes - r->dynamic_bytes;
    if (r->static_used > r->static_high_water) {
        // Memory beyond the previous high-water mark has not been filled yet.
        std::memset(r->shared + r->dynamic_bytes + r->static_high_water, kPoisonByte,
                    r->static_used - r->static_high_water);
        r->static_high_water = r->static_used;
    }
    return r->shared + offset;
}

void* shared_dynamic() { return t_runner->shared; }

void fail(const char* message) {
    Runner* r = t_runner;
    Fiber* f = r->current;
    if (!r->failed) {
        const uint3 t = f->thread.thread_idx;
        r->failed = true;
        r->error = "thread (" + std::to_string(t.x) + "," + std::to_string(t.y) + "," +
                   std::to_string(t.z) + "): " + message;
    }
    f->state = State::Done;
    switch_context(f->context, r->scheduler);
    // The scheduler never resumes a fiber after a failure.
    std::abort();
}

int register_kernel(const char* name, KernelThunk thunk, int arity) {
    auto& kernels = registry();
    if (kernels.count(name) != 0) {
        std::fprintf(stderr, "dmtc emu: kernel %s is registered twice\n", name);
        std::abort();
    }
    kernels[name] = Kernel{thunk, arity};
    return 1;
}

}  // namespace dmtc_emu

namespace {

int launch(const char* name, long long gx, long long gy, long long gz, long long bx, long long by,
           long long bz, std::size_t shared_bytes, void** args, int nargs) {
    using dmtc_emu::set_error;
    auto& kernels = dmtc_emu::registry();
    auto it = kernels.find(name);
    if (it == kernels.end()) {
        return set_error(std::string("kernel ") + name +
                         " is not registered: is its file compiled into libdmtc_emu and does "
                         "it end with DMTC_REGISTER_KERNEL?");
    }
    if (nargs >= 0 && nargs != it->second.arity) {
        return set_error(std::string("kernel ") + name + " takes " +
                         std::to_string(it->second.arity) + " parameters, got " +
                         std::to_string(nargs));
    }
    const std::string dims = " grid (" + std::to_string(gx) + "," + std::to_string(gy) + "," +
                             std::to_string(gz) + ") block (" + std::to_string(bx) + "," +
                             std::to_string(by) + "," + std::to_string(bz) + ")";
    if (gx < 1 || gy < 1 || gz < 1 || gx > dmtc_emu::kMaxGridDimX || gy > dmtc_emu::kMaxGridDimYZ ||
        gz > dmtc_emu::kMaxGridDimYZ) {
        return set_error("launch of " + std::string(name) + ": invalid grid size" + dims);
    }
    if (bx < 1 || by < 1 || bz < 1 || bx > dmtc_emu::kMaxBlockDimXY ||
        by > dmtc_emu::kMaxBlockDimXY || bz > dmtc_emu::kMaxBlockDimZ ||
        bx * by * bz > dmtc_emu::kMaxThreadsPerBlock) {
        return set_error("launch of " + std::string(name) + ": invalid block size" + dims);
    }
    if (shared_bytes > dmtc_emu::kMaxSharedBytes) {
        return set_error("launch of " + std::string(name) + ": " + std::to_string(shared_bytes) +
                         " bytes of dynamic shared memory exceed 48 KiB");
    }
    const std::string err = dmtc_emu::runner().launch(
        name, it->second.thunk, args,
        dim3(static_cast<unsigned>(gx), static_cast<unsigned>(gy), static_cast<unsigned>(gz)),
        dim3(static_cast<unsigned>(bx), static_cast<unsigned>(by), static_cast<unsigned>(bz)),
        shared_bytes);
    if (!err.empty()) return set_error(err);
    return 0;
}

}  // namespace

extern "C" {

int dmtc_emu_launch(const char* name, long long gx, long long gy, long long gz, long long bx,
                    long long by, long long bz, size_t shared_bytes, void** args) {
    return launch(name, gx, gy, gz, bx, by, bz, shared_bytes, args, -1);
}

int dmtc_emu_launch_values(const char* name, long long gx, long long gy, long long gz, long long bx,
                           long long by, long long bz, size_t shared_bytes, const uint64_t* values,
                           int nargs) {
    std::vector<void*> args(static_cast<std::size_t>(nargs > 0 ? nargs : 0));
    for (std::size_t i = 0; i < args.size(); i++) {
        args[i] = const_cast<uint64_t*>(values + i);
    }
    return launch(name, gx, gy, gz, bx, by, bz, shared_bytes, args.data(), nargs);
}

int dmtc_emu_has_kernel(const char* name) { return dmtc_emu::registry().count(name) != 0; }

int dmtc_emu_malloc(uint64_t* ptr, size_t bytes) {
    void* p = std::aligned_alloc(256, (bytes + 255) / 256 * 256);
    if (p == nullptr && bytes != 0) {
        return dmtc_emu::set_error("out of host memory allocating " + std::to_string(bytes) +
                                   " bytes");
    }
    *ptr = reinterpret_cast<uint64_t>(p);
    return 0;
}

int dmtc_emu_free(uint64_t ptr) {
    std::free(reinterpret_cast<void*>(ptr));
    return 0;
}

int dmtc_emu_memcpy(uint64_t dst, uint64_t src, size_t bytes) {
    if (bytes != 0) {
        std::memmove(reinterpret_cast<void*>(dst), reinterpret_cast<const void*>(src), bytes);
    }
    return 0;
}

int dmtc_emu_memset_d32(uint64_t dst, uint32_t value, size_t n) {
    uint32_t* p = reinterpret_cast<uint32_t*>(dst);
    for (size_t i = 0; i < n; i++) p[i] = value;
    return 0;
}

const char* dmtc_emu_last_error(void) { return dmtc_emu::t_last_error.c_str(); }

}  // extern "C"
