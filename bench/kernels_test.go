package bench

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/dmtc-go/dmtc/nn"
)

func forEachBackend(b *testing.B, run func(b *testing.B, be nn.Backend)) {
	list, errs := backends()
	for _, err := range errs {
		b.Logf("backend skipped: %v", err)
	}
	for _, nb := range list {
		b.Run("backend="+nb.name, func(b *testing.B) { run(b, nb.b) })
	}
}

func random(be nn.Backend, rng *rand.Rand, shape ...int) *nn.Tensor {
	t := be.Alloc(shape...)
	host := make([]float32, t.Len())
	for i := range host {
		host[i] = float32(rng.NormFloat64())
	}
	be.Upload(t, host)
	return t
}

// convShapes are the convolutions of the default network (width 16) and of
// the DCCM width (64) on 28×28 input, batch 64: (N, C, H, W, F).
var convShapes = [][5]int{
	{64, 16, 28, 28, 16},
	{64, 32, 14, 14, 64},
	{64, 64, 28, 28, 64},
}

func BenchmarkConv2D(b *testing.B) {
	for _, s := range convShapes {
		n, c, h, w, f := s[0], s[1], s[2], s[3], s[4]
		name := fmt.Sprintf("shape=%dx%dx%dx%d_f%d", n, c, h, w, f)
		b.Run(name, func(b *testing.B) {
			forEachBackend(b, func(b *testing.B, be nn.Backend) {
				rng := rand.New(rand.NewPCG(1, 1))
				x, wt := random(be, rng, n, c, h, w), random(be, rng, f, c, 3, 3)
				y := be.Alloc(n, f, h, w)
				p := nn.ConvParams{StrideH: 1, StrideW: 1, PadH: 1, PadW: 1}
				flops := 2.0 * float64(n*f*h*w*c*9)
				b.ResetTimer()
				for range b.N {
					be.Conv2D(x, wt, nil, y, p)
				}
				if err := be.Sync(); err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		})
	}
}

func BenchmarkConv2DBackward(b *testing.B) {
	for _, s := range convShapes {
		n, c, h, w, f := s[0], s[1], s[2], s[3], s[4]
		name := fmt.Sprintf("shape=%dx%dx%dx%d_f%d", n, c, h, w, f)
		b.Run(name, func(b *testing.B) {
			forEachBackend(b, func(b *testing.B, be nn.Backend) {
				rng := rand.New(rand.NewPCG(1, 1))
				x, wt := random(be, rng, n, c, h, w), random(be, rng, f, c, 3, 3)
				dy := random(be, rng, n, f, h, w)
				dx, dw := be.Alloc(n, c, h, w), be.Alloc(f, c, 3, 3)
				p := nn.ConvParams{StrideH: 1, StrideW: 1, PadH: 1, PadW: 1}
				flops := 2 * 2.0 * float64(n*f*h*w*c*9)
				b.ResetTimer()
				for range b.N {
					be.Conv2DBackwardData(dy, wt, dx, p)
					be.Conv2DBackwardFilter(x, dy, dw, nil, p)
				}
				if err := be.Sync(); err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		})
	}
}

func BenchmarkGemm(b *testing.B) {
	for _, size := range []int{64, 255, 256, 1000} {
		b.Run(fmt.Sprintf("shape=%d", size), func(b *testing.B) {
			forEachBackend(b, func(b *testing.B, be nn.Backend) {
				rng := rand.New(rand.NewPCG(1, 1))
				x, y := random(be, rng, size, size), random(be, rng, size, size)
				c := be.Alloc(size, size)
				b.ResetTimer()
				for range b.N {
					be.Gemm(false, true, 1, x, y, 0, c)
				}
				if err := be.Sync(); err != nil {
					b.Fatal(err)
				}
				flops := 2.0 * float64(size*size*size)
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		})
	}
}

func BenchmarkCosineSimilarity(b *testing.B) {
	// The pseudo-graph of one large batch: 1000 probability vectors.
	for _, k := range []int{3, 10} {
		b.Run(fmt.Sprintf("shape=1000x%d", k), func(b *testing.B) {
			forEachBackend(b, func(b *testing.B, be nn.Backend) {
				rng := rand.New(rand.NewPCG(1, 1))
				p := random(be, rng, 1000, k)
				s := be.Alloc(1000, 1000)
				b.ResetTimer()
				for range b.N {
					be.CosineSimilarity(p, p, s)
				}
				if err := be.Sync(); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}
