package dmtc

import (
	"fmt"
	"math"

	"github.com/dmtc-go/dmtc/dmtc/cluster"
	"github.com/dmtc-go/dmtc/nn"
)

// HeadInit contains the settings of InitHeadFromFeatures.
type HeadInit struct {
	// Temperature divides the k-means logits at the start. Above 1 it
	// softens the first probabilities, so fewer of the first, least reliable
	// pseudo-labels pass the confidence threshold.
	Temperature float32
	// Restarts is the number of k-means++ runs, of which the one with the
	// lowest inertia is kept.
	Restarts int
	// Chunk is the number of images per forward pass.
	Chunk   int
	Seed    uint64
	Threads int
}

// InitHeadFromFeatures sets the head of a transferred network from k-means
// on its hidden features: with centres c_k of the task's images, the head
// computes the logits c_k·h − ½‖c_k‖², which rank the clusters as the
// distance ‖h − c_k‖ does. A random head would instead map the B-net's
// clusters onto the task's K clusters arbitrarily, often merging two of them,
// and the pseudo-labels would then keep the merge. The features are those of
// every image of im in evaluation mode.
func InitHeadFromFeatures(b nn.Backend, net *Net, im *Images, opt HeadInit) error {
	n := im.N()
	k, hidden := net.Config.K, net.Config.Hidden
	if n < k {
		return fmt.Errorf("dmtc: head initialisation: %d images for %d clusters", n, k)
	}
	if err := checkHeadTemperature(opt.Temperature); err != nil {
		return err
	}
	if opt.Chunk < 1 {
		return fmt.Errorf("dmtc: head initialisation: %d images per forward pass: must be at least 1", opt.Chunk)
	}
	feats := hiddenFeatures(b, net, im, opt.Chunk)
	km, err := cluster.KMeans(feats, n, hidden, k, cluster.Options{Seed: opt.Seed, Restarts: opt.Restarts, Threads: opt.Threads})
	if err != nil {
		return fmt.Errorf("dmtc: head initialisation: %w", err)
	}
	bias := make([]float32, k)
	for c := 0; c < k; c++ {
		var sq float64
		for _, v := range km.Centers[c*hidden : (c+1)*hidden] {
			sq += float64(v) * float64(v)
		}
		bias[c] = float32(-sq / 2)
	}
	b.Upload(net.Head.W.Value, km.Centers)
	b.Upload(net.Head.Bias.Value, bias)
	passLogits(b, net.HeadBN, feats, n, hidden, km.Centers, bias, 1/opt.Temperature)
	return nil
}

// checkHeadTemperature returns an error unless t is finite and above 0.
func checkHeadTemperature(t float32) error {
	if !finitePositive(t) {
		return fmt.Errorf("dmtc: head temperature %g: must be finite and above 0 (1 keeps the k-means logits)", t)
	}
	return nil
}

// passLogits sets bn, the batch norm after the head, to output scale times
// the logits that centers and bias give for feats (γ = scale·σ, β = scale·μ,
// running statistics μ and σ²). A fresh batch norm would standardise each
// logit over the batch, which moves the k-means boundaries.
func passLogits(b nn.Backend, bn *nn.BatchNorm, feats []float32, n, hidden int, centers, bias []float32, scale float32) {
	k := len(bias)
	mean, variance := make([]float32, k), make([]float32, k)
	gamma, beta := make([]float32, k), make([]float32, k)
	for c := 0; c < k; c++ {
		w := centers[c*hidden : (c+1)*hidden]
		var sum, sq float64
		for i := 0; i < n; i++ {
			l := float64(bias[c])
			for j, v := range feats[i*hidden : (i+1)*hidden] {
				l += float64(w[j]) * float64(v)
			}
			sum += l
			sq += l * l
		}
		mu := sum / float64(n)
		v := max(sq/float64(n)-mu*mu, 0)
		mean[c], variance[c] = float32(mu), float32(v)
		gamma[c] = scale * float32(math.Sqrt(v+float64(bn.Eps)))
		beta[c] = scale * float32(mu)
	}
	b.Upload(bn.RunMean, mean)
	b.Upload(bn.RunVar, variance)
	b.Upload(bn.Gamma.Value, gamma)
	b.Upload(bn.Beta.Value, beta)
}

// hiddenFeatures returns the hidden features (N, Hidden) of every image of im
// in evaluation mode, computed chunk images at a time.
func hiddenFeatures(b nn.Backend, net *Net, im *Images, chunk int) []float32 {
	d := net.Config.Hidden
	feats := make([]float32, im.N()*d)
	evalChunks(b, im, chunk, func(tp *nn.Tape, x *nn.Var, lo, hi int) {
		_, h := net.features(tp, x, nn.Eval)
		b.Download(feats[lo*d:hi*d], h.Value)
	})
	return feats
}
