package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/dmtc-go/dmtc/dmtc"
	"github.com/dmtc-go/dmtc/dmtc/data"
	"github.com/dmtc-go/dmtc/nn"
)

// BenchmarkTrainEpoch times one DMTC training epoch on 512 random 28×28 grey
// images: the no-grad pseudo-graph pass, then one pass of gradient steps on
// two augmented views of batches of 32. It reports training images per
// second, the unit of the epoch lines of dmtc-run.
func BenchmarkTrainEpoch(b *testing.B) {
	const n = 512
	rng := rand.New(rand.NewPCG(1, 1))
	x := make([]float32, n*28*28)
	for i := range x {
		x[i] = rng.Float32()
	}
	im := &dmtc.Images{C: 1, H: 28, W: 28, X: x}
	cfg := dmtc.TrainConfig{
		Epochs: 1, LargeBatch: n, BatchSize: 32, Passes: 1,
		Graph:  dmtc.GraphConfig{Tau: 0.95, Confidence: 0.9},
		WLabel: 5, WGraph: 1, WMI: 0.05, LR: 1e-3, Alpha: 0.9,
		Augment: data.DefaultAugment(1, 28, 28), Workers: 2,
	}
	for _, width := range []int{8, 16} {
		b.Run(fmt.Sprintf("width=%d", width), func(b *testing.B) {
			forEachBackend(b, func(b *testing.B, be nn.Backend) {
				net, err := dmtc.NewNet(be, dmtc.NetConfig{C: 1, H: 28, W: 28, Width: width, Hidden: 64,
					K: 3, DiscWidth: 32}, rand.New(rand.NewPCG(2, 2)))
				if err != nil {
					b.Fatal(err)
				}
				defer net.Free(be)
				b.ResetTimer()
				for i := range b.N {
					if err := dmtc.Train(context.Background(), be, net, im, cfg, uint64(i), "bench", nil); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "images/s")
			})
		})
	}
}
