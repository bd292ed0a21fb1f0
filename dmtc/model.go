// Package dmtc implements deep correlation mining for multi-task image
// clustering (DMTC): a between-task network (B-net) trained on all tasks
// pooled, transferred into one within-task network (W-net) per task, each
// trained with pseudo-graph, pseudo-label and mutual-information losses.
package dmtc

import (
	"fmt"
	"math/rand/v2"

	"github.com/dmtc-go/dmtc/nn"
)

// NetConfig is the shape of a clustering network.
type NetConfig struct {
	C, H, W int // input image shape
	// Width is the channel count of the first block. The DCCM CIFAR network
	// uses 64; blocks two and three use 2·Width and 4·Width.
	Width int
	// Hidden is the width of the fully connected layer before the head (64).
	Hidden int
	// K is the number of clusters.
	K int
	// DiscWidth is the width of the discriminator's hidden 1×1 convolutions
	// (512 in DMTC).
	DiscWidth int
}

func (c NetConfig) validate() error {
	switch {
	case c.C < 1 || c.H < 4 || c.W < 4:
		return fmt.Errorf("dmtc: input shape (%d,%d,%d) is too small: need C ≥ 1 and H, W ≥ 4", c.C, c.H, c.W)
	case c.Width < 1 || c.Hidden < 1 || c.DiscWidth < 1:
		return fmt.Errorf("dmtc: width %d, hidden %d and discriminator width %d must all be positive",
			c.Width, c.Hidden, c.DiscWidth)
	case c.K < 2:
		return fmt.Errorf("dmtc: %d clusters: need at least 2", c.K)
	}
	return nil
}

// Net is the backbone for small images with its clustering head and the MI
// discriminator:
//
//	conv3×3(C→w) BN ReLU, conv3×3(w→w) BN ReLU, maxpool 2   → M (w, H/2, W/2)
//	conv3×3(w→2w) BN ReLU, maxpool 2, conv3×3(2w→4w) BN ReLU, global avg pool
//	FC(4w→hidden) BN ReLU, head: FC(hidden→K) BN            → Y (K)
//	p = softmax(Y)
//
// The discriminator tiles Y over M's grid, concatenates, and applies 1×1
// convolutions (K+w → d → d → 1) with ReLU between them, giving one score per
// grid cell.
type Net struct {
	Config NetConfig

	Conv1, Conv2, Conv3, Conv4 *nn.Conv2D
	BN1, BN2, BN3, BN4         *nn.BatchNorm
	FC                         *nn.Linear
	FCBN                       *nn.BatchNorm
	Head                       *nn.Linear
	HeadBN                     *nn.BatchNorm
	D1, D2, D3                 *nn.Conv2D
}

// NewNet builds a network with freshly initialised parameters from rng.
func NewNet(b nn.Backend, cfg NetConfig, rng *rand.Rand) (*Net, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	w := cfg.Width
	n := &Net{Config: cfg}
	n.Conv1 = nn.NewConv2D(b, rng, "conv1", cfg.C, w, 3, 1, 1, false)
	n.BN1 = nn.NewBatchNorm(b, "bn1", w)
	n.Conv2 = nn.NewConv2D(b, rng, "conv2", w, w, 3, 1, 1, false)
	n.BN2 = nn.NewBatchNorm(b, "bn2", w)
	n.Conv3 = nn.NewConv2D(b, rng, "conv3", w, 2*w, 3, 1, 1, false)
	n.BN3 = nn.NewBatchNorm(b, "bn3", 2*w)
	n.Conv4 = nn.NewConv2D(b, rng, "conv4", 2*w, 4*w, 3, 1, 1, false)
	n.BN4 = nn.NewBatchNorm(b, "bn4", 4*w)
	n.FC = nn.NewLinear(b, rng, "fc", 4*w, cfg.Hidden)
	n.FCBN = nn.NewBatchNorm(b, "fc_bn", cfg.Hidden)
	n.newHead(b, rng)
	n.D2 = nn.NewConv2D(b, rng, "disc2", cfg.DiscWidth, cfg.DiscWidth, 1, 1, 0, true)
	n.D3 = nn.NewConv2D(b, rng, "disc3", cfg.DiscWidth, 1, 1, 1, 0, true)
	return n, nil
}

// newHead creates the K-sized parts: the head and the discriminator's input
// layer, whose input channels include the K tiled logits.
func (n *Net) newHead(b nn.Backend, rng *rand.Rand) {
	cfg := n.Config
	n.Head = nn.NewLinear(b, rng, "head", cfg.Hidden, cfg.K)
	n.HeadBN = nn.NewBatchNorm(b, "head_bn", cfg.K)
	n.D1 = nn.NewConv2D(b, rng, "disc1", cfg.K+cfg.Width, cfg.DiscWidth, 1, 1, 0, true)
}

// headParams lists the parameters that transfer re-initialises.
func (n *Net) headParams() []*nn.Param {
	return concat(n.Head.Params(), n.HeadBN.Params(), n.D1.Params())
}

// Params returns every trainable parameter, backbone, head and
// discriminator.
func (n *Net) Params() []*nn.Param {
	return concat(n.Conv1.Params(), n.BN1.Params(), n.Conv2.Params(), n.BN2.Params(),
		n.Conv3.Params(), n.BN3.Params(), n.Conv4.Params(), n.BN4.Params(),
		n.FC.Params(), n.FCBN.Params(), n.Head.Params(), n.HeadBN.Params(),
		n.D1.Params(), n.D2.Params(), n.D3.Params())
}

// batchNorms lists every batch-norm layer, head last.
func (n *Net) batchNorms() []*nn.BatchNorm {
	return []*nn.BatchNorm{n.BN1, n.BN2, n.BN3, n.BN4, n.FCBN, n.HeadBN}
}

// batchNormMomentum is PyTorch's default running-statistics momentum.
const batchNormMomentum = 0.1

func (n *Net) setBatchNormMomentum(m float32) {
	for _, bn := range n.batchNorms() {
		bn.Momentum = m
	}
}

// Free releases every tensor the network owns.
func (n *Net) Free(b nn.Backend) {
	nn.FreeParams(b, n.Params())
	for _, bn := range n.batchNorms() {
		b.Free(bn.RunMean)
		b.Free(bn.RunVar)
	}
}

func concat(lists ...[]*nn.Param) []*nn.Param {
	var out []*nn.Param
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

// Output holds the results of one forward pass of the backbone and head.
type Output struct {
	M *nn.Var // shallow feature map (N, w, H/2, W/2)
	Y *nn.Var // deep logits (N, K)
	P *nn.Var // cluster probabilities softmax(Y) (N, K)
}

// Forward runs the backbone and head on x (N, C, H, W).
func (n *Net) Forward(tp *nn.Tape, x *nn.Var, mode nn.Mode) Output {
	m, h := n.features(tp, x, mode)
	y := n.HeadBN.Forward(tp, n.Head.Forward(tp, h), mode)
	return Output{M: m, Y: y, P: nn.Softmax(tp, y)}
}

// features runs the backbone and returns the shallow map M and the hidden
// features (N, Hidden) that the head reads.
func (n *Net) features(tp *nn.Tape, x *nn.Var, mode nn.Mode) (m, h *nn.Var) {
	h = n.block(tp, n.Conv1, n.BN1, x, mode)
	h = n.block(tp, n.Conv2, n.BN2, h, mode)
	m = nn.MaxPool2D(tp, h, nn.Pool2)
	h = n.block(tp, n.Conv3, n.BN3, m, mode)
	h = nn.MaxPool2D(tp, h, nn.Pool2)
	h = n.block(tp, n.Conv4, n.BN4, h, mode)
	h = nn.GlobalAvgPool(tp, h)
	h = n.FC.Forward(tp, h)
	return m, nn.Activate(tp, nn.ReLU, n.FCBN.Forward(tp, h, mode))
}

func (n *Net) block(tp *nn.Tape, conv *nn.Conv2D, bn *nn.BatchNorm, x *nn.Var, mode nn.Mode) *nn.Var {
	return nn.Activate(tp, nn.ReLU, bn.Forward(tp, conv.Forward(tp, x), mode))
}

// Discriminate scores (Y_i, M_i) pairs: y (N, K), m (N, w, h, w') → (N·h·w')
// scores, one per grid cell.
func (n *Net) Discriminate(tp *nn.Tape, y, m *nn.Var) *nn.Var {
	h := nn.TileConcat(tp, y, m)
	h = nn.Activate(tp, nn.ReLU, n.D1.Forward(tp, h))
	h = nn.Activate(tp, nn.ReLU, n.D2.Forward(tp, h))
	h = n.D3.Forward(tp, h)
	return nn.Reshape(h, h.Value.Len())
}

// ShallowShape returns the shape of one M map: (w, H/2, W/2).
func (n *Net) ShallowShape() (c, h, w int) {
	return n.Config.Width, n.Config.H / 2, n.Config.W / 2
}

// TransferFrom copies every parameter and running statistic of src except the
// head and the discriminator's input layer, which keep their fresh values
// because their size depends on K. The configurations must agree on
// everything but K.
func (n *Net) TransferFrom(b nn.Backend, src *Net) error {
	a, c := n.Config, src.Config
	a.K, c.K = 0, 0
	if a != c {
		return fmt.Errorf("dmtc: transfer between different networks: %+v and %+v", src.Config, n.Config)
	}
	skip := map[*nn.Param]bool{}
	for _, p := range n.headParams() {
		skip[p] = true
	}
	dst, from := n.Params(), src.Params()
	for i, p := range dst {
		if skip[p] {
			continue
		}
		b.Copy(p.Value, from[i].Value)
	}
	dstBN, srcBN := n.batchNorms(), src.batchNorms()
	for i := range dstBN[:len(dstBN)-1] {
		b.Copy(dstBN[i].RunMean, srcBN[i].RunMean)
		b.Copy(dstBN[i].RunVar, srcBN[i].RunVar)
	}
	return nil
}
