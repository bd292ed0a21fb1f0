#include "common.cuh"
#include "reduce.cuh"

// Pseudo-graph ops: row L2 normalisation, cosine similarity, threshold
// edges, top-k neighbours, and the tile-and-concatenate of a code vector
// onto a feature map.
//
//   l2norm          x, y (N, D), norms (N) or null: y = x / max(‖x‖, 1e−12),
//                   norms = ‖x‖
//   l2norm_backward with r = max(‖x‖, 1e−12):
//                   dx += (dy − y·(y·dy))/r when ‖x‖ > 1e−12, else dy/r
//   cosine          a (N, D), b (M, D), s (N, M): s[i,j] = a_i·b_j / (‖a_i‖‖b_j‖)
//                   clamped to [−1, 1], 0 when either norm is 0
//   threshold       s, g flat (n): g = 1 where s ≥ tau, else 0 (NaN gives 0)
//   topk            s (N, M), idx (N, K): column indices of the K largest
//                   values of each row, largest first, ties to the lowest
//                   index, NaN below every number, −1 past the candidates
//   tile_concat     y (N, K), m (N, C, H, W), out (N, K+C, H, W)
//   tile_concat_backward_y  dy[n,k] += Σ_{h,w} dout[n,k,h,w]
//   tile_concat_backward_m  dm[n,c,h,w] += dout[n,K+c,h,w]
//
// Launch geometry: l2norm and its backward take one block of kRowBlock
// threads per row (grid N). cosine takes (⌈M/kCosineTile⌉, ⌈N/kCosineTile⌉)
// blocks of kCosineTile×kCosineTile threads; each thread computes one s[i,j]
// from kCosineTile-wide slices of a and b staged in shared memory. topk takes
// one block of kTopKBlock threads per row. The element-wise kernels take a
// one-dimensional grid of kGraphBlock threads per block with a grid stride.

constexpr int kRowBlock = 256;
constexpr int kCosineTile = 16;
constexpr int kTopKBlock = 128;
constexpr int kGraphBlock = 256;

constexpr double kNormFloor = 1e-12;

static_assert(kGraphBlock % 32 == 0, "kGraphBlock must be whole warps");

extern "C" __global__ void dmtc_graph_l2norm(const float* x, float* y, float* norms, long long n,
                                             long long d) {
    if ((long long)blockIdx.x >= n) {  // the whole block leaves together
        return;
    }
    DMTC_SHARED(double, shared_sum, [kRowBlock]);
    long long base = (long long)blockIdx.x * d;
    double s = 0;
    for (long long j = threadIdx.x; j < d; j += kRowBlock) {
        double v = (double)x[base + j];
        s += v * v;
    }
    s = dmtc_tree_sum<kRowBlock>(s, shared_sum);
    double norm = sqrt(s);
    double inv = 1.0 / (norm > kNormFloor ? norm : kNormFloor);
    for (long long j = threadIdx.x; j < d; j += kRowBlock) {
        y[base + j] = (float)((double)x[base + j] * inv);
    }
    if (threadIdx.x == 0 && norms != nullptr) {
        norms[blockIdx.x] = (float)norm;
    }
}

extern "C" __global__ void dmtc_graph_l2norm_backward(const float* y, const float* norms,
                                                      const float* dy, float* dx, long long n,
                                                      long long d) {
    if ((long long)blockIdx.x >= n) {  // the whole block leaves together
        return;
    }
    DMTC_SHARED(double, shared_sum, [kRowBlock]);
    long long base = (long long)blockIdx.x * d;
    double norm = (double)norms[blockIdx.x];
    double dot = 0;
    for (long long j = threadIdx.x; j < d; j += kRowBlock) {
        dot += (double)y[base + j] * (double)dy[base + j];
    }
    dot = dmtc_tree_sum<kRowBlock>(dot, shared_sum);
    // Below the floor the denominator is the constant 1e−12, so y is linear
    // in x and the projection term vanishes.
    if (!(norm > kNormFloor)) {
        dot = 0;
    }
    double r = norm > kNormFloor ? norm : kNormFloor;
    for (long long j = threadIdx.x; j < d; j += kRowBlock) {
        double g = ((double)dy[base + j] - (double)y[base + j] * dot) / r;
        dx[base + j] += (float)g;
    }
}

extern "C" __global__ void dmtc_graph_cosine(const float* a, const float* b, float* s, long long n,
                                             long long m, long long d) {
    DMTC_SHARED(float, tile_a, [kCosineTile][kCosineTile + 1]);
    DMTC_SHARED(float, tile_b, [kCosineTile][kCosineTile + 1]);
    long long i = (long long)blockIdx.y * kCosineTile + threadIdx.y;
    long long j = (long long)blockIdx.x * kCosineTile + threadIdx.x;
    // Rows of a and b staged by this thread: tile_a row threadIdx.y holds
    // a_i, tile_b row threadIdx.y holds b of column blockIdx.x·TILE + ty.
    long long load_a = i;
    long long load_b = (long long)blockIdx.x * kCosineTile + threadIdx.y;
    double dot = 0, na = 0, nb = 0;
    for (long long k0 = 0; k0 < d; k0 += kCosineTile) {
        long long k = k0 + threadIdx.x;
        tile_a[threadIdx.y][threadIdx.x] = (load_a < n && k < d) ? a[load_a * d + k] : 0.0f;
        tile_b[threadIdx.y][threadIdx.x] = (load_b < m && k < d) ? b[load_b * d + k] : 0.0f;
        __syncthreads();
        for (int t = 0; t < kCosineTile; t++) {
            double va = (double)tile_a[threadIdx.y][t];
            double vb = (double)tile_b[threadIdx.x][t];
            dot += va * vb;
            na += va * va;
            nb += vb * vb;
        }
        __syncthreads();
    }
    if (i < n && j < m) {
        // A zero row scales by 0, so its similarity is 0; NaN in a row still
        // gives NaN because dot is NaN. Rounding can push |cos| past 1, so
        // the result is clamped, which keeps NaN.
        double scale_a = na > 0 ? 1.0 / sqrt(na) : 0.0;
        double scale_b = nb > 0 ? 1.0 / sqrt(nb) : 0.0;
        double out = dot * scale_a * scale_b;
        out = out < -1.0 ? -1.0 : (out > 1.0 ? 1.0 : out);
        s[i * m + j] = (float)out;
    }
}

extern "C" __global__ void dmtc_graph_threshold(const float* s, float* g, long long n, double tau) {
    float t = (float)tau;
    long long stride = (long long)gridDim.x * blockDim.x;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        g[i] = s[i] >= t ? 1.0f : 0.0f;
    }
}

// topk_before reports whether candidate (va, ia) ranks before (vb, ib):
// larger value first, NaN after every number, then lower index first.
__device__ inline bool topk_before(float va, long long ia, float vb, long long ib) {
    bool nan_a = va != va, nan_b = vb != vb;
    if (nan_a != nan_b) {
        return nan_b;
    }
    if (!nan_a && va != vb) {
        return va > vb;
    }
    return ia < ib;
}

// dmtc_graph_topk selects the K best columns of row blockIdx.x one rank at a
// time: rank r takes the best column that ranks after the column chosen at
// rank r − 1, so it needs no scratch memory and no sort. Cost: K passes over
// the row.
extern "C" __global__ void dmtc_graph_topk(const float* s, float* idx, long long n, long long m,
                                           long long k, long long exclude_diagonal) {
    if ((long long)blockIdx.x >= n) {  // the whole block leaves together
        return;
    }
    DMTC_SHARED(float, best_value, [kTopKBlock]);
    DMTC_SHARED(long long, best_index, [kTopKBlock]);
    long long row = blockIdx.x;
    const float* values = s + row * m;
    float* out = idx + row * k;
    long long skip = (exclude_diagonal != 0 && row < m) ? row : -1;
    float prev_value = 0;
    long long prev_index = -1;
    for (long long rank = 0; rank < k; rank++) {
        float bv = 0;
        long long bi = -1;
        for (long long j = threadIdx.x; j < m; j += kTopKBlock) {
            if (j == skip) {
                continue;
            }
            float v = values[j];
            if (prev_index >= 0 && !topk_before(prev_value, prev_index, v, j)) {
                continue;
            }
            if (bi < 0 || topk_before(v, j, bv, bi)) {
                bv = v;
                bi = j;
            }
        }
        best_value[threadIdx.x] = bv;
        best_index[threadIdx.x] = bi;
        __syncthreads();
        for (int stride = kTopKBlock / 2; stride > 0; stride >>= 1) {
            if ((int)threadIdx.x < stride) {
                long long oi = best_index[threadIdx.x + stride];
                float ov = best_value[threadIdx.x + stride];
                long long mi = best_index[threadIdx.x];
                if (oi >= 0 && (mi < 0 || topk_before(ov, oi, best_value[threadIdx.x], mi))) {
                    best_value[threadIdx.x] = ov;
                    best_index[threadIdx.x] = oi;
                }
            }
            __syncthreads();
        }
        prev_value = best_value[0];
        prev_index = best_index[0];
        __syncthreads();
        if (threadIdx.x == 0) {
            out[rank] = (float)prev_index;
        }
        // Once the candidates run out, every later rank is −1 as well.
        if (prev_index < 0) {
            for (long long r = rank + 1 + threadIdx.x; r < k; r += kTopKBlock) {
                out[r] = -1.0f;
            }
            break;
        }
    }
}

extern "C" __global__ void dmtc_graph_tile_concat(const float* y, const float* m, float* out,
                                                  long long n, long long k, long long c,
                                                  long long hw) {
    long long total = n * (k + c) * hw;
    long long stride = (long long)gridDim.x * blockDim.x;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < total; i += stride) {
        long long pos = i % hw;
        long long channel = (i / hw) % (k + c);
        long long sample = i / (hw * (k + c));
        if (channel < k) {
            out[i] = y[sample * k + channel];
        } else {
            out[i] = m[(sample * c + channel - k) * hw + pos];
        }
    }
}

// dmtc_graph_tile_concat_backward_y gives each (n, k) pair one thread, which
// sums the H·W grid in row-major order in double.
extern "C" __global__ void dmtc_graph_tile_concat_backward_y(const float* dout, float* dy,
                                                             long long n, long long k, long long c,
                                                             long long hw) {
    long long stride = (long long)gridDim.x * blockDim.x;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n * k; i += stride) {
        long long sample = i / k;
        long long channel = i - sample * k;
        const float* grid = dout + (sample * (k + c) + channel) * hw;
        double s = 0;
        for (long long p = 0; p < hw; p++) {
            s += (double)grid[p];
        }
        dy[i] += (float)s;
    }
}

extern "C" __global__ void dmtc_graph_tile_concat_backward_m(const float* dout, float* dm,
                                                             long long n, long long k, long long c,
                                                             long long hw) {
    long long total = n * c * hw;
    long long stride = (long long)gridDim.x * blockDim.x;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < total; i += stride) {
        long long pos = i % hw;
        long long channel = (i / hw) % c;
        long long sample = i / (hw * c);
        dm[i] += dout[(sample * (k + c) + k + channel) * hw + pos];
    }
}

DMTC_REGISTER_KERNEL(dmtc_graph_l2norm);
DMTC_REGISTER_KERNEL(dmtc_graph_l2norm_backward);
DMTC_REGISTER_KERNEL(dmtc_graph_cosine);
DMTC_REGISTER_KERNEL(dmtc_graph_threshold);
DMTC_REGISTER_KERNEL(dmtc_graph_topk);
DMTC_REGISTER_KERNEL(dmtc_graph_tile_concat);
DMTC_REGISTER_KERNEL(dmtc_graph_tile_concat_backward_y);
DMTC_REGISTER_KERNEL(dmtc_graph_tile_concat_backward_m);
