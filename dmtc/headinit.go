package dmtc

import (
	"fmt"
	"math/rand/v2"

	"github.com/dmtc-go/dmtc/dmtc/cluster"
	"github.com/dmtc-go/dmtc/nn"
)

// InitHeadFromFeatures sets the head of a transferred network from k-means
// on its hidden features: with centres c_k of the task's images, the head
// computes the logits c_k·h − ½‖c_k‖², which rank the clusters as the
// distance ‖h − c_k‖ does. A random head would instead map the B-net's
// clusters onto the task's K clusters arbitrarily, often merging two of them,
// and the pseudo-labels would then keep the merge. At most limit images of im
// are used, drawn at random with seed.
func InitHeadFromFeatures(b nn.Backend, net *Net, im *Images, limit int, seed uint64, threads int) error {
	n := min(im.N(), limit)
	k, hidden := net.Config.K, net.Config.Hidden
	if n < k {
		return fmt.Errorf("dmtc: head initialisation: %d images for %d clusters", n, k)
	}
	x := im.gather(rand.New(rand.NewPCG(seed, 1)).Perm(im.N())[:n])
	tp := nn.NewTape(b)
	tp.Grad = false
	defer tp.Release()
	in := tp.Tensor(n, im.C, im.H, im.W)
	b.Upload(in, x)
	_, h := net.features(tp, tp.Input(in), nn.BatchStats)
	feats := make([]float32, n*hidden)
	b.Download(feats, h.Value)

	km, err := cluster.KMeans(feats, n, hidden, k, cluster.Options{Seed: seed, Restarts: 3, Threads: threads})
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
	return nil
}
