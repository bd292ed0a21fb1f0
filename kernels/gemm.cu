// Single-precision GEMM for row-major matrices:
//   C (m, n) = alpha·op(A)·op(B) + beta·C.
// op(A) (m, k) is A stored (m, k) with row stride lda, or, when trans_a, Aᵀ
// of A stored (k, m). Likewise op(B) (k, n) comes from B stored (k, n) or
// (n, k). With beta = 0, C is only written, so NaN already in C does not
// propagate.
//
// Launch geometry: a two-dimensional grid of ⌈n / kGemmTile⌉ × ⌈m / kGemmTile⌉
// blocks of kGemmThreads × kGemmThreads threads. Each block computes one
// kGemmTile × kGemmTile tile of C, stepping through k in slices of kGemmDepth:
// it stages the (kGemmTile × kGemmDepth) slice of op(A) and the
// (kGemmDepth × kGemmTile) slice of op(B) in shared memory, zero-padded past
// the matrix edges, and each thread accumulates a 4 × 4 grid of outputs
// spaced kGemmThreads apart (rows ty + 16i, columns tx + 16j), so that the
// threads of a warp read consecutive shared-memory words. Shared memory:
// 2 · 16 · 65 floats = 8.3 KB.
#include "common.cuh"

constexpr int kGemmTile = 64;
constexpr int kGemmDepth = 16;
constexpr int kGemmThreads = 16;  // per block side: 256 threads a block
constexpr int kGemmPerThread = kGemmTile / kGemmThreads;

extern "C" __global__ void __launch_bounds__(kGemmThreads* kGemmThreads)
    dmtc_gemm_sgemm(long long trans_a, long long trans_b, long long m, long long n, long long k,
                    double alpha, const float* __restrict__ a, long long lda,
                    const float* __restrict__ b, long long ldb, double beta, float* __restrict__ c,
                    long long ldc) {
    // The +1 column keeps transposed stores free of bank conflicts.
    DMTC_SHARED(float, tile_a, [kGemmDepth][kGemmTile + 1]);
    DMTC_SHARED(float, tile_b, [kGemmDepth][kGemmTile + 1]);

    const int tx = static_cast<int>(threadIdx.x);
    const int ty = static_cast<int>(threadIdx.y);
    const int tid = ty * kGemmThreads + tx;
    const long long row0 = static_cast<long long>(blockIdx.y) * kGemmTile;
    const long long col0 = static_cast<long long>(blockIdx.x) * kGemmTile;

    float acc[kGemmPerThread][kGemmPerThread];
    for (int i = 0; i < kGemmPerThread; i++) {
        for (int j = 0; j < kGemmPerThread; j++) acc[i][j] = 0.0f;
    }

    constexpr int kThreadsPerBlock = kGemmThreads * kGemmThreads;
    constexpr int kLoads = kGemmTile * kGemmDepth / kThreadsPerBlock;
    for (long long k0 = 0; k0 < k; k0 += kGemmDepth) {
        for (int l = 0; l < kLoads; l++) {
            const int idx = tid + l * kThreadsPerBlock;
            // op(A)[row0 + r][k0 + d]: consecutive threads read consecutive
            // addresses in either storage order.
            int r, d;
            if (trans_a) {
                d = idx / kGemmTile;
                r = idx % kGemmTile;
            } else {
                r = idx / kGemmDepth;
                d = idx % kGemmDepth;
            }
            const long long gr = row0 + r, gd = k0 + d;
            float va = 0.0f;
            if (gr < m && gd < k) va = trans_a ? a[gd * lda + gr] : a[gr * lda + gd];
            tile_a[d][r] = va;

            // op(B)[k0 + d][col0 + cc].
            int cc;
            if (trans_b) {
                cc = idx / kGemmDepth;
                d = idx % kGemmDepth;
            } else {
                d = idx / kGemmTile;
                cc = idx % kGemmTile;
            }
            const long long gc = col0 + cc, gk = k0 + d;
            float vb = 0.0f;
            if (gc < n && gk < k) vb = trans_b ? b[gc * ldb + gk] : b[gk * ldb + gc];
            tile_b[d][cc] = vb;
        }
        __syncthreads();
#pragma unroll
        for (int d = 0; d < kGemmDepth; d++) {
            float av[kGemmPerThread], bv[kGemmPerThread];
            for (int i = 0; i < kGemmPerThread; i++) av[i] = tile_a[d][ty + i * kGemmThreads];
            for (int j = 0; j < kGemmPerThread; j++) bv[j] = tile_b[d][tx + j * kGemmThreads];
            for (int i = 0; i < kGemmPerThread; i++) {
                for (int j = 0; j < kGemmPerThread; j++) acc[i][j] = fmaf(av[i], bv[j], acc[i][j]);
            }
        }
        __syncthreads();
    }

    const float fa = static_cast<float>(alpha);
    const float fb = static_cast<float>(beta);
    for (int i = 0; i < kGemmPerThread; i++) {
        const long long r = row0 + ty + i * kGemmThreads;
        if (r >= m) continue;
        for (int j = 0; j < kGemmPerThread; j++) {
            const long long col = col0 + tx + j * kGemmThreads;
            if (col >= n) continue;
            float* out = c + r * ldc + col;
            *out = fb == 0.0f ? fa * acc[i][j] : fa * acc[i][j] + fb * *out;
        }
    }
}

DMTC_REGISTER_KERNEL(dmtc_gemm_sgemm);
