#include "common.cuh"

// Optimiser updates, element-wise over flat arrays of n parameters, in
// PyTorch's formulation (torch.optim.RMSprop without momentum or centring,
// torch.optim.Adam with L2 weight decay, not AdamW). Arithmetic is float32,
// step by step as in the CPU backend; the double parameters carry float32
// values exactly.
//
//   rmsprop  g = grad + wd·p; sq = α·sq + (1 − α)·g²; p −= lr·g/(√sq + eps)
//   adam     g = grad + wd·p; m = β1·m + (1 − β1)·g; v = β2·v + (1 − β2)·g²;
//            p −= lr·(m/bc1)/(√(v/bc2) + eps), with the bias corrections
//            bc1 = 1 − β1^step and bc2 = 1 − β2^step rounded to float by
//            the launcher.
//
// Launch geometry: a one-dimensional grid of kOptimBlock threads per block
// with a grid stride.

constexpr int kOptimBlock = 256;

static_assert(kOptimBlock % 32 == 0, "kOptimBlock must be whole warps");

extern "C" __global__ void dmtc_optim_rmsprop(float* param, const float* grad, float* sq,
                                              long long n, double lr, double alpha, double eps,
                                              double weight_decay) {
    const float lr_f = (float)lr, alpha_f = (float)alpha, eps_f = (float)eps;
    const float wd_f = (float)weight_decay;
    long long stride = (long long)gridDim.x * blockDim.x;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        float p = param[i];
        float g = grad[i] + wd_f * p;
        float s = alpha_f * sq[i] + (1 - alpha_f) * g * g;
        sq[i] = s;
        param[i] = p - lr_f * g / (sqrtf(s) + eps_f);
    }
}

extern "C" __global__ void dmtc_optim_adam(float* param, const float* grad, float* m, float* v,
                                           long long n, double lr, double beta1, double beta2,
                                           double eps, double weight_decay, double bc1,
                                           double bc2) {
    const float lr_f = (float)lr, b1 = (float)beta1, b2 = (float)beta2, eps_f = (float)eps;
    const float wd_f = (float)weight_decay, c1 = (float)bc1, c2 = (float)bc2;
    long long stride = (long long)gridDim.x * blockDim.x;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        float p = param[i];
        float g = grad[i] + wd_f * p;
        float mi = b1 * m[i] + (1 - b1) * g;
        float vi = b2 * v[i] + (1 - b2) * g * g;
        m[i] = mi;
        v[i] = vi;
        param[i] = p - lr_f * (mi / c1) / (sqrtf(vi / c2) + eps_f);
    }
}

DMTC_REGISTER_KERNEL(dmtc_optim_rmsprop);
DMTC_REGISTER_KERNEL(dmtc_optim_adam);
