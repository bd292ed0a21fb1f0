#include "common.cuh"

// 2-D convolution (cross-correlation, as in PyTorch) forward, backward data
// and backward filter, each as one implicit GEMM: the kernel reads the
// unrolled (im2col) operand straight from x or dy, so no column buffer is
// allocated and no atomics are used.
//
// Layouts: x, dx (N, C, H, W); w, dw (F, C, KH, KW); bias (F); y, dy
// (N, F, OH, OW) with OH = (H + 2·padH − KH)/strideH + 1, likewise OW.
// Filter tap (i, j) of output (oh, ow) reads input (oh·strideH − padH + i,
// ow·strideW − padW + j), 0 outside the input.
//
//   forward          y (F × N·OH·OW) = w (F × C·KH·KW) · col(x) + bias
//   backward_data    dx (C × N·H·W) += wᵀ-by-channel (C × F·KH·KW) · dycol
//                    where dycol[(f,i,j), (n,ih,iw)] = dy[n,f,oh,ow] for
//                    oh = (ih + padH − i)/strideH when that divides evenly
//                    and lies in [0, OH) (likewise ow), else 0: the gather
//                    form of col2im, each dx element owned by one thread.
//   backward_filter  dw (F × C·KH·KW) += dy (F × N·OH·OW) · col(x)ᵀ
//
// Each product is summed over the reduction index in ascending order, in
// float within a kConvSlice-wide slice and in double across slices, so
// results repeat bit for bit and long reductions (the filter gradient sums
// N·OH·OW terms) keep float accuracy.
//
// Launch geometry: blocks of kConvThreads×kConvThreads threads, grid
// (⌈cols/kConvTile⌉, ⌈rows/kConvTile⌉) for the rows × cols output matrix of
// each product above. A block computes a kConvTile×kConvTile output tile
// from operand slices staged in shared memory. Each thread accumulates
// kConvMicro×kConvMicro outputs of the tile, rows and columns kConvThreads
// apart, so per reduction step it makes 2·kConvMicro shared-memory reads for
// kConvMicro² multiply-adds.

constexpr int kConvTile = 64;
constexpr int kConvThreads = 16;
constexpr int kConvSlice = 16;  // reduction indices staged per step
constexpr int kConvMicro = kConvTile / kConvThreads;

static_assert(kConvTile % kConvThreads == 0, "a thread computes a whole micro-tile");
static_assert((kConvTile * kConvSlice) % (kConvThreads * kConvThreads) == 0,
              "every thread loads the same number of operand elements");

// ConvShape carries the sizes of one convolution inside the device code;
// kernels build it from their 64-bit scalar parameters.
struct ConvShape {
    long long n, c, h, w, f, kh, kw, oh, ow, sh, sw, ph, pw;
};

// conv_x_at returns x at sample n, channel c, filter tap (i, j) of output
// position (oh, ow), or 0 in the padding.
__device__ inline float conv_x_at(const float* x, const ConvShape& s, long long n, long long c,
                                  long long i, long long j, long long oh, long long ow) {
    long long ih = oh * s.sh - s.ph + i;
    long long iw = ow * s.sw - s.pw + j;
    if (ih < 0 || ih >= s.h || iw < 0 || iw >= s.w) {
        return 0.0f;
    }
    return x[((n * s.c + c) * s.h + ih) * s.w + iw];
}

// conv_dy_at returns the dy value that input (ih, iw) receives through
// filter tap (i, j) of filter f, or 0 when no output position uses that tap
// on that input.
__device__ inline float conv_dy_at(const float* dy, const ConvShape& s, long long n, long long f,
                                   long long i, long long j, long long ih, long long iw) {
    long long th = ih + s.ph - i;
    long long tw = iw + s.pw - j;
    if (th < 0 || tw < 0 || th % s.sh != 0 || tw % s.sw != 0) {
        return 0.0f;
    }
    long long oh = th / s.sh, ow = tw / s.sw;
    if (oh >= s.oh || ow >= s.ow) {
        return 0.0f;
    }
    return dy[((n * s.f + f) * s.oh + oh) * s.ow + ow];
}

// The three products differ only in how they read the A (rows × depth) and
// B (depth × cols) operands and where they store. Each Problem type supplies
// rows(), cols(), depth(), a(row, k), b(k, col) and the store.

struct ConvForward {
    const float* x;
    const float* w;
    const float* bias;
    float* y;
    ConvShape s;
    __device__ long long rows() const { return s.f; }
    __device__ long long cols() const { return s.n * s.oh * s.ow; }
    __device__ long long depth() const { return s.c * s.kh * s.kw; }
    __device__ float a(long long row, long long k) const { return w[row * depth() + k]; }
    __device__ float b(long long k, long long col) const {
        long long ow = col % s.ow, oh = (col / s.ow) % s.oh, n = col / (s.ow * s.oh);
        long long j = k % s.kw, i = (k / s.kw) % s.kh, c = k / (s.kw * s.kh);
        return conv_x_at(x, s, n, c, i, j, oh, ow);
    }
    __device__ void store(long long row, long long col, double acc) const {
        long long pos = col % (s.oh * s.ow), n = col / (s.oh * s.ow);
        if (bias != nullptr) {
            acc += (double)bias[row];
        }
        y[(n * s.f + row) * s.oh * s.ow + pos] = (float)acc;
    }
};

struct ConvBackwardData {
    const float* dy;
    const float* w;
    float* dx;
    ConvShape s;
    __device__ long long rows() const { return s.c; }
    __device__ long long cols() const { return s.n * s.h * s.w; }
    __device__ long long depth() const { return s.f * s.kh * s.kw; }
    __device__ float a(long long row, long long k) const {
        long long j = k % s.kw, i = (k / s.kw) % s.kh, f = k / (s.kw * s.kh);
        return w[((f * s.c + row) * s.kh + i) * s.kw + j];
    }
    __device__ float b(long long k, long long col) const {
        long long iw = col % s.w, ih = (col / s.w) % s.h, n = col / (s.w * s.h);
        long long j = k % s.kw, i = (k / s.kw) % s.kh, f = k / (s.kw * s.kh);
        return conv_dy_at(dy, s, n, f, i, j, ih, iw);
    }
    __device__ void store(long long row, long long col, double acc) const {
        long long pos = col % (s.h * s.w), n = col / (s.h * s.w);
        dx[(n * s.c + row) * s.h * s.w + pos] += (float)acc;
    }
};

struct ConvBackwardFilter {
    const float* x;
    const float* dy;
    float* dw;
    ConvShape s;
    __device__ long long rows() const { return s.f; }
    __device__ long long cols() const { return s.c * s.kh * s.kw; }
    __device__ long long depth() const { return s.n * s.oh * s.ow; }
    __device__ float a(long long row, long long k) const {
        long long pos = k % (s.oh * s.ow), n = k / (s.oh * s.ow);
        return dy[(n * s.f + row) * s.oh * s.ow + pos];
    }
    __device__ float b(long long k, long long col) const {
        long long ow = k % s.ow, oh = (k / s.ow) % s.oh, n = k / (s.ow * s.oh);
        long long j = col % s.kw, i = (col / s.kw) % s.kh, c = col / (s.kw * s.kh);
        return conv_x_at(x, s, n, c, i, j, oh, ow);
    }
    __device__ void store(long long row, long long col, double acc) const {
        dw[row * cols() + col] += (float)acc;
    }
};

// conv_gemm computes the product that p describes, one kConvTile×kConvTile
// output tile per block. tile_a[k][r] contains A(row0 + r, k0 + k) and
// tile_b[k][c] contains B(k0 + k, col0 + c); both are kConvSlice×(kConvTile+1)
// shared arrays, the extra column against bank conflicts. All threads of
// the block reach every barrier, including those whose outputs lie past the
// edge.
template <class Problem>
__device__ inline void conv_gemm(const Problem& p, float (*tile_a)[kConvTile + 1],
                                 float (*tile_b)[kConvTile + 1]) {
    const long long rows = p.rows(), cols = p.cols(), depth = p.depth();
    const long long row0 = (long long)blockIdx.y * kConvTile;
    const long long col0 = (long long)blockIdx.x * kConvTile;
    const int tx = threadIdx.x, ty = threadIdx.y;
    const int linear = ty * kConvThreads + tx;
    constexpr int kBlockThreads = kConvThreads * kConvThreads;
    constexpr int kLoads = kConvTile * kConvSlice / kBlockThreads;

    double acc[kConvMicro][kConvMicro];
    for (int i = 0; i < kConvMicro; i++) {
        for (int j = 0; j < kConvMicro; j++) {
            acc[i][j] = 0;
        }
    }
    for (long long k0 = 0; k0 < depth; k0 += kConvSlice) {
        // A is read along k and B along the columns, the directions in which
        // consecutive threads most often touch consecutive addresses.
        for (int e = 0; e < kLoads; e++) {
            int idx = linear + e * kBlockThreads;
            int k = idx % kConvSlice, r = idx / kConvSlice;
            long long row = row0 + r, kk = k0 + k;
            tile_a[k][r] = (row < rows && kk < depth) ? p.a(row, kk) : 0.0f;
        }
        for (int e = 0; e < kLoads; e++) {
            int idx = linear + e * kBlockThreads;
            int c = idx % kConvTile, k = idx / kConvTile;
            long long col = col0 + c, kk = k0 + k;
            tile_b[k][c] = (kk < depth && col < cols) ? p.b(kk, col) : 0.0f;
        }
        __syncthreads();
        float slice[kConvMicro][kConvMicro];
        for (int i = 0; i < kConvMicro; i++) {
            for (int j = 0; j < kConvMicro; j++) {
                slice[i][j] = 0;
            }
        }
        for (int k = 0; k < kConvSlice; k++) {
            float a[kConvMicro], b[kConvMicro];
            for (int i = 0; i < kConvMicro; i++) {
                a[i] = tile_a[k][ty + i * kConvThreads];
                b[i] = tile_b[k][tx + i * kConvThreads];
            }
            for (int i = 0; i < kConvMicro; i++) {
                for (int j = 0; j < kConvMicro; j++) {
                    slice[i][j] += a[i] * b[j];
                }
            }
        }
        for (int i = 0; i < kConvMicro; i++) {
            for (int j = 0; j < kConvMicro; j++) {
                acc[i][j] += (double)slice[i][j];
            }
        }
        __syncthreads();
    }
    for (int i = 0; i < kConvMicro; i++) {
        long long row = row0 + ty + i * kConvThreads;
        for (int j = 0; j < kConvMicro; j++) {
            long long col = col0 + tx + j * kConvThreads;
            if (row < rows && col < cols) {
                p.store(row, col, acc[i][j]);
            }
        }
    }
}

__device__ inline ConvShape conv_shape(long long n, long long c, long long h, long long w,
                                       long long f, long long kh, long long kw, long long oh,
                                       long long ow, long long sh, long long sw, long long ph,
                                       long long pw) {
    ConvShape s;
    s.n = n;
    s.c = c;
    s.h = h;
    s.w = w;
    s.f = f;
    s.kh = kh;
    s.kw = kw;
    s.oh = oh;
    s.ow = ow;
    s.sh = sh;
    s.sw = sw;
    s.ph = ph;
    s.pw = pw;
    return s;
}

extern "C" __global__ void dmtc_conv_forward(const float* x, const float* w, const float* bias,
                                             float* y, long long n, long long c, long long h,
                                             long long wd, long long f, long long kh, long long kw,
                                             long long oh, long long ow, long long sh, long long sw,
                                             long long ph, long long pw) {
    DMTC_SHARED(float, tile_a, [kConvSlice][kConvTile + 1]);
    DMTC_SHARED(float, tile_b, [kConvSlice][kConvTile + 1]);
    ConvForward p;
    p.x = x;
    p.w = w;
    p.bias = bias;
    p.y = y;
    p.s = conv_shape(n, c, h, wd, f, kh, kw, oh, ow, sh, sw, ph, pw);
    conv_gemm(p, tile_a, tile_b);
}

extern "C" __global__ void dmtc_conv_backward_data(const float* dy, const float* w, float* dx,
                                                   long long n, long long c, long long h,
                                                   long long wd, long long f, long long kh,
                                                   long long kw, long long oh, long long ow,
                                                   long long sh, long long sw, long long ph,
                                                   long long pw) {
    DMTC_SHARED(float, tile_a, [kConvSlice][kConvTile + 1]);
    DMTC_SHARED(float, tile_b, [kConvSlice][kConvTile + 1]);
    ConvBackwardData p;
    p.dy = dy;
    p.w = w;
    p.dx = dx;
    p.s = conv_shape(n, c, h, wd, f, kh, kw, oh, ow, sh, sw, ph, pw);
    conv_gemm(p, tile_a, tile_b);
}

extern "C" __global__ void dmtc_conv_backward_filter(const float* x, const float* dy, float* dw,
                                                     long long n, long long c, long long h,
                                                     long long wd, long long f, long long kh,
                                                     long long kw, long long oh, long long ow,
                                                     long long sh, long long sw, long long ph,
                                                     long long pw) {
    DMTC_SHARED(float, tile_a, [kConvSlice][kConvTile + 1]);
    DMTC_SHARED(float, tile_b, [kConvSlice][kConvTile + 1]);
    ConvBackwardFilter p;
    p.x = x;
    p.dy = dy;
    p.dw = dw;
    p.s = conv_shape(n, c, h, wd, f, kh, kw, oh, ow, sh, sw, ph, pw);
    conv_gemm(p, tile_a, tile_b);
}

DMTC_REGISTER_KERNEL(dmtc_conv_forward);
DMTC_REGISTER_KERNEL(dmtc_conv_backward_data);
DMTC_REGISTER_KERNEL(dmtc_conv_backward_filter);
