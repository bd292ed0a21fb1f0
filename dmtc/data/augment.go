package data

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
)

// AugmentOptions sets the random transforms that AugmentImage applies to
// make a training view. A zero field turns its transform off.
type AugmentOptions struct {
	// MaxShift is the maximum translation in pixels along each axis. The
	// shift is uniform in [−MaxShift, MaxShift]. Pixels shifted in are 0,
	// as with zero padding followed by a random crop back to H×W.
	MaxShift int
	// Flip mirrors the image left to right with probability 1/2.
	Flip bool
	// MaxRotateDeg is the maximum rotation about the image centre, in
	// degrees. The angle is uniform in [−MaxRotateDeg, MaxRotateDeg].
	// Samples are bilinear and points outside the image read as 0.
	MaxRotateDeg float64
	// Brightness, Contrast and Saturation are jitter strengths: each factor
	// is uniform in [1 − s, 1 + s], floored at 0. Brightness multiplies
	// every sample, Contrast scales the distance from the image's mean grey
	// level, and Saturation, for C = 3 only, scales each pixel's distance
	// from its BT.601 luma.
	Brightness, Contrast, Saturation float64
}

// DefaultAugment returns moderate augmentation for c×h×w images, chosen for
// 28×28 grey digits and clothing and 32×32 colour photographs.
// NOTE: the strengths are reasoned defaults, not tuned by experiment.
//
// Both get a shift of min(h, w)/8 pixels (3 for 28×28, 4 for 32×32), at
// least 1. Grey images are not flipped, because a mirrored digit can read as
// another symbol or none, and they rotate up to 10°, since their black
// background makes the rotated-in corners blend in. Colour images are
// flipped, rotate up to 5° because the black corners are visible artefacts
// in photographs, and get saturation jitter beside brightness and contrast.
func DefaultAugment(c, h, w int) AugmentOptions {
	opt := AugmentOptions{MaxShift: max(1, min(h, w)/8)}
	if c == 3 {
		opt.Flip = true
		opt.MaxRotateDeg = 5
		opt.Brightness, opt.Contrast, opt.Saturation = 0.4, 0.4, 0.4
		return opt
	}
	opt.MaxRotateDeg = 10
	opt.Brightness, opt.Contrast = 0.3, 0.3
	return opt
}

// augmentParams is one draw of the random transforms.
type augmentParams struct {
	dy, dx                           int
	flip                             bool
	angle                            float64 // radians
	brightness, contrast, saturation float64 // factors, where 1 leaves the image unchanged
}

// drawAugment draws the transform parameters from rng, in a fixed order and
// only for the transforms that opt enables.
func drawAugment(opt AugmentOptions, c int, rng *rand.Rand) augmentParams {
	p := augmentParams{brightness: 1, contrast: 1, saturation: 1}
	if opt.MaxShift > 0 {
		p.dy = rng.IntN(2*opt.MaxShift+1) - opt.MaxShift
		p.dx = rng.IntN(2*opt.MaxShift+1) - opt.MaxShift
	}
	if opt.Flip {
		p.flip = rng.IntN(2) == 1
	}
	if opt.MaxRotateDeg > 0 {
		p.angle = (2*rng.Float64() - 1) * opt.MaxRotateDeg * math.Pi / 180
	}
	factor := func(strength float64) float64 {
		return max(0, 1+(2*rng.Float64()-1)*strength)
	}
	if opt.Brightness > 0 {
		p.brightness = factor(opt.Brightness)
	}
	if opt.Contrast > 0 {
		p.contrast = factor(opt.Contrast)
	}
	if opt.Saturation > 0 && c == 3 {
		p.saturation = factor(opt.Saturation)
	}
	return p
}

// AugmentImage writes to dst a random view of src, both c×h×w float32
// images in planar (C, H, W) order with samples in [0, 1]. The transforms
// are a rotation, a shift and a flip (one resampling pass), then
// brightness, contrast and saturation jitter, in that order. The output is
// clamped to [0, 1], except that NaN samples in src propagate. The same
// rng state gives the same view. dst and src must not overlap. It panics if
// the lengths do not match c·h·w or opt has a negative or non-finite field.
func AugmentImage(dst, src []float32, c, h, w int, opt AugmentOptions, rng *rand.Rand) {
	checkAugmentArgs(c, h, w, opt)
	if len(src) != c*h*w || len(dst) != c*h*w {
		panic(fmt.Sprintf("data: AugmentImage: len(src) = %d, len(dst) = %d, want c·h·w = %d",
			len(src), len(dst), c*h*w))
	}
	applyAugment(dst, src, c, h, w, drawAugment(opt, c, rng))
}

func checkAugmentArgs(c, h, w int, opt AugmentOptions) {
	if c < 1 || h < 1 || w < 1 {
		panic(fmt.Sprintf("data: augment: invalid image shape c=%d h=%d w=%d", c, h, w))
	}
	if opt.MaxShift < 0 {
		panic(fmt.Sprintf("data: augment: MaxShift = %d; want ≥ 0", opt.MaxShift))
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"MaxRotateDeg", opt.MaxRotateDeg}, {"Brightness", opt.Brightness},
		{"Contrast", opt.Contrast}, {"Saturation", opt.Saturation}} {
		if !(f.v >= 0) || math.IsInf(f.v, 0) {
			panic(fmt.Sprintf("data: augment: %s = %v; want a finite value ≥ 0", f.name, f.v))
		}
	}
}

// applyAugment applies drawn parameters p.
func applyAugment(dst, src []float32, c, h, w int, p augmentParams) {
	warp(dst, src, c, h, w, p)
	jitterColour(dst, c, h, w, p)
}

// warp resamples src into dst in one pass. Output pixel (y, x) reads the
// flipped column x' (w−1−x when flipping), undoes the shift, (y−dy, x'−dx),
// reads 0 outside the image, and then samples the source rotated by p.angle
// about the centre ((h−1)/2, (w−1)/2) with bilinear weights.
func warp(dst, src []float32, c, h, w int, p augmentParams) {
	plane := h * w
	cy, cx := float64(h-1)/2, float64(w-1)/2
	sin, cos := math.Sincos(p.angle)
	for y := range h {
		for x := range w {
			xs := x
			if p.flip {
				xs = w - 1 - x
			}
			ys, xs := y-p.dy, xs-p.dx
			out := y*w + x
			if ys < 0 || ys >= h || xs < 0 || xs >= w {
				for ch := range c {
					dst[ch*plane+out] = 0
				}
				continue
			}
			if p.angle == 0 {
				for ch := range c {
					dst[ch*plane+out] = src[ch*plane+ys*w+xs]
				}
				continue
			}
			// Inverse rotation of the sample point about the centre.
			u, v := float64(xs)-cx, float64(ys)-cy
			sx := cos*u + sin*v + cx
			sy := -sin*u + cos*v + cy
			for ch := range c {
				dst[ch*plane+out] = bilinearZero(src[ch*plane:(ch+1)*plane], h, w, sy, sx)
			}
		}
	}
}

// bilinearZero samples an h×w plane at (sy, sx) with bilinear weights,
// taking pixels outside the plane as 0.
func bilinearZero(plane []float32, h, w int, sy, sx float64) float32 {
	y0, x0 := math.Floor(sy), math.Floor(sx)
	fy, fx := sy-y0, sx-x0
	iy, ix := int(y0), int(x0)
	at := func(y, x int) float64 {
		if y < 0 || y >= h || x < 0 || x >= w {
			return 0
		}
		return float64(plane[y*w+x])
	}
	top := (1-fx)*at(iy, ix) + fx*at(iy, ix+1)
	bottom := (1-fx)*at(iy+1, ix) + fx*at(iy+1, ix+1)
	return float32((1-fy)*top + fy*bottom)
}

// jitterColour applies the brightness, contrast and saturation factors of
// p in place and clamps to [0, 1] after each step.
func jitterColour(img []float32, c, h, w int, p augmentParams) {
	plane := h * w
	clamp := func(v float64) float32 { return float32(min(max(v, 0), 1)) }
	if p.brightness != 1 {
		for i, v := range img {
			img[i] = clamp(float64(v) * p.brightness)
		}
	}
	if p.contrast != 1 {
		var sum float64
		if c == 3 {
			for i := range plane {
				sum += luma(img, plane, i)
			}
			sum /= float64(plane)
		} else {
			for _, v := range img {
				sum += float64(v)
			}
			sum /= float64(len(img))
		}
		for i, v := range img {
			img[i] = clamp((float64(v)-sum)*p.contrast + sum)
		}
	}
	if p.saturation != 1 && c == 3 {
		for i := range plane {
			g := luma(img, plane, i)
			for ch := range 3 {
				v := float64(img[ch*plane+i])
				img[ch*plane+i] = clamp(g + (v-g)*p.saturation)
			}
		}
	}
	// The geometric pass alone can leave 1 + ε from bilinear rounding.
	for i, v := range img {
		if v > 1 {
			img[i] = 1
		} else if v < 0 {
			img[i] = 0
		}
	}
}

// luma returns the BT.601 luma of pixel i of a planar RGB image.
func luma(img []float32, plane, i int) float64 {
	return lumaR*float64(img[i]) + lumaG*float64(img[plane+i]) + lumaB*float64(img[2*plane+i])
}

// ViewBatch is one batch of two augmented views. A and B each contain
// len(Index) images as (N, C, H, W), and image k of A and of B are views of
// x's image Index[k].
type ViewBatch struct {
	Index []int
	A, B  []float32
}

// BatchRand returns the random generator that StreamViews uses for batch b:
// a PCG seeded from seed and a hash of b, so every batch has its own stream
// whatever the order in which workers run.
func BatchRand(seed uint64, b int) *rand.Rand {
	return rand.New(rand.NewPCG(seed, mix64(seed^mix64(uint64(b)))))
}

// mix64 is the SplitMix64 output function, a bijection that spreads nearby
// integers over all 64 bits.
func mix64(z uint64) uint64 {
	z += 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// StreamViews augments batches of x, a (N, C, H, W) array with samples in
// [0, 1], on workers goroutines ahead of the consumer and delivers them in
// order, one ViewBatch per entry of batches. Within batch b, images are
// processed in order, view A before view B, all with BatchRand(seed, b), so
// the output does not depend on workers (runtime.GOMAXPROCS(0) when < 1).
// At most 2·workers + 1 batches are computed or held ahead of the consumer.
//
// The channel is closed after the last batch, or after ctx is cancelled and
// every goroutine has stopped. A consumer that stops reading early must
// cancel ctx, or the goroutines block forever. StreamViews panics on an
// invalid shape, options or batch index.
func StreamViews(ctx context.Context, x []float32, c, h, w int, batches [][]int,
	opt AugmentOptions, seed uint64, workers int) <-chan ViewBatch {
	checkAugmentArgs(c, h, w, opt)
	size := c * h * w
	if len(x)%size != 0 {
		panic(fmt.Sprintf("data: StreamViews: len(x) = %d is not a multiple of c·h·w = %d", len(x), size))
	}
	n := len(x) / size
	for b, batch := range batches {
		for _, i := range batch {
			if i < 0 || i >= n {
				panic(fmt.Sprintf("data: StreamViews: batch %d has index %d out of range [0, %d)", b, i, n))
			}
		}
	}
	if workers < 1 {
		workers = runtime.GOMAXPROCS(0)
	}

	type job struct {
		b      int
		result chan ViewBatch
	}
	out := make(chan ViewBatch)
	jobs := make(chan job)
	pending := make(chan chan ViewBatch, 2*workers) // results in batch order

	var wg sync.WaitGroup
	wg.Go(func() { // feeder
		defer close(jobs)
		defer close(pending)
		for b := range batches {
			j := job{b: b, result: make(chan ViewBatch, 1)}
			select {
			case pending <- j.result:
			case <-ctx.Done():
				return
			}
			select {
			case jobs <- j:
			case <-ctx.Done():
				return
			}
		}
	})
	for range workers {
		wg.Go(func() {
			for j := range jobs {
				if vb, ok := augmentBatch(ctx, x, c, h, w, batches[j.b], opt, BatchRand(seed, j.b)); ok {
					j.result <- vb
				}
			}
		})
	}
	go func() { // deliverer
		defer close(out)
		defer wg.Wait()
		for result := range pending {
			var vb ViewBatch
			select {
			case vb = <-result:
			case <-ctx.Done():
				return
			}
			select {
			case out <- vb:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}

// augmentBatch makes both views of one batch. It returns false when ctx is
// cancelled before it finishes.
func augmentBatch(ctx context.Context, x []float32, c, h, w int, batch []int,
	opt AugmentOptions, rng *rand.Rand) (ViewBatch, bool) {
	size := c * h * w
	vb := ViewBatch{
		Index: slices.Clone(batch),
		A:     make([]float32, len(batch)*size),
		B:     make([]float32, len(batch)*size),
	}
	for k, i := range batch {
		if ctx.Err() != nil {
			return ViewBatch{}, false
		}
		src := x[i*size : (i+1)*size]
		applyAugment(vb.A[k*size:(k+1)*size], src, c, h, w, drawAugment(opt, c, rng))
		applyAugment(vb.B[k*size:(k+1)*size], src, c, h, w, drawAugment(opt, c, rng))
	}
	return vb, true
}
