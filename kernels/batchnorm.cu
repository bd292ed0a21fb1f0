#include "common.cuh"
#include "reduce.cuh"

// Batch normalisation per channel over x viewed as (N, C, S), S = H·W for
// (N, C, H, W) input and 1 for (N, C) input. Each channel has M = N·S values.
//
//   forward_train  mean = Σx/M, var = Σ(x − mean)²/M (two passes, biased),
//                  invstd = 1/√(var + eps), y = gamma·(x − mean)·invstd + beta;
//                  saveMean = mean, saveInvStd = invstd;
//                  runMean = (1 − momentum)·runMean + momentum·mean,
//                  runVar  = (1 − momentum)·runVar + momentum·Σ(x − mean)²/(M − 1)
//                  (divided by 1 when M = 1). Null save or running pointers
//                  are skipped. The launcher skips an empty batch (M = 0),
//                  which has no statistics.
//   forward_eval   y = gamma·(x − runMean)/√(runVar + eps) + beta
//   backward       with x̂ = (x − mean)·invstd from the saved statistics:
//                  dbeta += Σdy, dgamma += Σdy·x̂,
//                  dx += gamma·invstd·(dy − Σdy/M − x̂·Σ(dy·x̂)/M);
//                  null gradient pointers are skipped.
// Sums run in double over (n, s) with a fixed tree, so the statistics repeat
// bit for bit.
//
// Launch geometry: forward_train and backward take one block of kBatchNormBlock
// threads per channel (grid C); forward_eval takes a one-dimensional grid of
// kBatchNormBlock threads per block with a grid stride over all N·C·S elements.

constexpr int kBatchNormBlock = 256;

// bn_at returns the offset of the i-th value (in (n, s) order) of channel k.
__device__ inline long long bn_at(long long i, long long k, long long c, long long s) {
    long long sample = i / s;
    return (sample * c + k) * s + (i - sample * s);
}

extern "C" __global__ void dmtc_batchnorm_forward_train(const float* x, const float* gamma,
                                                        const float* beta, float* run_mean,
                                                        float* run_var, float* save_mean,
                                                        float* save_inv_std, float* y, long long n,
                                                        long long c, long long s, double momentum,
                                                        double eps) {
    DMTC_SHARED(double, shared_sum, [kBatchNormBlock]);
    long long k = blockIdx.x;
    long long count = n * s;
    double denom = (double)(count > 1 ? count : 1);
    double sum = 0;
    for (long long i = threadIdx.x; i < count; i += kBatchNormBlock) {
        sum += (double)x[bn_at(i, k, c, s)];
    }
    double mean = dmtc_tree_sum<kBatchNormBlock>(sum, shared_sum) / denom;
    double sq = 0;
    for (long long i = threadIdx.x; i < count; i += kBatchNormBlock) {
        double d = (double)x[bn_at(i, k, c, s)] - mean;
        sq += d * d;
    }
    sq = dmtc_tree_sum<kBatchNormBlock>(sq, shared_sum);
    double inv_std = 1.0 / sqrt(sq / denom + eps);
    double scale = (double)gamma[k] * inv_std;
    double shift = (double)beta[k] - mean * scale;
    for (long long i = threadIdx.x; i < count; i += kBatchNormBlock) {
        long long at = bn_at(i, k, c, s);
        y[at] = (float)((double)x[at] * scale + shift);
    }
    if (threadIdx.x == 0) {
        if (save_mean != nullptr) {
            save_mean[k] = (float)mean;
        }
        if (save_inv_std != nullptr) {
            save_inv_std[k] = (float)inv_std;
        }
        if (run_mean != nullptr) {
            run_mean[k] = (float)((1 - momentum) * (double)run_mean[k] + momentum * mean);
        }
        if (run_var != nullptr) {
            double unbiased = sq / (double)(count > 1 ? count - 1 : 1);
            run_var[k] = (float)((1 - momentum) * (double)run_var[k] + momentum * unbiased);
        }
    }
}

extern "C" __global__ void dmtc_batchnorm_forward_eval(const float* x, const float* gamma,
                                                       const float* beta, const float* run_mean,
                                                       const float* run_var, float* y, long long n,
                                                       long long c, long long s, double eps) {
    long long total = n * c * s;
    long long stride = (long long)gridDim.x * blockDim.x;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < total; i += stride) {
        long long k = (i / s) % c;
        double inv_std = 1.0 / sqrt((double)run_var[k] + eps);
        double scale = (double)gamma[k] * inv_std;
        double shift = (double)beta[k] - (double)run_mean[k] * scale;
        y[i] = (float)((double)x[i] * scale + shift);
    }
}

extern "C" __global__ void dmtc_batchnorm_backward(const float* x, const float* dy,
                                                   const float* gamma, const float* save_mean,
                                                   const float* save_inv_std, float* dx,
                                                   float* dgamma, float* dbeta, long long n,
                                                   long long c, long long s) {
    DMTC_SHARED(double, shared_sum, [kBatchNormBlock]);
    long long k = blockIdx.x;
    long long count = n * s;
    double mean = (double)save_mean[k];
    double inv_std = (double)save_inv_std[k];
    double sum_dy = 0, sum_dy_xhat = 0;
    for (long long i = threadIdx.x; i < count; i += kBatchNormBlock) {
        long long at = bn_at(i, k, c, s);
        double g = (double)dy[at];
        sum_dy += g;
        sum_dy_xhat += g * ((double)x[at] - mean) * inv_std;
    }
    sum_dy = dmtc_tree_sum<kBatchNormBlock>(sum_dy, shared_sum);
    sum_dy_xhat = dmtc_tree_sum<kBatchNormBlock>(sum_dy_xhat, shared_sum);
    if (threadIdx.x == 0) {
        if (dbeta != nullptr) {
            dbeta[k] += (float)sum_dy;
        }
        if (dgamma != nullptr) {
            dgamma[k] += (float)sum_dy_xhat;
        }
    }
    if (dx == nullptr) {
        return;
    }
    double denom = (double)(count > 1 ? count : 1);
    double scale = (double)gamma[k] * inv_std;
    double mean_dy = sum_dy / denom, mean_dy_xhat = sum_dy_xhat / denom;
    for (long long i = threadIdx.x; i < count; i += kBatchNormBlock) {
        long long at = bn_at(i, k, c, s);
        double xhat = ((double)x[at] - mean) * inv_std;
        dx[at] += (float)(scale * ((double)dy[at] - mean_dy - xhat * mean_dy_xhat));
    }
}

DMTC_REGISTER_KERNEL(dmtc_batchnorm_forward_train);
DMTC_REGISTER_KERNEL(dmtc_batchnorm_forward_eval);
DMTC_REGISTER_KERNEL(dmtc_batchnorm_backward);
