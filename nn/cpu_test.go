package nn_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dmtc-go/dmtc/nn"
	"github.com/dmtc-go/dmtc/nn/backendtest"
)

func TestCPUBackendOneThread(t *testing.T) { backendtest.Run(t, nn.NewCPU(1)) }

func TestCPUBackendThreeThreads(t *testing.T) { backendtest.Run(t, nn.NewCPU(3)) }

func TestCPUDefaultThreads(t *testing.T) {
	assert.GreaterOrEqual(t, nn.NewCPU(0).Threads(), 1)
	assert.Equal(t, 5, nn.NewCPU(5).Threads())
}

// uploadRandom returns a tensor on b holding seeded uniform values in [−1, 1).
func uploadRandom(b nn.Backend, rng *rand.Rand, shape ...int) *nn.Tensor {
	t := b.Alloc(shape...)
	v := make([]float32, t.Len())
	for i := range v {
		v[i] = float32(2*rng.Float64() - 1)
	}
	b.Upload(t, v)
	return t
}

func download(b nn.Backend, t *nn.Tensor) []float32 {
	v := make([]float32, t.Len())
	b.Download(v, t)
	return v
}

// requireBitwiseEqual fails unless got and want have identical bits.
func requireBitwiseEqual(t *testing.T, caseName string, want, got []float32) {
	t.Helper()
	require.Equal(t, len(want), len(got), "%s: element count", caseName)
	for i := range want {
		if math.Float32bits(want[i]) != math.Float32bits(got[i]) {
			require.Failf(t, "results depend on the thread count",
				"%s: index %d: 1 thread %.9g, other %.9g", caseName, i, want[i], got[i])
		}
	}
}

// threadOutputs runs conv forward and backward, batch norm forward and
// backward, and a GEMM on a CPU with the given thread count and returns every
// output. Sizes give several GEMM tiles, more samples than threads and fewer.
func threadOutputs(threads int) map[string][]float32 {
	b := nn.NewCPU(threads)
	rng := rand.New(rand.NewPCG(7, 7))
	out := map[string][]float32{}
	for _, n := range []int{1, 2, 7} {
		p := nn.ConvParams{StrideH: 1, StrideW: 1, PadH: 1, PadW: 1}
		x, w, bias := uploadRandom(b, rng, n, 19, 15, 15), uploadRandom(b, rng, 70, 19, 3, 3), uploadRandom(b, rng, 70)
		y := b.Alloc(n, 70, 15, 15)
		b.Conv2D(x, w, bias, y, p)
		dy := uploadRandom(b, rng, n, 70, 15, 15)
		dx, dw, db := b.Alloc(x.Shape...), b.Alloc(w.Shape...), b.Alloc(70)
		b.Conv2DBackwardData(dy, w, dx, p)
		b.Conv2DBackwardFilter(x, dy, dw, db, p)
		key := fmt.Sprintf("conv N=%d ", n)
		out[key+"y"], out[key+"dx"], out[key+"dw"], out[key+"db"] =
			download(b, y), download(b, dx), download(b, dw), download(b, db)

		xb := uploadRandom(b, rng, n, 40, 9, 9)
		gamma, beta := uploadRandom(b, rng, 40), uploadRandom(b, rng, 40)
		rm, rv, sm, si := b.Alloc(40), b.Alloc(40), b.Alloc(40), b.Alloc(40)
		b.Fill(rv, 1)
		yb := b.Alloc(xb.Shape...)
		b.BatchNorm(xb, gamma, beta, rm, rv, sm, si, yb, nn.BatchNormParams{Training: true, Momentum: 0.1, Eps: 1e-5})
		dyb := uploadRandom(b, rng, xb.Shape...)
		dxb, dg, dbb := b.Alloc(xb.Shape...), b.Alloc(40), b.Alloc(40)
		b.BatchNormBackward(xb, dyb, gamma, sm, si, dxb, dg, dbb)
		key = fmt.Sprintf("bn N=%d ", n)
		out[key+"y"], out[key+"runVar"], out[key+"dx"], out[key+"dgamma"] =
			download(b, yb), download(b, rv), download(b, dxb), download(b, dg)
	}
	a, bm := uploadRandom(b, rng, 130, 300), uploadRandom(b, rng, 300, 400)
	c := b.Alloc(130, 400)
	b.Gemm(false, false, 1, a, bm, 0, c)
	out["gemm"] = download(b, c)
	ct := b.Alloc(300, 300)
	b.Gemm(true, false, 1, a, a, 0, ct)
	out["gemm transA"] = download(b, ct)
	return out
}

func TestCPUThreadCountIndependence(t *testing.T) {
	want := threadOutputs(1)
	for _, threads := range []int{2, 3, 8} {
		got := threadOutputs(threads)
		for name, w := range want {
			requireBitwiseEqual(t, fmt.Sprintf("%s threads=%d", name, threads), w, got[name])
		}
	}
}

func TestCPUPanicMessages(t *testing.T) {
	b := nn.NewCPU(1)
	assert.PanicsWithValue(t, "nn: cpu: Gemm: op(a) is 2×3 and op(b) is 4×2 (a (2,3), b (4,2), transA false, transB false), "+
		"so c must be 2×2, got (2,2)", func() {
		b.Gemm(false, false, 1, b.Alloc(2, 3), b.Alloc(4, 2), 0, b.Alloc(2, 2))
	})
	assert.PanicsWithValue(t, "nn: cpu: Conv2D: x (1,2,4,4) has 2 channels but w (3,3,3,3) expects 3", func() {
		b.Conv2D(b.Alloc(1, 2, 4, 4), b.Alloc(3, 3, 3, 3), nil, b.Alloc(1, 3, 2, 2), nn.ConvParams{StrideH: 1, StrideW: 1})
	})
	short := b.Alloc(3)
	assert.PanicsWithValue(t, "nn: cpu: Fill: t has shape (2,2) (4 elements) but its buffer holds 3", func() {
		b.Fill(&nn.Tensor{Shape: []int{2, 2}, Buf: short.Buf}, 1)
	})
	freed := b.Alloc(2)
	b.Free(freed)
	assert.Panics(t, func() { b.Fill(freed, 1) }, "use after Free")
}

// TestCPUConvScratchReused checks that the conv hot path reuses its scratch
// buffers: after one warm-up call, caseName is left per call is a few closures
// and loop descriptors, a few hundred bytes however large the tensors.
func TestCPUConvScratchReused(t *testing.T) {
	b := nn.NewCPU(1)
	rng := rand.New(rand.NewPCG(1, 2))
	p := nn.ConvParams{StrideH: 1, StrideW: 1, PadH: 1, PadW: 1}
	x, w := uploadRandom(b, rng, 4, 8, 12, 12), uploadRandom(b, rng, 16, 8, 3, 3)
	y, dy := b.Alloc(4, 16, 12, 12), uploadRandom(b, rng, 4, 16, 12, 12)
	dx, dw := b.Alloc(x.Shape...), b.Alloc(w.Shape...)
	step := func() {
		b.Conv2D(x, w, nil, y, p)
		b.Conv2DBackwardData(dy, w, dx, p)
		b.Conv2DBackwardFilter(x, dy, dw, nil, p)
	}
	step()
	const runs = 20
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range runs {
		step()
	}
	runtime.ReadMemStats(&after)
	perStep := float64(after.TotalAlloc-before.TotalAlloc) / runs
	// One im2col buffer here is 72·144·4 = 41 KiB, far above the bound.
	assert.Less(t, perStep, 2048.0, "bytes allocated per conv forward+backward after warm-up")
}

func BenchmarkConv2D(b *testing.B) {
	// The 3×3 convolution of a 64-channel block on 28×28 maps, batch 64.
	for _, threads := range []int{1, 2} {
		b.Run(fmt.Sprintf("shape=x64x64x28x28_w64x64x3x3/backend=cpu/threads=%d", threads), func(b *testing.B) {
			cpu := nn.NewCPU(threads)
			rng := rand.New(rand.NewPCG(3, 4))
			x, w := uploadRandom(cpu, rng, 64, 64, 28, 28), uploadRandom(cpu, rng, 64, 64, 3, 3)
			y := cpu.Alloc(64, 64, 28, 28)
			p := nn.ConvParams{StrideH: 1, StrideW: 1, PadH: 1, PadW: 1}
			cpu.Conv2D(x, w, nil, y, p)
			start := processCPUTime()
			b.ResetTimer()
			for b.Loop() {
				cpu.Conv2D(x, w, nil, y, p)
			}
			flops := 2.0 * 64 * 64 * 64 * 9 * 28 * 28 * float64(b.N)
			b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			// Throughput per CPU second of all threads together: on a
			// machine shared with other jobs it shows the per-core speed
			// that wall-clock GFLOP/s hides.
			if used := processCPUTime() - start; used > 0 {
				b.ReportMetric(flops/used.Seconds()/1e9, "GFLOP/cpu-s")
			}
		})
	}
}

func BenchmarkConv2DBackward(b *testing.B) {
	// The gradients of the same convolution as BenchmarkConv2D: data and
	// filter together, twice the forward FLOPs.
	for _, threads := range []int{1, 2} {
		b.Run(fmt.Sprintf("shape=x64x64x28x28_w64x64x3x3/backend=cpu/threads=%d", threads), func(b *testing.B) {
			cpu := nn.NewCPU(threads)
			rng := rand.New(rand.NewPCG(3, 4))
			x, w := uploadRandom(cpu, rng, 64, 64, 28, 28), uploadRandom(cpu, rng, 64, 64, 3, 3)
			dy := uploadRandom(cpu, rng, 64, 64, 28, 28)
			dx, dw, db := cpu.Alloc(x.Shape...), cpu.Alloc(w.Shape...), cpu.Alloc(64)
			p := nn.ConvParams{StrideH: 1, StrideW: 1, PadH: 1, PadW: 1}
			step := func() {
				cpu.Conv2DBackwardData(dy, w, dx, p)
				cpu.Conv2DBackwardFilter(x, dy, dw, db, p)
			}
			step()
			start := processCPUTime()
			b.ResetTimer()
			for b.Loop() {
				step()
			}
			flops := 2 * 2.0 * 64 * 64 * 64 * 9 * 28 * 28 * float64(b.N)
			b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			if used := processCPUTime() - start; used > 0 {
				b.ReportMetric(flops/used.Seconds()/1e9, "GFLOP/cpu-s")
			}
		})
	}
}
