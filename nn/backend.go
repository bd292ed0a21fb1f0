package nn

// ConvParams describes a 2-D convolution over NCHW input with an (F, C, KH, KW)
// filter. Output size is (H + 2·PadH − KH)/StrideH + 1, likewise for W.
type ConvParams struct {
	StrideH, StrideW int
	PadH, PadW       int
}

// ConvOutSize returns the output height and width of a convolution or pooling
// window of size kh×kw over an h×w input.
func ConvOutSize(h, w, kh, kw, strideH, strideW, padH, padW int) (int, int) {
	return (h+2*padH-kh)/strideH + 1, (w+2*padW-kw)/strideW + 1
}

// PoolParams describes a 2-D max or average pooling window. Average pooling
// divides by KH·KW, counting padded cells (count_include_pad).
type PoolParams struct {
	KH, KW           int
	StrideH, StrideW int
	PadH, PadW       int
}

// Activation selects an element-wise function.
type Activation int

const (
	ReLU     Activation = iota // max(x, 0); the derivative at 0 is 0
	Sigmoid                    // 1 / (1 + e⁻ˣ)
	Tanh                       // tanh(x)
	Softplus                   // log(1 + eˣ), computed without overflow
)

// BatchNormParams holds the constants of a batch-norm call.
type BatchNormParams struct {
	Training bool
	// Momentum is the weight of the new batch statistic in the running
	// average: running = (1 − Momentum)·running + Momentum·batch. PyTorch's
	// default is 0.1. Running variance uses the unbiased batch variance.
	Momentum float32
	Eps      float32
}

// RMSpropParams are the PyTorch RMSprop constants (no momentum, not centred):
// sq = α·sq + (1 − α)·g², p −= lr·g / (√sq + eps), with g = grad + wd·p.
type RMSpropParams struct {
	LR, Alpha, Eps, WeightDecay float32
}

// AdamParams are the Adam constants; Step is the 1-based update count used
// for bias correction.
type AdamParams struct {
	LR, Beta1, Beta2, Eps, WeightDecay float32
	Step                               int
}

// Backend is the set of coarse tensor ops every engine implements. Layers and
// training code call only these. The CPU backend is the reference: every
// other backend must agree with it within the tolerances of the shared test
// suite in package nn/backendtest.
//
// Conventions:
//   - Forward ops overwrite their outputs.
//   - Backward ops and the fused loss ops accumulate into gradient outputs
//     (dx += ...), so a tape can sum the gradients of a tensor used twice
//     without extra buffers. A nil gradient output is skipped.
//   - Shapes are checked; a mismatch is a programmer error and panics with a
//     message that starts with the backend's name.
//   - Outputs never alias inputs unless an op says so.
//   - Results do not depend on the number of threads.
type Backend interface {
	Name() string

	// Alloc returns a zero-filled tensor of the given shape.
	Alloc(shape ...int) *Tensor
	// Free releases t's storage. Using t afterwards is a programmer error.
	Free(t *Tensor)
	// Upload copies len(src) == t.Len() host values into t.
	Upload(t *Tensor, src []float32)
	// Download copies t into dst, len(dst) == t.Len().
	Download(dst []float32, t *Tensor)
	// Sync waits for queued work and returns the first asynchronous error.
	Sync() error

	// Fill sets every element of t to v.
	Fill(t *Tensor, v float32)
	// Copy copies src into dst (same element count).
	Copy(dst, src *Tensor)
	// Axpy computes y += alpha·x element-wise.
	Axpy(alpha float32, x, y *Tensor)
	// Scale computes x *= alpha element-wise.
	Scale(alpha float32, x *Tensor)

	// Gemm computes C = alpha·op(A)·op(B) + beta·C for row-major matrices,
	// where op(X) is X or Xᵀ. A, B and C are viewed as (Rows, Cols). With
	// beta = 0, C is not read, so NaN already in C does not propagate.
	Gemm(transA, transB bool, alpha float32, a, b *Tensor, beta float32, c *Tensor)
	// AddBias adds bias (F) to y viewed as (N, F, S) for any trailing size S:
	// y[n,f,s] += bias[f]. It covers linear (S = 1) and conv outputs.
	AddBias(y, bias *Tensor)
	// BiasBackward accumulates db[f] += Σ_{n,s} dy[n,f,s].
	BiasBackward(dy, db *Tensor)

	// Conv2D computes y = conv(x, w) + bias for x (N,C,H,W), w (F,C,KH,KW),
	// bias (F) or nil, y (N,F,OH,OW). It is cross-correlation, as in PyTorch.
	Conv2D(x, w, bias, y *Tensor, p ConvParams)
	// Conv2DBackwardData accumulates dx += ∂L/∂x from dy and w.
	Conv2DBackwardData(dy, w, dx *Tensor, p ConvParams)
	// Conv2DBackwardFilter accumulates dw += ∂L/∂w and, when db is not nil,
	// db += ∂L/∂bias.
	Conv2DBackwardFilter(x, dy, dw, db *Tensor, p ConvParams)

	// BatchNorm normalises x (N,C) or (N,C,H,W) per channel. In training it
	// uses the batch statistics, stores the batch mean and 1/√(var+eps)
	// (biased variance) in saveMean and saveInvStd (C), and updates the
	// running statistics. In evaluation it uses runMean and runVar and
	// ignores saveMean and saveInvStd, which may be nil.
	BatchNorm(x, gamma, beta, runMean, runVar, saveMean, saveInvStd, y *Tensor, p BatchNormParams)
	// BatchNormBackward accumulates dx, dgamma and dbeta for a training-mode
	// forward pass whose saved statistics are given.
	BatchNormBackward(x, dy, gamma, saveMean, saveInvStd, dx, dgamma, dbeta *Tensor)

	// MaxPool2D computes y (N,C,OH,OW) from x (N,C,H,W). Padded cells are −∞.
	MaxPool2D(x, y *Tensor, p PoolParams)
	// MaxPool2DBackward accumulates dx; each window's gradient goes to its
	// first maximum in row-major order.
	MaxPool2DBackward(x, dy, dx *Tensor, p PoolParams)
	// AvgPool2D computes y (N,C,OH,OW) from x (N,C,H,W).
	AvgPool2D(x, y *Tensor, p PoolParams)
	// AvgPool2DBackward accumulates dx.
	AvgPool2DBackward(dy, dx *Tensor, p PoolParams)

	// Activate computes y = f(x) element-wise.
	Activate(f Activation, x, y *Tensor)
	// ActivateBackward accumulates dx += f'(x)·dy, given x and y = f(x).
	ActivateBackward(f Activation, x, y, dy, dx *Tensor)

	// Softmax computes the softmax of each row of x (N, K) into y.
	Softmax(x, y *Tensor)
	// SoftmaxBackward accumulates dx from the softmax output y and dy.
	SoftmaxBackward(y, dy, dx *Tensor)
	// LogSoftmax computes the log-softmax of each row of x (N, K) into y.
	LogSoftmax(x, y *Tensor)
	// LogSoftmaxBackward accumulates dx from the log-softmax output y and dy.
	LogSoftmaxBackward(y, dy, dx *Tensor)

	// CrossEntropy returns the mean over labelled rows of −log softmax(logits)
	// at the label, for logits (N, K) and labels (N) holding class indices or
	// −1 for rows without a label. When dlogits is not nil it accumulates
	// scale·∂loss/∂logits. With no labelled row the loss is 0.
	CrossEntropy(logits, labels, dlogits *Tensor, scale float32) float32
	// BinaryCrossEntropy returns the mean of −t·log p − (1−t)·log(1−p) over
	// all elements, with p clamped to [1e−7, 1 − 1e−7], and accumulates
	// scale·∂loss/∂p into dp when it is not nil (0 where p was clamped).
	BinaryCrossEntropy(p, target, dp *Tensor, scale float32) float32
	// JSDMutualInfo returns the Jensen-Shannon mutual-information loss
	// mean(softplus(−pos)) + mean(softplus(neg)) for discriminator scores on
	// positive and negative pairs, and accumulates scale times its gradient
	// into dpos and dneg when they are not nil.
	JSDMutualInfo(pos, neg, dpos, dneg *Tensor, scale float32) float32

	// L2NormalizeRows writes y = x / max(‖x‖, 1e−12) row by row for x (N, D)
	// and stores each row's norm in norms (N). A zero row stays zero.
	L2NormalizeRows(x, y, norms *Tensor)
	// L2NormalizeRowsBackward accumulates dx from y, norms and dy.
	L2NormalizeRowsBackward(y, norms, dy, dx *Tensor)
	// CosineSimilarity writes s[i,j] = cos(a_i, b_j) for a (N, D), b (M, D),
	// s (N, M). A zero vector has similarity 0 with everything, never NaN.
	CosineSimilarity(a, b, s *Tensor)
	// ThresholdGraph writes g[i,j] = 1 where s[i,j] ≥ tau, else 0.
	ThresholdGraph(s, g *Tensor, tau float32)
	// TopK writes into idx (N, k) the column indices of the k largest values
	// of each row of s (N, M), largest first, ties to the lowest index. With
	// excludeDiagonal, column i is never chosen for row i. Slots beyond the
	// number of candidates (k > M, or k = M with the diagonal excluded) are −1.
	TopK(s, idx *Tensor, k int, excludeDiagonal bool)

	// TileConcat writes out (N, K+C, H, W): channels 0..K−1 are y (N, K)
	// repeated over the H×W grid, the rest are m (N, C, H, W).
	TileConcat(y, m, out *Tensor)
	// TileConcatBackward accumulates dy += the grid sum of dout's first K
	// channels and dm += its remaining channels. Either output may be nil.
	TileConcatBackward(dout, dy, dm *Tensor)

	// RMSprop applies one RMSprop step to param using grad and the running
	// mean square sq (same shape).
	RMSprop(param, grad, sq *Tensor, p RMSpropParams)
	// Adam applies one Adam step with moment buffers m and v.
	Adam(param, grad, m, v *Tensor, p AdamParams)
}
