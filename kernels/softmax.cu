#include "common.cuh"
#include "reduce.cuh"

// Row softmax, log-softmax and the scalar losses: cross-entropy, binary
// cross-entropy and the Jensen-Shannon mutual-information (JSD MI) loss.
//
// Row ops take x, y, dy, dx as (N, K) row-major:
//   softmax      y = exp(x − lse), lse = max + log Σ exp(x − max)
//   log_softmax  y = (x − max) − log Σ exp(x − max)
//   backward     dx += y·(dy − Σ y·dy)          (softmax)
//                dx += dy − exp(y)·Σ dy         (log-softmax)
// Subtracting the row maximum keeps every exponent ≤ 0, so rows such as
// (−1e7, −1e7, −1e7) give log-softmax −log 3 in every slot. Sums over a row
// are taken in double.
//
// Losses return a scalar through a small result buffer that the launcher
// copies back. Their element kernels write one partial sum per block; the
// launcher fixes the grid from the element count alone and dmtc_softmax_sum
// adds the partials in one block, so the loss is bit-for-bit repeatable.
//   cross-entropy  logits (N, K), labels (N) as float class indices or −1.
//                  result[1] = labelled rows, result[2] = labels that are
//                  neither −1 nor an integer in [0, K); rowloss (N) =
//                  lse − logit[label], 0 for other rows; dlogits +=
//                  scale/count·(softmax − onehot) on labelled rows.
//   BCE            p, target, dp flat (n); p clamped to [1e−7, 1 − 1e−7];
//                  dp += scale/n·(p − t)/(p(1 − p)), 0 where p was clamped.
//   JSD MI         softplus(sign·x) summed over x (n), sign −1 for positive
//                  scores and +1 for negative ones; dx += gscale·sign·
//                  sigmoid(sign·x).
//
// Launch geometry: row kernels take one block of kSoftmaxBlock threads per
// row (grid N). The label count and dmtc_softmax_sum take one block of
// kSoftmaxBlock threads. Partial-sum kernels take a one-dimensional grid of
// kLossBlock threads per block; each block writes partials[blockIdx.x].

constexpr int kSoftmaxBlock = 256;
constexpr int kLossBlock = 256;

constexpr float kBceClamp = 1e-7f;

__device__ inline double softmax_sigmoid(double x) {
    if (x >= 0) {
        return 1.0 / (1.0 + exp(-x));
    }
    double e = exp(x);
    return e / (1.0 + e);
}

__device__ inline double softmax_softplus(double x) {
    if (x > 0) {
        return x + log1p(exp(-x));
    }
    return log1p(exp(x));
}

// softmax_row_stats returns the maximum of row[0..k) and Σ exp(row − max)
// to every thread of the block.
__device__ inline void softmax_row_stats(const float* row, long long k, float* shared_max,
                                         double* shared_sum, float* row_max, double* row_sum) {
    float m = -INFINITY;
    for (long long j = threadIdx.x; j < k; j += kSoftmaxBlock) {
        float v = row[j];
        if (v > m || v != v) {
            m = v;
        }
    }
    m = dmtc_tree_max<kSoftmaxBlock>(m, shared_max);
    double s = 0;
    for (long long j = threadIdx.x; j < k; j += kSoftmaxBlock) {
        s += exp((double)row[j] - (double)m);
    }
    *row_sum = dmtc_tree_sum<kSoftmaxBlock>(s, shared_sum);
    *row_max = m;
}

extern "C" __global__ void dmtc_softmax_forward(const float* x, float* y, long long n,
                                                long long k) {
    if ((long long)blockIdx.x >= n) {  // the whole block leaves together
        return;
    }
    DMTC_SHARED(float, shared_max, [kSoftmaxBlock]);
    DMTC_SHARED(double, shared_sum, [kSoftmaxBlock]);
    const float* row = x + (long long)blockIdx.x * k;
    float* out = y + (long long)blockIdx.x * k;
    float m;
    double s;
    softmax_row_stats(row, k, shared_max, shared_sum, &m, &s);
    double lse = (double)m + log(s);
    for (long long j = threadIdx.x; j < k; j += kSoftmaxBlock) {
        out[j] = (float)exp((double)row[j] - lse);
    }
}

extern "C" __global__ void dmtc_softmax_log_forward(const float* x, float* y, long long n,
                                                    long long k) {
    if ((long long)blockIdx.x >= n) {  // the whole block leaves together
        return;
    }
    DMTC_SHARED(float, shared_max, [kSoftmaxBlock]);
    DMTC_SHARED(double, shared_sum, [kSoftmaxBlock]);
    const float* row = x + (long long)blockIdx.x * k;
    float* out = y + (long long)blockIdx.x * k;
    float m;
    double s;
    softmax_row_stats(row, k, shared_max, shared_sum, &m, &s);
    double log_sum = log(s);
    for (long long j = threadIdx.x; j < k; j += kSoftmaxBlock) {
        out[j] = (float)(((double)row[j] - (double)m) - log_sum);
    }
}

extern "C" __global__ void dmtc_softmax_backward(const float* y, const float* dy, float* dx,
                                                 long long n, long long k) {
    if ((long long)blockIdx.x >= n) {  // the whole block leaves together
        return;
    }
    DMTC_SHARED(double, shared_sum, [kSoftmaxBlock]);
    long long base = (long long)blockIdx.x * k;
    double dot = 0;
    for (long long j = threadIdx.x; j < k; j += kSoftmaxBlock) {
        dot += (double)y[base + j] * (double)dy[base + j];
    }
    dot = dmtc_tree_sum<kSoftmaxBlock>(dot, shared_sum);
    for (long long j = threadIdx.x; j < k; j += kSoftmaxBlock) {
        dx[base + j] += (float)((double)y[base + j] * ((double)dy[base + j] - dot));
    }
}

extern "C" __global__ void dmtc_softmax_log_backward(const float* y, const float* dy, float* dx,
                                                     long long n, long long k) {
    if ((long long)blockIdx.x >= n) {  // the whole block leaves together
        return;
    }
    DMTC_SHARED(double, shared_sum, [kSoftmaxBlock]);
    long long base = (long long)blockIdx.x * k;
    double total = 0;
    for (long long j = threadIdx.x; j < k; j += kSoftmaxBlock) {
        total += (double)dy[base + j];
    }
    total = dmtc_tree_sum<kSoftmaxBlock>(total, shared_sum);
    for (long long j = threadIdx.x; j < k; j += kSoftmaxBlock) {
        dx[base + j] += (float)((double)dy[base + j] - exp((double)y[base + j]) * total);
    }
}

// dmtc_softmax_cross_entropy_count writes the number of labelled rows to
// result[1] and the number of invalid labels to result[2].
extern "C" __global__ void dmtc_softmax_cross_entropy_count(const float* labels, float* result,
                                                            long long n, long long k) {
    DMTC_SHARED(double, shared_sum, [kSoftmaxBlock]);
    double labelled = 0, invalid = 0;
    for (long long i = threadIdx.x; i < n; i += kSoftmaxBlock) {
        float l = labels[i];
        if (l >= 0 && l < (float)k && l == floorf(l)) {
            labelled += 1;
        } else if (l != -1.0f) {
            invalid += 1;
        }
    }
    labelled = dmtc_tree_sum<kSoftmaxBlock>(labelled, shared_sum);
    invalid = dmtc_tree_sum<kSoftmaxBlock>(invalid, shared_sum);
    if (threadIdx.x == 0) {
        result[1] = (float)labelled;
        result[2] = (float)invalid;
    }
}

// dmtc_softmax_cross_entropy_rows writes each row's loss (0 for an unlabelled
// or invalid row) to rowloss and, when dlogits is not null, accumulates
// scale/result[1]·(softmax − onehot) into it. It runs after the count kernel.
extern "C" __global__ void dmtc_softmax_cross_entropy_rows(const float* logits, const float* labels,
                                                           const float* result, float* dlogits,
                                                           float* rowloss, long long n, long long k,
                                                           double scale) {
    if ((long long)blockIdx.x >= n) {  // the whole block leaves together
        return;
    }
    DMTC_SHARED(float, shared_max, [kSoftmaxBlock]);
    DMTC_SHARED(double, shared_sum, [kSoftmaxBlock]);
    long long i = blockIdx.x;
    float l = labels[i];
    // Every thread reads the same label, so the whole block takes the same
    // branch and the barriers in softmax_row_stats are reached by all.
    bool valid = l >= 0 && l < (float)k && l == floorf(l);
    if (!valid) {
        if (threadIdx.x == 0) {
            rowloss[i] = 0;
        }
        return;
    }
    long long label = (long long)l;
    const float* row = logits + i * k;
    float m;
    double s;
    softmax_row_stats(row, k, shared_max, shared_sum, &m, &s);
    double lse = (double)m + log(s);
    if (threadIdx.x == 0) {
        rowloss[i] = (float)(lse - (double)row[label]);
    }
    if (dlogits != nullptr) {
        double g = scale / (double)result[1];
        float* drow = dlogits + i * k;
        for (long long j = threadIdx.x; j < k; j += kSoftmaxBlock) {
            double p = exp((double)row[j] - lse);
            if (j == label) {
                p -= 1;
            }
            drow[j] += (float)(g * p);
        }
    }
}

// dmtc_softmax_sum writes Σ values[0..n) to out[0], summed in double.
extern "C" __global__ void dmtc_softmax_sum(const float* values, float* out, long long n) {
    DMTC_SHARED(double, shared_sum, [kSoftmaxBlock]);
    double s = 0;
    for (long long i = threadIdx.x; i < n; i += kSoftmaxBlock) {
        s += (double)values[i];
    }
    s = dmtc_tree_sum<kSoftmaxBlock>(s, shared_sum);
    if (threadIdx.x == 0) {
        out[0] = (float)s;
    }
}

// dmtc_softmax_bce_partial sums the clamped binary cross-entropy of each
// block's elements into partials[blockIdx.x] and, when dp is not null,
// accumulates gscale·∂/∂p into dp (gscale = scale/n).
extern "C" __global__ void dmtc_softmax_bce_partial(const float* p, const float* target, float* dp,
                                                    float* partials, long long n, double gscale) {
    DMTC_SHARED(double, shared_sum, [kLossBlock]);
    // The clamp bounds are float32 values, 1e−7 and 1 − 1e−7 rounded to float.
    const float lo = kBceClamp;
    const float hi = 1.0f - kBceClamp;
    double s = 0;
    long long stride = (long long)gridDim.x * kLossBlock;
    for (long long i = (long long)blockIdx.x * kLossBlock + threadIdx.x; i < n; i += stride) {
        float v = p[i];
        bool clamped = v < lo || v > hi;
        double pc = (double)(v < lo ? lo : (v > hi ? hi : v));
        double t = (double)target[i];
        s += -t * log(pc) - (1 - t) * log(1 - pc);
        if (dp != nullptr && !clamped) {
            dp[i] += (float)(gscale * (pc - t) / (pc * (1 - pc)));
        }
    }
    s = dmtc_tree_sum<kLossBlock>(s, shared_sum);
    if (threadIdx.x == 0) {
        partials[blockIdx.x] = (float)s;
    }
}

// dmtc_softmax_jsd_partial sums softplus(sign·x) over each block's elements
// into partials[blockIdx.x] and, when dx is not null, accumulates
// gscale·sign·sigmoid(sign·x) into dx.
extern "C" __global__ void dmtc_softmax_jsd_partial(const float* x, float* dx, float* partials,
                                                    long long n, double sign, double gscale) {
    DMTC_SHARED(double, shared_sum, [kLossBlock]);
    double s = 0;
    long long stride = (long long)gridDim.x * kLossBlock;
    for (long long i = (long long)blockIdx.x * kLossBlock + threadIdx.x; i < n; i += stride) {
        double v = sign * (double)x[i];
        s += softmax_softplus(v);
        if (dx != nullptr) {
            dx[i] += (float)(gscale * sign * softmax_sigmoid(v));
        }
    }
    s = dmtc_tree_sum<kLossBlock>(s, shared_sum);
    if (threadIdx.x == 0) {
        partials[blockIdx.x] = (float)s;
    }
}

DMTC_REGISTER_KERNEL(dmtc_softmax_forward);
DMTC_REGISTER_KERNEL(dmtc_softmax_log_forward);
DMTC_REGISTER_KERNEL(dmtc_softmax_backward);
DMTC_REGISTER_KERNEL(dmtc_softmax_log_backward);
DMTC_REGISTER_KERNEL(dmtc_softmax_cross_entropy_count);
DMTC_REGISTER_KERNEL(dmtc_softmax_cross_entropy_rows);
DMTC_REGISTER_KERNEL(dmtc_softmax_sum);
DMTC_REGISTER_KERNEL(dmtc_softmax_bce_partial);
DMTC_REGISTER_KERNEL(dmtc_softmax_jsd_partial);
