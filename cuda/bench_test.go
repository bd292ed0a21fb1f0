//go:build cuda || cudaemu

package cuda

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkGemm measures the SGEMM kernel on square matrices and on the
// shape of a 3×3 convolution with 64 input and output channels over a batch
// of 32 32×32 images lowered to a GEMM (m = 64 filters, n = 32·32·32 output
// pixels, k = 64·9). Each iteration waits for the kernel, so the time is the
// kernel's plus one launch.
func BenchmarkGemm(b *testing.B) {
	shapes := []struct {
		name    string
		m, n, k int
	}{
		{"square=512", 512, 512, 512},
		{"square=2048", 2048, 2048, 2048},
		{"conv3x3c64b32", 64, 32 * 32 * 32, 64 * 9},
	}
	for _, s := range shapes {
		b.Run(fmt.Sprintf("shape=%s/backend=%s", s.name, backendName), func(b *testing.B) {
			g, err := New(0)
			if err != nil {
				b.Skipf("no usable device: %v", err)
			}
			defer g.Close()
			rng := rand.New(rand.NewPCG(5, 6))
			a := g.Alloc(s.m, s.k)
			x := g.Alloc(s.k, s.n)
			c := g.Alloc(s.m, s.n)
			g.Upload(a, uniform(rng, s.m*s.k, -1, 1))
			g.Upload(x, uniform(rng, s.k*s.n, -1, 1))
			g.Gemm(false, false, 1, a, x, 0, c) // loads the kernel
			if err := g.Sync(); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				g.Gemm(false, false, 1, a, x, 0, c)
				if err := g.Sync(); err != nil {
					b.Fatal(err)
				}
			}
			flops := 2 * float64(s.m) * float64(s.n) * float64(s.k) * float64(b.N)
			b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// BenchmarkAxpy measures the memory-bound axpy kernel: it reads x and y and
// writes y, 12 bytes an element.
func BenchmarkAxpy(b *testing.B) {
	for _, n := range []int{1 << 20, 1 << 26} {
		b.Run(fmt.Sprintf("n=%d/backend=%s", n, backendName), func(b *testing.B) {
			g, err := New(0)
			if err != nil {
				b.Skipf("no usable device: %v", err)
			}
			defer g.Close()
			x, y := g.Alloc(n), g.Alloc(n)
			g.Axpy(1, x, y)
			if err := g.Sync(); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(12 * n))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				g.Axpy(0.5, x, y)
				if err := g.Sync(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
