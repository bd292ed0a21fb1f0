#include "common.cuh"
#include "reduce.cuh"

// Element-wise activations and the bias ops of linear and conv layers.
//
// Activations (ReLU 0, Sigmoid 1, Tanh 2, Softplus 3, the values of
// nn.Activation) treat x, y, dy and dx as flat arrays of n elements:
//   forward   y  = f(x)
//   backward  dx += f'(x)·dy, reading x for ReLU and Softplus and y = f(x)
//             for Sigmoid and Tanh.
// Sigmoid, Tanh and Softplus are evaluated in double and rounded once to
// float, as in the CPU backend.
//
// Bias ops view y and dy as (N, F, S), S the product of the trailing
// dimensions (1 for a linear layer, OH·OW for a conv layer):
//   add_bias       y[n,f,s] += bias[f]
//   bias_backward  db[f] += Σ_{n,s} dy[n,f,s], summed in double.
//
// Launch geometry: element-wise kernels take a one-dimensional grid of
// kActivationBlock threads per block and loop with a grid stride, so any
// grid size covers n. bias_backward takes one block of kBiasReduceBlock
// threads per channel f (grid F).

constexpr int kActivationBlock = 256;
constexpr int kBiasReduceBlock = 256;

constexpr int kActReLU = 0;
constexpr int kActSigmoid = 1;
constexpr int kActTanh = 2;
// Kind 3, Softplus, is the fall-through branch of each switch.

static_assert(kActivationBlock % 32 == 0, "kActivationBlock must be whole warps");

__device__ inline double activation_sigmoid(double x) {
    if (x >= 0) {
        return 1.0 / (1.0 + exp(-x));
    }
    double e = exp(x);
    return e / (1.0 + e);
}

// activation_softplus returns log(1 + eˣ) as x + log1p(e⁻ˣ) for positive x,
// which never overflows: softplus(1e10) is 1e10.
__device__ inline double activation_softplus(double x) {
    if (x > 0) {
        return x + log1p(exp(-x));
    }
    return log1p(exp(x));
}

extern "C" __global__ void dmtc_activation_forward(const float* x, float* y, long long n,
                                                   long long kind) {
    long long stride = (long long)gridDim.x * blockDim.x;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        float v = x[i];
        float out;
        if (kind == kActReLU) {
            // NaN passes through, as in PyTorch, so that it stays visible.
            out = (v > 0 || v != v) ? v : 0.0f;
        } else if (kind == kActSigmoid) {
            out = (float)activation_sigmoid((double)v);
        } else if (kind == kActTanh) {
            out = (float)tanh((double)v);
        } else {
            // kActSoftplus: the launcher rejects any other kind.
            out = (float)activation_softplus((double)v);
        }
        y[i] = out;
    }
}

extern "C" __global__ void dmtc_activation_backward(const float* x, const float* y, const float* dy,
                                                    float* dx, long long n, long long kind) {
    long long stride = (long long)gridDim.x * blockDim.x;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        float g = dy[i];
        if (kind == kActReLU) {
            if (x[i] > 0) {
                dx[i] += g;
            }
        } else if (kind == kActSigmoid) {
            float v = y[i];
            dx[i] += g * v * (1 - v);
        } else if (kind == kActTanh) {
            float v = y[i];
            dx[i] += g * (1 - v * v);
        } else {
            // kActSoftplus: d/dx log(1 + eˣ) = sigmoid(x).
            dx[i] += g * (float)activation_sigmoid((double)x[i]);
        }
    }
}

extern "C" __global__ void dmtc_activation_add_bias(float* y, const float* bias, long long n,
                                                    long long f, long long s) {
    long long total = n * f * s;
    long long stride = (long long)gridDim.x * blockDim.x;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < total; i += stride) {
        y[i] += bias[(i / s) % f];
    }
}

extern "C" __global__ void dmtc_activation_bias_backward(const float* dy, float* db, long long n,
                                                         long long f, long long s) {
    DMTC_SHARED(double, partial, [kBiasReduceBlock]);
    long long channel = blockIdx.x;
    double sum = 0;
    // Thread t sums elements t, t+BLOCK, ... of the channel's N·S values in
    // (n, s) order.
    for (long long i = threadIdx.x; i < n * s; i += kBiasReduceBlock) {
        long long sample = i / s;
        long long pos = i - sample * s;
        sum += (double)dy[(sample * f + channel) * s + pos];
    }
    sum = dmtc_tree_sum<kBiasReduceBlock>(sum, partial);
    if (threadIdx.x == 0) {
        db[channel] += (float)sum;
    }
}

DMTC_REGISTER_KERNEL(dmtc_activation_forward);
DMTC_REGISTER_KERNEL(dmtc_activation_backward);
DMTC_REGISTER_KERNEL(dmtc_activation_add_bias);
DMTC_REGISTER_KERNEL(dmtc_activation_bias_backward);
