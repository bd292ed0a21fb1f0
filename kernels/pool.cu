#include "common.cuh"

// Max and average pooling over NCHW tensors.
//
// x, dx are (N, C, H, W); y, dy are (N, C, OH, OW) with
// OH = (H + 2·padH − KH)/strideH + 1 and likewise OW. Window (oh, ow) covers
// rows oh·strideH − padH .. + KH − 1 and columns ow·strideW − padW .. + KW − 1.
//   max_forward   y = maximum over the window's in-range cells; padded cells
//                 are −∞, so a window of padding only gives −∞.
//   max_backward  dx += dy of every window whose chosen maximum is this cell:
//                 the first maximum in row-major order, except that a NaN
//                 wins over any number and the last of several NaNs wins
//                 (PyTorch's rule). A window of −∞ chooses its first cell.
//   avg_forward   y = Σ window / (KH·KW) in double, padded cells counting as 0.
//   avg_backward  dx += Σ dy / (KH·KW) over the windows covering this cell.
//
// Both backward kernels gather: one thread per input cell visits the windows
// that cover it and adds their contributions in (oh, ow) order, so no atomics
// are needed and results repeat bit for bit.
//
// Launch geometry: a one-dimensional grid of kPoolBlock threads per block
// with a grid stride; forward kernels take one thread per output element,
// backward kernels one per input element.

constexpr int kPoolBlock = 256;

static_assert(kPoolBlock % 32 == 0, "kPoolBlock must be whole warps");

// pool_window_argmax returns the offset (row·W + col within the plane) of the
// first maximum of window (oh, ow) and stores its value in *value; −1 when
// every cell is padding.
__device__ inline long long pool_window_argmax(const float* plane, long long h, long long w,
                                               long long oh, long long ow, long long kh,
                                               long long kw, long long sh, long long sw,
                                               long long ph, long long pw, float* value) {
    long long best = -1;
    float best_value = -INFINITY;
    long long r0 = oh * sh - ph, c0 = ow * sw - pw;
    for (long long r = r0; r < r0 + kh; r++) {
        if (r < 0 || r >= h) {
            continue;
        }
        for (long long c = c0; c < c0 + kw; c++) {
            if (c < 0 || c >= w) {
                continue;
            }
            float v = plane[r * w + c];
            // As in PyTorch a NaN wins over any number, the last of several
            // NaNs wins, and a window of −∞ picks its first cell.
            if (best < 0 || v > best_value || v != v) {
                best = r * w + c;
                best_value = v;
            }
        }
    }
    *value = best_value;
    return best;
}

// pool_cover returns in [*lo, *hi] the output indices along one axis whose
// windows cover input index i; the range is empty when *lo > *hi.
__device__ inline void pool_cover(long long i, long long k, long long stride, long long pad,
                                  long long out, long long* lo, long long* hi) {
    long long first = i + pad - k + 1;  // smallest window start that reaches i
    *lo = first <= 0 ? 0 : (first + stride - 1) / stride;
    long long last = (i + pad) / stride;
    *hi = last < out - 1 ? last : out - 1;
}

extern "C" __global__ void dmtc_pool_max_forward(const float* x, float* y, long long n, long long c,
                                                 long long h, long long w, long long oh_size,
                                                 long long ow_size, long long kh, long long kw,
                                                 long long sh, long long sw, long long ph,
                                                 long long pw) {
    long long total = n * c * oh_size * ow_size;
    long long stride = (long long)gridDim.x * blockDim.x;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < total; i += stride) {
        long long ow = i % ow_size;
        long long oh = (i / ow_size) % oh_size;
        long long plane = i / (ow_size * oh_size);
        float v;
        pool_window_argmax(x + plane * h * w, h, w, oh, ow, kh, kw, sh, sw, ph, pw, &v);
        y[i] = v;
    }
}

extern "C" __global__ void dmtc_pool_max_backward(const float* x, const float* dy, float* dx,
                                                  long long n, long long c, long long h,
                                                  long long w, long long oh_size, long long ow_size,
                                                  long long kh, long long kw, long long sh,
                                                  long long sw, long long ph, long long pw) {
    long long total = n * c * h * w;
    long long stride = (long long)gridDim.x * blockDim.x;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < total; i += stride) {
        long long col = i % w;
        long long row = (i / w) % h;
        long long plane = i / (w * h);
        long long oh_lo, oh_hi, ow_lo, ow_hi;
        pool_cover(row, kh, sh, ph, oh_size, &oh_lo, &oh_hi);
        pool_cover(col, kw, sw, pw, ow_size, &ow_lo, &ow_hi);
        const float* xp = x + plane * h * w;
        const float* dyp = dy + plane * oh_size * ow_size;
        float g = 0;
        for (long long oh = oh_lo; oh <= oh_hi; oh++) {
            for (long long ow = ow_lo; ow <= ow_hi; ow++) {
                float v;
                long long at = pool_window_argmax(xp, h, w, oh, ow, kh, kw, sh, sw, ph, pw, &v);
                if (at == row * w + col) {
                    g += dyp[oh * ow_size + ow];
                }
            }
        }
        dx[i] += g;
    }
}

extern "C" __global__ void dmtc_pool_avg_forward(const float* x, float* y, long long n, long long c,
                                                 long long h, long long w, long long oh_size,
                                                 long long ow_size, long long kh, long long kw,
                                                 long long sh, long long sw, long long ph,
                                                 long long pw) {
    long long total = n * c * oh_size * ow_size;
    long long stride = (long long)gridDim.x * blockDim.x;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < total; i += stride) {
        long long ow = i % ow_size;
        long long oh = (i / ow_size) % oh_size;
        const float* plane = x + (i / (ow_size * oh_size)) * h * w;
        long long r0 = oh * sh - ph, c0 = ow * sw - pw;
        double s = 0;
        for (long long r = r0; r < r0 + kh; r++) {
            if (r < 0 || r >= h) {
                continue;
            }
            for (long long col = c0; col < c0 + kw; col++) {
                if (col >= 0 && col < w) {
                    s += (double)plane[r * w + col];
                }
            }
        }
        y[i] = (float)(s * (1.0 / (double)(kh * kw)));
    }
}

extern "C" __global__ void dmtc_pool_avg_backward(const float* dy, float* dx, long long n,
                                                  long long c, long long h, long long w,
                                                  long long oh_size, long long ow_size,
                                                  long long kh, long long kw, long long sh,
                                                  long long sw, long long ph, long long pw) {
    long long total = n * c * h * w;
    long long stride = (long long)gridDim.x * blockDim.x;
    float inv_area = 1.0f / (float)(kh * kw);
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < total; i += stride) {
        long long col = i % w;
        long long row = (i / w) % h;
        const float* dyp = dy + (i / (w * h)) * oh_size * ow_size;
        long long oh_lo, oh_hi, ow_lo, ow_hi;
        pool_cover(row, kh, sh, ph, oh_size, &oh_lo, &oh_hi);
        pool_cover(col, kw, sw, pw, ow_size, &ow_lo, &ow_hi);
        float g = 0;
        for (long long oh = oh_lo; oh <= oh_hi; oh++) {
            for (long long ow = ow_lo; ow <= ow_hi; ow++) {
                g += dyp[oh * ow_size + ow] * inv_area;
            }
        }
        dx[i] += g;
    }
}

DMTC_REGISTER_KERNEL(dmtc_pool_max_forward);
DMTC_REGISTER_KERNEL(dmtc_pool_max_backward);
DMTC_REGISTER_KERNEL(dmtc_pool_avg_forward);
DMTC_REGISTER_KERNEL(dmtc_pool_avg_backward);
