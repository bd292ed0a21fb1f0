// Self-test of the CUDA emulator, run by ctest. It launches the kernels of
// testdata/selftest_kernels.cu through the C interface and checks results
// computed by hand, including the two deliberately wrong kernels: a missing
// __syncthreads must produce NaN and a divergent shuffle must fail the launch.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "capi.h"

namespace {

int failures = 0;

void check(bool ok, const std::string& what) {
    if (!ok) {
        std::fprintf(stderr, "FAIL: %s\n", what.c_str());
        failures++;
    }
}

std::uint64_t addr(const void* p) { return reinterpret_cast<std::uint64_t>(p); }

// Launches a one-dimensional kernel and returns the C interface's status.
int launch(const char* name, long long grid, long long block, std::size_t shared,
           std::vector<std::uint64_t> args) {
    return dmtc_emu_launch_values(name, grid, 1, 1, block, 1, 1, shared, args.data(),
                                  static_cast<int>(args.size()));
}

void test_reverse() {
    const int n = 64;
    std::vector<float> in(n), out(n, -1.0f);
    for (int i = 0; i < n; i++) in[i] = static_cast<float>(i) + 0.5f;
    int rc = launch("dmtc_emutest_reverse", 1, n, 0, {addr(in.data()), addr(out.data())});
    check(rc == 0, std::string("reverse: launch failed: ") + dmtc_emu_last_error());
    for (int i = 0; i < n; i++) {
        check(out[i] == in[n - 1 - i], "reverse: out[" + std::to_string(i) +
                                           "] = " + std::to_string(out[i]) + ", want " +
                                           std::to_string(in[n - 1 - i]));
    }
}

// Without the barrier the first half of the threads must read the NaN fill,
// and the result must be the same on every run.
void test_missing_sync_reads_nan() {
    const int n = 64;
    std::vector<float> in(n), out(n);
    for (int i = 0; i < n; i++) in[i] = static_cast<float>(i);
    for (int run = 0; run < 3; run++) {
        int rc = launch("dmtc_emutest_reverse_missing_sync", 1, n, 0,
                        {addr(in.data()), addr(out.data())});
        check(rc == 0, std::string("missing sync: launch failed: ") + dmtc_emu_last_error());
        for (int i = 0; i < n; i++) {
            const bool want_nan = i < n / 2;
            check(std::isnan(out[i]) == want_nan,
                  "missing sync run " + std::to_string(run) + ": out[" + std::to_string(i) +
                      "] = " + std::to_string(out[i]) +
                      (want_nan ? ", want NaN (unwritten shared memory)" : ", want a number"));
        }
    }
}

void test_block_reductions() {
    // Block sizes 32 (one warp), 96 (three warps: not a power of two) and
    // 1024 (the maximum).
    for (int block : {32, 96, 1024}) {
        const int rows = 3;
        std::vector<float> in(static_cast<std::size_t>(rows) * block);
        std::vector<float> sum(rows), mx(rows);
        std::vector<double> want_sum(rows, 0.0);
        std::vector<float> want_max(rows, -INFINITY);
        for (int r = 0; r < rows; r++) {
            for (int t = 0; t < block; t++) {
                // Small integers: every partial sum is exact in float32.
                const float v = static_cast<float>((t * 7 + r * 13) % 17 - 8);
                in[static_cast<std::size_t>(r) * block + t] = v;
                want_sum[r] += v;
                if (v > want_max[r]) want_max[r] = v;
            }
        }
        in[static_cast<std::size_t>(rows - 1) * block + block / 2] = NAN;
        int rc =
            launch("dmtc_emutest_row_sum", rows, block, 0, {addr(in.data()), addr(sum.data())});
        check(rc == 0, std::string("row sum: launch failed: ") + dmtc_emu_last_error());
        rc = launch("dmtc_emutest_row_max", rows, block, 0, {addr(in.data()), addr(mx.data())});
        check(rc == 0, std::string("row max: launch failed: ") + dmtc_emu_last_error());
        for (int r = 0; r < rows - 1; r++) {
            check(sum[r] == static_cast<float>(want_sum[r]),
                  "row sum block " + std::to_string(block) + " row " + std::to_string(r) +
                      ": got " + std::to_string(sum[r]) + ", want " + std::to_string(want_sum[r]));
            check(mx[r] == want_max[r], "row max block " + std::to_string(block) + " row " +
                                            std::to_string(r) + ": got " + std::to_string(mx[r]) +
                                            ", want " + std::to_string(want_max[r]));
        }
        check(std::isnan(sum[rows - 1]),
              "row sum with a NaN input must be NaN, block " + std::to_string(block));
        check(std::isnan(mx[rows - 1]),
              "row max with a NaN input must be NaN, block " + std::to_string(block));
    }
}

void test_dynamic_shared() {
    const int n = 40;  // not a multiple of 32: a partial last warp
    std::vector<float> out(n);
    int rc = launch("dmtc_emutest_dynamic_shared", 1, n, n * sizeof(float), {addr(out.data())});
    check(rc == 0, std::string("dynamic shared: launch failed: ") + dmtc_emu_last_error());
    for (int i = 0; i < n; i++) {
        check(out[i] == static_cast<float>(n - 1 - i),
              "dynamic shared: out[" + std::to_string(i) + "] = " + std::to_string(out[i]));
    }
    rc = launch("dmtc_emutest_dynamic_shared", 1, n, 64 * 1024, {addr(out.data())});
    check(rc != 0, "dynamic shared: a 64 KiB request must be rejected like on a GPU");
}

void test_shared_per_block() {
    const int blocks = 4;
    std::vector<float> out(blocks, 0.0f);
    int rc = launch("dmtc_emutest_shared_per_block", blocks, 32, 0, {addr(out.data())});
    check(rc == 0, std::string("shared per block: launch failed: ") + dmtc_emu_last_error());
    for (int b = 0; b < blocks; b++) {
        check(std::isnan(out[b]), "shared per block: block " + std::to_string(b) + " saw " +
                                      std::to_string(out[b]) + ", want NaN (fresh shared memory)");
    }
}

void test_atomics() {
    const int blocks = 3, block = 64;
    std::vector<float> in(blocks * block);
    int positive = 0;
    for (int i = 0; i < blocks * block; i++) {
        in[i] = static_cast<float>((i * 37) % 101) - 50.0f;
        positive += in[i] > 0.0f;
    }
    std::vector<float> out = {0.0f, -INFINITY};
    std::vector<long long> counts = {0};
    int rc = launch("dmtc_emutest_atomics", blocks, block, 0,
                    {addr(in.data()), addr(out.data()), addr(counts.data())});
    check(rc == 0, std::string("atomics: launch failed: ") + dmtc_emu_last_error());
    check(out[0] == static_cast<float>(blocks * block),
          "atomics: atomicAdd count " + std::to_string(out[0]));
    check(out[1] == 50.0f, "atomics: float max " + std::to_string(out[1]) + ", want 50");
    check(counts[0] == positive, "atomics: __syncthreads_count total " + std::to_string(counts[0]) +
                                     ", want " + std::to_string(positive));
}

void test_shuffles() {
    std::vector<float> in(32), out(64);
    unsigned int want_ballot = 0;
    for (int i = 0; i < 32; i++) {
        in[i] = static_cast<float>(i % 3 == 0 ? i : -i);
        if (in[i] > 0.0f) want_ballot |= 1u << i;
    }
    const int delta = 3;
    int rc = launch("dmtc_emutest_shuffles", 1, 32, 0,
                    {addr(in.data()), addr(out.data()), static_cast<std::uint64_t>(delta)});
    check(rc == 0, std::string("shuffles: launch failed: ") + dmtc_emu_last_error());
    for (int i = 0; i < 32; i++) {
        // Width 8: a source beyond the lane's 8-lane segment returns its own value.
        const int src = (i % 8) + delta < 8 ? i + delta : i;
        check(out[i] == in[src], "shuffles: shfl_down lane " + std::to_string(i) + " got " +
                                     std::to_string(out[i]) + ", want " + std::to_string(in[src]));
        check(out[32 + i] == static_cast<float>(want_ballot),
              "shuffles: ballot lane " + std::to_string(i));
    }
}

void test_divergent_shuffle_fails() {
    std::vector<float> out(32);
    int rc = launch("dmtc_emutest_divergent_shuffle", 1, 32, 0, {addr(out.data())});
    const std::string err = dmtc_emu_last_error();
    check(rc != 0, "divergent shuffle: launch must fail");
    check(err.find("has returned") != std::string::npos,
          "divergent shuffle: error should say a lane has returned, got: " + err);
}

void test_divergent_syncthreads_fails() {
    std::vector<float> out(32);
    int rc = launch("dmtc_emutest_divergent_syncthreads", 1, 32, 0, {addr(out.data())});
    const std::string err = dmtc_emu_last_error();
    check(rc != 0, "divergent __syncthreads: launch must fail");
    check(err.find("divergent __syncthreads") != std::string::npos &&
              err.find("selftest_kernels.cu") != std::string::npos,
          "divergent __syncthreads: error should name both call sites, got: " + err);
}

void test_launch_errors() {
    std::vector<float> out(32);
    check(launch("dmtc_emutest_no_such_kernel", 1, 32, 0, {}) != 0, "unknown kernel must fail");
    check(launch("dmtc_emutest_reverse", 1, 32, 0, {addr(out.data())}) != 0,
          "a wrong parameter count must fail");
    check(launch("dmtc_emutest_reverse", 1, 2048, 0, {addr(out.data()), addr(out.data())}) != 0,
          "a block of 2048 threads must fail");
    check(launch("dmtc_emutest_reverse", 0, 32, 0, {addr(out.data()), addr(out.data())}) != 0,
          "an empty grid must fail");
}

}  // namespace

int main() {
    test_reverse();
    test_missing_sync_reads_nan();
    test_block_reductions();
    test_dynamic_shared();
    test_shared_per_block();
    test_atomics();
    test_shuffles();
    test_divergent_shuffle_fails();
    test_divergent_syncthreads_fails();
    test_launch_errors();
    if (failures != 0) {
        std::fprintf(stderr, "emulator self-test: %d failures\n", failures);
        return 1;
    }
    std::printf("emulator self-test: ok\n");
    return 0;
}
