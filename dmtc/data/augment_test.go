package data

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rampImage returns a c×h×w image with distinct samples in [0, 1].
func rampImage(c, h, w int) []float32 {
	out := make([]float32, c*h*w)
	for i := range out {
		out[i] = float32(i+1) / float32(len(out)+1)
	}
	return out
}

func randomImages(rng *rand.Rand, n, c, h, w int) []float32 {
	out := make([]float32, n*c*h*w)
	for i := range out {
		out[i] = rng.Float32()
	}
	return out
}

func noJitter() augmentParams { return augmentParams{brightness: 1, contrast: 1, saturation: 1} }

func TestAugmentFlipKnownImage(t *testing.T) {
	const tol = 0 // a flip copies samples
	src := []float32{
		0.1, 0.2, 0.3, // channel 0
		0.4, 0.5, 0.6,
		0.7, 0.8, 0.9, // channel 1
		0.0, 1.0, 0.5,
	}
	want := []float32{0.3, 0.2, 0.1, 0.6, 0.5, 0.4, 0.9, 0.8, 0.7, 0.5, 1.0, 0.0}
	p := noJitter()
	p.flip = true
	dst := make([]float32, len(src))
	applyAugment(dst, src, 2, 2, 3, p)
	requireFloatsNear(t, "flip c=2 h=2 w=3", dst, want, tol)

	// AugmentImage with only Flip gives either the image or its mirror, and
	// both happen.
	seen := map[bool]int{}
	for seed := range uint64(64) {
		AugmentImage(dst, src, 2, 2, 3, AugmentOptions{Flip: true}, rand.New(rand.NewPCG(seed, 0)))
		flipped := dst[0] == 0.3
		if flipped {
			requireFloatsNear(t, fmt.Sprintf("AugmentImage flip seed %d", seed), dst, want, tol)
		} else {
			requireFloatsNear(t, fmt.Sprintf("AugmentImage no flip seed %d", seed), dst, src, tol)
		}
		seen[flipped]++
	}
	assert.Positive(t, seen[true], "flipped views")
	assert.Positive(t, seen[false], "unflipped views")
}

// shiftReference shifts a c×h×w image by (dy, dx) with zero fill.
func shiftReference(src []float32, c, h, w, dy, dx int) []float32 {
	out := make([]float32, len(src))
	for ch := range c {
		for y := range h {
			for x := range w {
				ys, xs := y-dy, x-dx
				if ys >= 0 && ys < h && xs >= 0 && xs < w {
					out[ch*h*w+y*w+x] = src[ch*h*w+ys*w+xs]
				}
			}
		}
	}
	return out
}

func TestAugmentShiftExact(t *testing.T) {
	const tol = 0
	c, h, w := 3, 4, 5
	src := rampImage(c, h, w)
	dst := make([]float32, len(src))
	for _, d := range [][2]int{{2, -1}, {-3, 4}, {0, 0}, {4, 0}, {0, -5}} {
		p := noJitter()
		p.dy, p.dx = d[0], d[1]
		applyAugment(dst, src, c, h, w, p)
		requireFloatsNear(t, fmt.Sprintf("shift dy=%d dx=%d", d[0], d[1]), dst,
			shiftReference(src, c, h, w, d[0], d[1]), tol)
	}
	// Spot check by hand: shifting down by 2, pixel (2, 0) of channel 0 is
	// the source's pixel (0, 1) when dx = −1.
	p := noJitter()
	p.dy, p.dx = 2, -1
	applyAugment(dst, src, c, h, w, p)
	assert.Equal(t, src[0*w+1], dst[2*w+0])
	assert.Zero(t, dst[1*w+0], "row 1 is filled with zeros")
}

func TestAugmentShiftWithinMaxShift(t *testing.T) {
	const tol = 0
	const k = 2
	c, h, w := 1, 7, 6
	src := rampImage(c, h, w)
	dst := make([]float32, len(src))
	seen := map[[2]int]bool{}
	for seed := range uint64(400) {
		AugmentImage(dst, src, c, h, w, AugmentOptions{MaxShift: k}, rand.New(rand.NewPCG(seed, 7)))
		found := false
		for dy := -k; dy <= k && !found; dy++ {
			for dx := -k; dx <= k && !found; dx++ {
				ref := shiftReference(src, c, h, w, dy, dx)
				same := true
				for i := range ref {
					if ref[i] != dst[i] {
						same = false
						break
					}
				}
				if same {
					found = true
					seen[[2]int{dy, dx}] = true
				}
			}
		}
		require.True(t, found, "seed %d: view is no shift within ±%d", seed, k)
	}
	assert.Len(t, seen, (2*k+1)*(2*k+1), "every shift in [−%d, %d]² occurs in 400 draws", k, k)
}

func TestAugmentRotateZeroIsIdentity(t *testing.T) {
	const tol = 0
	c, h, w := 3, 5, 4
	src := rampImage(c, h, w)
	dst := make([]float32, len(src))
	AugmentImage(dst, src, c, h, w, AugmentOptions{}, rand.New(rand.NewPCG(1, 1)))
	requireFloatsNear(t, "AugmentImage with zero options", dst, src, tol)

	// The bilinear path at angle 0 must also be exact: call bilinearZero
	// directly at every integer point.
	for y := range h {
		for x := range w {
			got := bilinearZero(src[:h*w], h, w, float64(y), float64(x))
			require.Equal(t, src[y*w+x], got, "bilinearZero at (%d, %d)", y, x)
		}
	}
}

func TestAugmentRotateKnownAngles(t *testing.T) {
	const tol = 1e-6 // sin and cos of π/2 are not exact in float64
	// 90° about the centre of a 3×3 image: output (y, x) reads src(2−x, y).
	src := []float32{0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8}
	want := []float32{0.6, 0.3, 0.0, 0.7, 0.4, 0.1, 0.8, 0.5, 0.2}
	p := noJitter()
	p.angle = math.Pi / 2
	dst := make([]float32, 9)
	applyAugment(dst, src, 1, 3, 3, p)
	requireFloatsNear(t, "rotate 90° 3×3", dst, want, tol)

	// A small rotation of a uniform image keeps the centre value and
	// brings zeros into the corners.
	uniform := make([]float32, 9*9)
	for i := range uniform {
		uniform[i] = 0.5
	}
	dst = make([]float32, len(uniform))
	p.angle = 10 * math.Pi / 180
	applyAugment(dst, uniform, 1, 9, 9, p)
	assert.InDelta(t, 0.5, dst[4*9+4], tol, "centre")
	assert.InDelta(t, 0.5, dst[4*9+1], tol, "inside the rotated square")
	assert.Less(t, dst[0], float32(0.5), "corner (0, 0) reads partly outside")
}

func TestAugmentJitterFactors(t *testing.T) {
	const tol = 1e-6
	src := []float32{0.2, 0.4, 0.8, 1.0}
	dst := make([]float32, 4)

	p := noJitter()
	p.brightness = 0.5
	applyAugment(dst, src, 1, 2, 2, p)
	requireFloatsNear(t, "brightness 0.5", dst, []float32{0.1, 0.2, 0.4, 0.5}, tol)

	p.brightness = 1.5
	applyAugment(dst, src, 1, 2, 2, p)
	requireFloatsNear(t, "brightness 1.5 clamps", dst, []float32{0.3, 0.6, 1, 1}, tol)

	// Mean 0.6: (v − 0.6)·2 + 0.6.
	p = noJitter()
	p.contrast = 2
	applyAugment(dst, src, 1, 2, 2, p)
	requireFloatsNear(t, "contrast 2", dst, []float32{0, 0.2, 1, 1}, tol)

	// Saturation 0 turns each pixel into its luma; pure red has luma 0.299.
	rgb := []float32{1, 0.5, 0, 0.5, 0, 0.5}
	dst = make([]float32, 6)
	p = noJitter()
	p.saturation = 0
	applyAugment(dst, rgb, 3, 1, 2, p)
	l1 := float32(0.299*1 + 0.587*0 + 0.114*0)
	l2 := float32(0.299*0.5 + 0.587*0.5 + 0.114*0.5)
	requireFloatsNear(t, "saturation 0", dst, []float32{l1, l2, l1, l2, l1, l2}, tol)
}

func TestAugmentStaysInRange(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	strong := AugmentOptions{MaxShift: 5, Flip: true, MaxRotateDeg: 45, Brightness: 1, Contrast: 1, Saturation: 1}
	for _, shape := range [][3]int{{1, 28, 28}, {3, 32, 32}, {3, 7, 5}, {1, 1, 1}} {
		c, h, w := shape[0], shape[1], shape[2]
		src := randomImages(rng, 1, c, h, w)
		src[0], src[len(src)-1] = 0, 1 // the range ends
		dst := make([]float32, len(src))
		for range 50 {
			AugmentImage(dst, src, c, h, w, strong, rng)
			for i, v := range dst {
				require.True(t, v >= 0 && v <= 1, "shape %v index %d: %v outside [0, 1]", shape, i, v)
			}
		}
	}
}

func TestAugmentDeterministic(t *testing.T) {
	const tol = 0
	c, h, w := 3, 32, 32
	src := randomImages(rand.New(rand.NewPCG(5, 6)), 1, c, h, w)
	opt := DefaultAugment(c, h, w)
	a := make([]float32, len(src))
	b := make([]float32, len(src))
	AugmentImage(a, src, c, h, w, opt, rand.New(rand.NewPCG(9, 9)))
	AugmentImage(b, src, c, h, w, opt, rand.New(rand.NewPCG(9, 9)))
	requireFloatsNear(t, "same seed", b, a, tol)
	AugmentImage(b, src, c, h, w, opt, rand.New(rand.NewPCG(9, 10)))
	assert.NotEqual(t, a, b, "a different seed gives a different view")
}

func TestDefaultAugmentValues(t *testing.T) {
	grey := DefaultAugment(1, 28, 28)
	assert.Equal(t, AugmentOptions{MaxShift: 3, MaxRotateDeg: 10, Brightness: 0.3, Contrast: 0.3}, grey)
	colour := DefaultAugment(3, 32, 32)
	assert.Equal(t, AugmentOptions{MaxShift: 4, Flip: true, MaxRotateDeg: 5,
		Brightness: 0.4, Contrast: 0.4, Saturation: 0.4}, colour)
	assert.Equal(t, 1, DefaultAugment(1, 5, 5).MaxShift, "at least one pixel")
}

func TestAugmentInvalidPanics(t *testing.T) {
	src := make([]float32, 4)
	rng := rand.New(rand.NewPCG(1, 1))
	assert.Panics(t, func() { AugmentImage(make([]float32, 3), src, 1, 2, 2, AugmentOptions{}, rng) }, "short dst")
	assert.Panics(t, func() { AugmentImage(src, src[:3], 1, 2, 2, AugmentOptions{}, rng) }, "short src")
	assert.Panics(t, func() { AugmentImage(src, src, 1, 2, 2, AugmentOptions{MaxShift: -1}, rng) }, "MaxShift")
	assert.Panics(t, func() {
		AugmentImage(src, src, 1, 2, 2, AugmentOptions{Contrast: math.NaN()}, rng)
	}, "NaN Contrast")
	assert.Panics(t, func() {
		StreamViews(context.Background(), src, 1, 2, 2, [][]int{{0, 1}}, AugmentOptions{}, 1, 1)
	}, "batch index 1 with one image")
	assert.Panics(t, func() {
		StreamViews(context.Background(), src[:3], 1, 2, 2, nil, AugmentOptions{}, 1, 1)
	}, "len(x) not a multiple of c·h·w")
}

// streamBatches makes batches of odd sizes, including an empty one.
func streamBatches(n int) [][]int {
	rng := rand.New(rand.NewPCG(11, 12))
	var out [][]int
	for _, size := range []int{5, 1, 0, 7, 3, 5, 2, 6} {
		b := make([]int, size)
		for i := range b {
			b[i] = rng.IntN(n)
		}
		out = append(out, b)
	}
	return out
}

func collect(ch <-chan ViewBatch) []ViewBatch {
	var out []ViewBatch
	for vb := range ch {
		out = append(out, vb)
	}
	return out
}

func TestStreamViewsWorkerCounts(t *testing.T) {
	const tol = 0
	c, h, w, n := 3, 8, 9, 20
	x := randomImages(rand.New(rand.NewPCG(1, 2)), n, c, h, w)
	batches := streamBatches(n)
	opt := DefaultAugment(c, h, w)
	const seed = 42

	// The reference: each batch from BatchRand(seed, b), sequentially.
	size := c * h * w
	var want []ViewBatch
	for b, batch := range batches {
		rng := BatchRand(seed, b)
		vb := ViewBatch{Index: batch, A: make([]float32, len(batch)*size), B: make([]float32, len(batch)*size)}
		for k, i := range batch {
			AugmentImage(vb.A[k*size:(k+1)*size], x[i*size:(i+1)*size], c, h, w, opt, rng)
			AugmentImage(vb.B[k*size:(k+1)*size], x[i*size:(i+1)*size], c, h, w, opt, rng)
		}
		want = append(want, vb)
	}

	for _, workers := range []int{1, 2, 3, 8, 0} {
		got := collect(StreamViews(context.Background(), x, c, h, w, batches, opt, seed, workers))
		require.Len(t, got, len(batches), "workers=%d", workers)
		for b := range batches {
			op := fmt.Sprintf("StreamViews workers=%d batch %d", workers, b)
			require.Equal(t, batches[b], got[b].Index, "%s: Index", op)
			requireFloatsNear(t, op+" view A", got[b].A, want[b].A, tol)
			requireFloatsNear(t, op+" view B", got[b].B, want[b].B, tol)
		}
	}
	// The two views of an image differ.
	assert.NotEqual(t, want[0].A, want[0].B)
}

func TestStreamViewsEmpty(t *testing.T) {
	got := collect(StreamViews(context.Background(), nil, 1, 2, 2, nil, AugmentOptions{}, 1, 4))
	assert.Empty(t, got)
}

// waitGoroutines polls until at most want goroutines run or a second passes.
func waitGoroutines(want int) int {
	deadline := time.Now().Add(time.Second)
	for {
		n := runtime.NumGoroutine()
		if n <= want || time.Now().After(deadline) {
			return n
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestStreamViewsCancelStopsGoroutines(t *testing.T) {
	c, h, w, n := 3, 32, 32, 64
	x := randomImages(rand.New(rand.NewPCG(1, 2)), n, c, h, w)
	batches := make([][]int, 200)
	for b := range batches {
		batches[b] = []int{b % n, (b + 1) % n, (b + 2) % n, (b + 3) % n}
	}
	opt := DefaultAugment(c, h, w)
	before := runtime.NumGoroutine()

	// Cancel after reading two batches.
	ctx, cancel := context.WithCancel(context.Background())
	ch := StreamViews(ctx, x, c, h, w, batches, opt, 7, 4)
	<-ch
	<-ch
	cancel()
	rest := collect(ch) // must end: the channel closes after cancellation
	assert.Less(t, len(rest), len(batches)-2, "cancellation stops the stream early")
	assert.LessOrEqual(t, waitGoroutines(before), before, "goroutines left after cancel")

	// Cancel without reading anything.
	ctx, cancel = context.WithCancel(context.Background())
	ch = StreamViews(ctx, x, c, h, w, batches, opt, 7, 3)
	cancel()
	collect(ch)
	assert.LessOrEqual(t, waitGoroutines(before), before, "goroutines left after cancel before reading")

	// A context cancelled before the call.
	ch = StreamViews(ctx, x, c, h, w, batches, opt, 7, 2)
	assert.Less(t, len(collect(ch)), len(batches))
	assert.LessOrEqual(t, waitGoroutines(before), before, "goroutines left with a cancelled context")
}
