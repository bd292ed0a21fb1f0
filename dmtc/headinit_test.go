package dmtc

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dmtc-go/dmtc/nn"
)

// smallImages returns n random 1×8×8 images.
func smallImages(n int, seed uint64) *Images {
	rng := rand.New(rand.NewPCG(seed, 3))
	im := &Images{C: 1, H: 8, W: 8, X: make([]float32, n*64)}
	for i := range im.X {
		im.X[i] = rng.Float32()
	}
	return im
}

func TestInitHeadFromFeaturesAssignsNearestCentre(t *testing.T) {
	b := nn.NewCPU(1)
	// 37 images: not a multiple of the 10-image chunk, so the last chunk
	// is partial.
	im := smallImages(37, 1)
	cfg := NetConfig{C: 1, H: 8, W: 8, Width: 2, Hidden: 5, K: 3, DiscWidth: 4}
	net, err := NewNet(b, cfg, rand.New(rand.NewPCG(2, 2)))
	require.NoError(t, err)
	defer net.Free(b)
	// Temperature 2 halves the logits that the head's batch norm outputs.
	opt := HeadInit{Temperature: 2, Restarts: 2, Chunk: 10, Seed: 7, Threads: 1}
	require.NoError(t, InitHeadFromFeatures(b, net, im, opt))

	feats := hiddenFeatures(b, net, im, 37)
	centers := make([]float32, cfg.K*cfg.Hidden)
	b.Download(centers, net.Head.W.Value)

	// Every image goes to the centre nearest its features, computed here
	// in float64 from the head's weights.
	clusters, _, _ := Predict(b, net, im, 10)
	used := map[int]bool{}
	for i, got := range clusters {
		h := feats[i*cfg.Hidden : (i+1)*cfg.Hidden]
		best, bestDist := -1, math.Inf(1)
		for c := 0; c < cfg.K; c++ {
			var d float64
			for j, v := range h {
				diff := float64(v) - float64(centers[c*cfg.Hidden+j])
				d += diff * diff
			}
			if d < bestDist {
				best, bestDist = c, d
			}
		}
		assert.Equal(t, best, got, "image %d", i)
		used[got] = true
	}
	assert.Len(t, used, cfg.K, "k-means on 37 images leaves no cluster empty")

	// The head's batch norm outputs the logits (c·h − ½‖c‖²)/2, with
	// running statistics (evaluation) and with the batch statistics of the
	// same images (training).
	want := make([]float64, 37*cfg.K)
	for i := 0; i < 37; i++ {
		h := feats[i*cfg.Hidden : (i+1)*cfg.Hidden]
		for c := 0; c < cfg.K; c++ {
			var dot, sq float64
			for j, v := range h {
				w := float64(centers[c*cfg.Hidden+j])
				dot += w * float64(v)
				sq += w * w
			}
			want[i*cfg.K+c] = (dot - sq/2) / 2
		}
	}
	tp := nn.NewTape(b)
	defer tp.Release()
	tp.Grad = false
	hv := tp.Tensor(37, cfg.Hidden)
	b.Upload(hv, feats)
	for _, mode := range []nn.Mode{nn.Eval, nn.BatchStats} {
		y := make([]float32, 37*cfg.K)
		b.Download(y, net.HeadBN.Forward(tp, net.Head.Forward(tp, tp.Input(hv)), mode).Value)
		for i, w := range want {
			require.InDelta(t, w, y[i], 1e-4*(1+math.Abs(w)), "mode %v, logit %d", mode, i)
		}
	}
}

func TestInitHeadFromFeaturesTooFewImages(t *testing.T) {
	b := nn.NewCPU(1)
	net, err := NewNet(b, NetConfig{C: 1, H: 8, W: 8, Width: 2, Hidden: 5, K: 3, DiscWidth: 4},
		rand.New(rand.NewPCG(2, 2)))
	require.NoError(t, err)
	defer net.Free(b)
	err = InitHeadFromFeatures(b, net, smallImages(2, 1), HeadInit{Temperature: 1, Restarts: 1, Chunk: 10})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "2 images for 3 clusters")
}

func TestInitHeadFromFeaturesBadOptions(t *testing.T) {
	b := nn.NewCPU(1)
	net, err := NewNet(b, NetConfig{C: 1, H: 8, W: 8, Width: 2, Hidden: 5, K: 3, DiscWidth: 4},
		rand.New(rand.NewPCG(2, 2)))
	require.NoError(t, err)
	defer net.Free(b)
	for _, temp := range []float32{0, -1, float32(math.NaN()), float32(math.Inf(1))} {
		err = InitHeadFromFeatures(b, net, smallImages(10, 1), HeadInit{Temperature: temp, Restarts: 1, Chunk: 10})
		require.Error(t, err, "temperature %g", temp)
		assert.Contains(t, err.Error(), "head temperature", "temperature %g", temp)
	}
	err = InitHeadFromFeatures(b, net, smallImages(10, 1), HeadInit{Temperature: 1, Restarts: 1})
	require.Error(t, err, "chunk 0")
	assert.Contains(t, err.Error(), "0 images per forward pass")
}
