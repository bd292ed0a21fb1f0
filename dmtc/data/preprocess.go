package data

import (
	"fmt"
	"math"
)

// BT.601 luma weights, used for every colour-to-grey conversion here.
const (
	lumaR = 0.299
	lumaG = 0.587
	lumaB = 0.114
)

// PreprocessOptions configures Preprocess.
type PreprocessOptions struct {
	// Grey converts a colour image to ITU-R BT.601 luma
	// (0.299 R + 0.587 G + 0.114 B) even when the network takes three
	// channels, in which case the luma is replicated. A network with one
	// channel always receives luma.
	Grey bool
	// Mean and Std, when set, contain one value per network channel, and each
	// sample v in [0, 1] becomes (v − Mean[c]) / Std[c]. A nil Mean means
	// 0 and a nil Std means 1.
	Mean, Std []float32
}

// Preprocess converts img to a network input of c×h×w float32 samples
// (c = 1 or 3) in planar (C, H, W) order, as PreprocessInto does.
func Preprocess(img Image, c, h, w int, opt PreprocessOptions) ([]float32, error) {
	dst := make([]float32, c*h*w)
	if err := PreprocessInto(dst, img, c, h, w, opt); err != nil {
		return nil, err
	}
	return dst, nil
}

// PreprocessInto converts img to a c×h×w network input in dst, which must
// have length c·h·w. The steps are:
//
//  1. Channels: luma for a one-channel network or opt.Grey, and
//     replication of a grey image for a three-channel one.
//  2. Resize keeping the aspect ratio so that the image just covers h×w
//     (the side that is short relative to the target matches it), by area
//     averaging along an axis that shrinks and bilinear interpolation
//     (pixel centres aligned, edges clamped) along one that grows.
//  3. Centre crop to h×w. An odd excess leaves the extra pixel at the end.
//  4. Scaling of 8-bit samples to [0, 1], then opt.Mean and opt.Std.
//
// Resizing is done in float, so no rounding to 8 bits happens in between.
func PreprocessInto(dst []float32, img Image, c, h, w int, opt PreprocessOptions) error {
	if err := checkPreprocessArgs(img, c, h, w, opt); err != nil {
		return err
	}
	if len(dst) != c*h*w {
		panic(fmt.Sprintf("data: PreprocessInto: len(dst) = %d, want c·h·w = %d", len(dst), c*h*w))
	}

	planes := sourcePlanes(img, c == 1 || opt.Grey)
	// Scale so the image covers h×w. The max guards against a rounded size
	// one pixel short of the target.
	scale := math.Max(float64(h)/float64(img.H), float64(w)/float64(img.W))
	rh := max(h, int(math.Round(float64(img.H)*scale)))
	rw := max(w, int(math.Round(float64(img.W)*scale)))
	rows := resampleWeights(img.H, rh, (rh-h)/2, h)
	cols := resampleWeights(img.W, rw, (rw-w)/2, w)

	tmp := make([]float64, img.H*w)
	out := make([]float32, h*w)
	for ch := range c {
		if ch < len(planes) {
			resamplePlane(out, tmp, planes[ch], img.H, img.W, rows, cols)
		}
		// With one source plane and c = 3, out still contains its result.
		mean, std := float32(0), float32(1)
		if opt.Mean != nil {
			mean = opt.Mean[ch]
		}
		if opt.Std != nil {
			std = opt.Std[ch]
		}
		plane := dst[ch*h*w : (ch+1)*h*w]
		for i, v := range out {
			v = min(max(v, 0), 1) // float rounding of the weights can leave 1 + ε
			plane[i] = (v - mean) / std
		}
	}
	return nil
}

func checkPreprocessArgs(img Image, c, h, w int, opt PreprocessOptions) error {
	if img.C != 1 && img.C != 3 || img.H < 1 || img.W < 1 || len(img.Pix) != img.C*img.H*img.W {
		return fmt.Errorf("data: preprocess: invalid image C=%d H=%d W=%d with %d samples; "+
			"want C 1 or 3, H and W ≥ 1 and C·H·W samples", img.C, img.H, img.W, len(img.Pix))
	}
	if c != 1 && c != 3 || h < 1 || w < 1 {
		return fmt.Errorf("data: preprocess: invalid target c=%d h=%d w=%d; want c 1 or 3, h and w ≥ 1", c, h, w)
	}
	if opt.Mean != nil && len(opt.Mean) != c {
		return fmt.Errorf("data: preprocess: %d Mean values for %d channels", len(opt.Mean), c)
	}
	if opt.Std != nil && len(opt.Std) != c {
		return fmt.Errorf("data: preprocess: %d Std values for %d channels", len(opt.Std), c)
	}
	for i, s := range opt.Std {
		if !(s > 0) || math.IsInf(float64(s), 0) {
			return fmt.Errorf("data: preprocess: Std[%d] = %v; want a finite value > 0", i, s)
		}
	}
	for i, m := range opt.Mean {
		if math.IsNaN(float64(m)) || math.IsInf(float64(m), 0) {
			return fmt.Errorf("data: preprocess: Mean[%d] = %v; want a finite value", i, m)
		}
	}
	return nil
}

// sourcePlanes returns img's planes as float32 in [0, 1]: one luma plane
// when grey is set or img is grey, otherwise the three colour planes.
func sourcePlanes(img Image, grey bool) [][]float32 {
	n := img.H * img.W
	if img.C == 1 {
		p := make([]float32, n)
		for i, v := range img.Pix {
			p[i] = float32(v) / 255
		}
		return [][]float32{p}
	}
	if grey {
		p := make([]float32, n)
		r, g, b := img.Pix[:n], img.Pix[n:2*n], img.Pix[2*n:]
		for i := range p {
			p[i] = float32((lumaR*float64(r[i]) + lumaG*float64(g[i]) + lumaB*float64(b[i])) / 255)
		}
		return [][]float32{p}
	}
	planes := make([][]float32, 3)
	for ch := range planes {
		p := make([]float32, n)
		for i, v := range img.Pix[ch*n : (ch+1)*n] {
			p[i] = float32(v) / 255
		}
		planes[ch] = p
	}
	return planes
}

// tap is one input index and its weight in an output sample.
type tap struct {
	index  int
	weight float64
}

// resampleWeights returns, for outputs off..off+count−1 of an axis resized
// from n to m samples, the input taps of each: area averaging when m < n,
// bilinear interpolation when m > n, and the identity when m = n.
func resampleWeights(n, m, off, count int) [][]tap {
	out := make([][]tap, count)
	ratio := float64(n) / float64(m) // input samples per output sample
	for k := range out {
		j := off + k
		switch {
		case m == n:
			out[k] = []tap{{j, 1}}
		case m < n:
			// Output j covers input interval [j·ratio, (j+1)·ratio).
			lo, hi := float64(j)*ratio, float64(j+1)*ratio
			for i := int(math.Floor(lo)); i < n && float64(i) < hi; i++ {
				overlap := math.Min(hi, float64(i+1)) - math.Max(lo, float64(i))
				if overlap > 0 {
					out[k] = append(out[k], tap{i, overlap / ratio})
				}
			}
		default:
			x := (float64(j)+0.5)*ratio - 0.5
			x = math.Min(math.Max(x, 0), float64(n-1))
			i0 := int(math.Floor(x))
			f := x - float64(i0)
			if f == 0 || i0 == n-1 {
				out[k] = []tap{{i0, 1}}
			} else {
				out[k] = []tap{{i0, 1 - f}, {i0 + 1, f}}
			}
		}
	}
	return out
}

// resamplePlane resizes and crops one H×W plane into out (len(rows) ×
// len(cols)), horizontally into tmp first, then vertically.
func resamplePlane(out []float32, tmp []float64, src []float32, H, W int, rows, cols [][]tap) {
	w := len(cols)
	for y := range H {
		line := src[y*W : (y+1)*W]
		for x, taps := range cols {
			var s float64
			for _, t := range taps {
				s += t.weight * float64(line[t.index])
			}
			tmp[y*w+x] = s
		}
	}
	for y, taps := range rows {
		for x := range w {
			var s float64
			for _, t := range taps {
				s += t.weight * tmp[t.index*w+x]
			}
			out[y*w+x] = float32(s)
		}
	}
}
