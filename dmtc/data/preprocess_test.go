package data

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// requireFloatsNear compares got and want element-wise within tol and names
// the worst index.
func requireFloatsNear(t *testing.T, op string, got, want []float32, tol float64) {
	t.Helper()
	require.Len(t, got, len(want), "%s: length", op)
	worst, at := -1.0, -1
	for i := range want {
		d := math.Abs(float64(got[i]) - float64(want[i]))
		if math.IsNaN(d) {
			d = math.Inf(1)
		}
		if d > worst {
			worst, at = d, i
		}
	}
	if at >= 0 {
		require.LessOrEqual(t, worst, tol, "%s: worst index %d got %v want %v", op, at, got[at], want[at])
	}
}

// scaled divides 8-bit levels by 255.
func scaled(levels ...float64) []float32 {
	out := make([]float32, len(levels))
	for i, v := range levels {
		out[i] = float32(v / 255)
	}
	return out
}

func TestPreprocessIdentity(t *testing.T) {
	const tol = 0
	img := Image{C: 3, H: 2, W: 3, Pix: []uint8{0, 1, 2, 3, 4, 5, 10, 20, 30, 40, 50, 60, 255, 254, 253, 252, 251, 250}}
	got, err := Preprocess(img, 3, 2, 3, PreprocessOptions{})
	require.NoError(t, err)
	want := make([]float32, len(img.Pix))
	for i, v := range img.Pix {
		want[i] = float32(v) / 255
	}
	requireFloatsNear(t, "Preprocess identity 3×2×3", got, want, tol)
}

func TestPreprocessAreaDownscale(t *testing.T) {
	const tol = 1e-6
	// 4×4 → 2×2: each output is the mean of a 2×2 block.
	pix := []uint8{
		0, 10, 20, 30,
		40, 50, 60, 70,
		100, 110, 120, 130,
		140, 150, 160, 250,
	}
	got, err := Preprocess(Image{C: 1, H: 4, W: 4, Pix: pix}, 1, 2, 2, PreprocessOptions{})
	require.NoError(t, err)
	requireFloatsNear(t, "area 4×4→2×2", got, scaled(25, 45, 125, 165), tol)

	// 3×3 → 2×2: output 0 covers inputs [0, 1.5), weights 2/3 and 1/3.
	pix = []uint8{0, 30, 90, 30, 60, 120, 90, 120, 180}
	got, err = Preprocess(Image{C: 1, H: 3, W: 3, Pix: pix}, 1, 2, 2, PreprocessOptions{})
	require.NoError(t, err)
	// Rows first: (2·row0 + row1)/3 = (10, 40, 100), (row1 + 2·row2)/3 = (70, 100, 160);
	// then columns the same way.
	requireFloatsNear(t, "area 3×3→2×2", got, scaled(20, 80, 80, 140), tol)
}

func TestPreprocessAspectCrop(t *testing.T) {
	const tol = 1e-6
	// 8×4 (H×W) → 2×2: scale 0.5 gives 4×2, and the centre crop keeps
	// resized rows 1 and 2. With v(y, x) = 10y + x, resized pixel (r, c)
	// averages y ∈ {2r, 2r+1}, x ∈ {2c, 2c+1}: 20r + 2c + 5.5.
	pix := make([]uint8, 32)
	for y := range 8 {
		for x := range 4 {
			pix[y*4+x] = uint8(10*y + x)
		}
	}
	got, err := Preprocess(Image{C: 1, H: 8, W: 4, Pix: pix}, 1, 2, 2, PreprocessOptions{})
	require.NoError(t, err)
	requireFloatsNear(t, "aspect 8×4→2×2", got, scaled(25.5, 27.5, 45.5, 47.5), tol)

	// Odd excess: 5×2 → 2×2 keeps scale 1 and crops rows 1 and 2 of 5.
	pix = []uint8{0, 1, 10, 11, 20, 21, 30, 31, 40, 41}
	got, err = Preprocess(Image{C: 1, H: 5, W: 2, Pix: pix}, 1, 2, 2, PreprocessOptions{})
	require.NoError(t, err)
	requireFloatsNear(t, "crop 5×2→2×2", got, scaled(10, 11, 20, 21), tol)
}

func TestPreprocessBilinearUpscale(t *testing.T) {
	const tol = 1e-6
	// 2×2 → 4×4. Output j samples input x = (j + 0.5)/2 − 0.5, clamped:
	// 0, 0.25, 0.75, 1. Row 0 (0, 100) gives 0, 25, 75, 100.
	pix := []uint8{0, 100, 100, 200}
	got, err := Preprocess(Image{C: 1, H: 2, W: 2, Pix: pix}, 1, 4, 4, PreprocessOptions{})
	require.NoError(t, err)
	requireFloatsNear(t, "bilinear 2×2→4×4", got, scaled(
		0, 25, 75, 100,
		25, 50, 100, 125,
		75, 100, 150, 175,
		100, 125, 175, 200,
	), tol)

	// 2×4 → 4×4: scale 2 gives 4×8 and the crop keeps columns 2..5. The
	// rows are constant, so the columns alone decide: x = (j+0.5)/2 − 0.5
	// for j = 2..5 is 0.75, 1.25, 1.75, 2.25 over (0, 40, 80, 120).
	pix = []uint8{0, 40, 80, 120, 0, 40, 80, 120}
	got, err = Preprocess(Image{C: 1, H: 2, W: 4, Pix: pix}, 1, 4, 4, PreprocessOptions{})
	require.NoError(t, err)
	row := []float64{30, 50, 70, 90}
	want := make([]float64, 0, 16)
	for range 4 {
		want = append(want, row...)
	}
	requireFloatsNear(t, "bilinear 2×4→4×4", got, scaled(want...), tol)
}

// areaReference resizes by numerical integration, independent of
// resampleWeights: each output pixel's footprint is sampled on an H×W grid
// and the input pixel under each sample point is read. Input pixel edges lie
// at multiples of 1/H (1/W) of an output pixel, so they coincide with grid
// cell edges, no cell straddles two input pixels, and the mean is exact up
// to float rounding.
func areaReference(src []float64, H, W, rh, rw, oy, ox, h, w int) []float32 {
	out := make([]float32, h*w)
	for y := range h {
		for x := range w {
			var s float64
			for i := range H {
				sy := (float64(oy+y) + (float64(i)+0.5)/float64(H)) * float64(H) / float64(rh)
				for j := range W {
					sx := (float64(ox+x) + (float64(j)+0.5)/float64(W)) * float64(W) / float64(rw)
					s += src[int(sy)*W+int(sx)]
				}
			}
			out[y*w+x] = float32(s / float64(H*W) / 255)
		}
	}
	return out
}

func TestPreprocessAreaOddSizes(t *testing.T) {
	const tol = 1e-5 // float32 output of float64 sums; one level is 3.9e-3
	rng := rand.New(rand.NewPCG(1, 2))
	for _, s := range []struct{ H, W, h, w int }{
		{37, 23, 8, 8}, {33, 31, 16, 16}, {64, 65, 31, 7}, {100, 3, 5, 3}, {1, 9, 1, 4},
	} {
		pix := make([]uint8, s.H*s.W)
		ref := make([]float64, len(pix))
		for i := range pix {
			pix[i] = uint8(rng.IntN(256))
			ref[i] = float64(pix[i])
		}
		got, err := Preprocess(Image{C: 1, H: s.H, W: s.W, Pix: pix}, 1, s.h, s.w, PreprocessOptions{})
		require.NoError(t, err)
		scale := math.Max(float64(s.h)/float64(s.H), float64(s.w)/float64(s.W))
		rh := max(s.h, int(math.Round(float64(s.H)*scale)))
		rw := max(s.w, int(math.Round(float64(s.W)*scale)))
		require.LessOrEqual(t, rh, s.H, "case %+v must shrink both axes", s)
		require.LessOrEqual(t, rw, s.W, "case %+v must shrink both axes", s)
		want := areaReference(ref, s.H, s.W, rh, rw, (rh-s.h)/2, (rw-s.w)/2, s.h, s.w)
		requireFloatsNear(t, fmt.Sprintf("area %d×%d→%d×%d", s.H, s.W, s.h, s.w), got, want, tol)
	}
}

func TestPreprocessChannels(t *testing.T) {
	const tol = 1e-6
	// Pure red, green, blue and white pixels.
	rgb := Image{C: 3, H: 1, W: 4, Pix: []uint8{255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255}}
	luma := []float32{0.299, 0.587, 0.114, 1}

	got, err := Preprocess(rgb, 1, 1, 4, PreprocessOptions{})
	require.NoError(t, err)
	requireFloatsNear(t, "RGB→grey network", got, luma, tol)

	got, err = Preprocess(rgb, 3, 1, 4, PreprocessOptions{Grey: true})
	require.NoError(t, err)
	requireFloatsNear(t, "RGB with Grey → 3 channels", got, append(append(append([]float32{}, luma...), luma...), luma...), tol)

	grey := Image{C: 1, H: 1, W: 2, Pix: []uint8{51, 204}}
	got, err = Preprocess(grey, 3, 1, 2, PreprocessOptions{})
	require.NoError(t, err)
	requireFloatsNear(t, "grey replicated", got, []float32{0.2, 0.8, 0.2, 0.8, 0.2, 0.8}, tol)
}

func TestPreprocessMeanStd(t *testing.T) {
	const tol = 1e-6
	img := Image{C: 3, H: 1, W: 1, Pix: []uint8{255, 51, 0}}
	got, err := Preprocess(img, 3, 1, 1, PreprocessOptions{
		Mean: []float32{0.5, 0.5, 0.25}, Std: []float32{0.5, 0.2, 0.25}})
	require.NoError(t, err)
	// (1 − 0.5)/0.5, (0.2 − 0.5)/0.2, (0 − 0.25)/0.25.
	requireFloatsNear(t, "mean/std", got, []float32{1, -1.5, -1}, tol)

	got, err = Preprocess(img, 3, 1, 1, PreprocessOptions{Mean: []float32{1, 1, 1}})
	require.NoError(t, err)
	requireFloatsNear(t, "mean only", got, []float32{0, -0.8, -1}, tol)
}

func TestPreprocessInvalid(t *testing.T) {
	ok := Image{C: 1, H: 2, W: 2, Pix: make([]uint8, 4)}
	cases := []struct {
		name    string
		img     Image
		c, h, w int
		opt     PreprocessOptions
		want    string
	}{
		{"short Pix", Image{C: 1, H: 2, W: 2, Pix: make([]uint8, 3)}, 1, 2, 2, PreprocessOptions{}, "invalid image"},
		{"C=2", Image{C: 2, H: 1, W: 1, Pix: make([]uint8, 2)}, 1, 1, 1, PreprocessOptions{}, "invalid image"},
		{"H=0", Image{C: 1, H: 0, W: 1}, 1, 1, 1, PreprocessOptions{}, "invalid image"},
		{"c=4", ok, 4, 2, 2, PreprocessOptions{}, "invalid target c=4"},
		{"w=0", ok, 1, 2, 0, PreprocessOptions{}, "invalid target"},
		{"Mean length", ok, 3, 2, 2, PreprocessOptions{Mean: []float32{0}}, "1 Mean values for 3 channels"},
		{"Std length", ok, 1, 2, 2, PreprocessOptions{Std: []float32{1, 1}}, "2 Std values for 1 channels"},
		{"Std zero", ok, 1, 2, 2, PreprocessOptions{Std: []float32{0}}, "Std[0] = 0"},
		{"Std NaN", ok, 1, 2, 2, PreprocessOptions{Std: []float32{float32(math.NaN())}}, "Std[0] = NaN"},
		{"Mean Inf", ok, 1, 2, 2, PreprocessOptions{Mean: []float32{float32(math.Inf(1))}}, "Mean[0] = +Inf"},
	}
	for _, tc := range cases {
		_, err := Preprocess(tc.img, tc.c, tc.h, tc.w, tc.opt)
		require.Error(t, err, tc.name)
		require.Contains(t, err.Error(), tc.want, tc.name)
	}
	require.Panics(t, func() { _ = PreprocessInto(make([]float32, 3), ok, 1, 2, 2, PreprocessOptions{}) },
		"PreprocessInto with a short dst")
}

func TestPreprocessRange(t *testing.T) {
	// All-255 images must give exactly 1 after any resize, and all-0 exactly 0.
	for _, v := range []uint8{0, 255} {
		pix := make([]uint8, 3*37*23)
		for i := range pix {
			pix[i] = v
		}
		for _, size := range [][2]int{{8, 8}, {32, 32}, {64, 50}} {
			got, err := Preprocess(Image{C: 3, H: 37, W: 23, Pix: pix}, 3, size[0], size[1], PreprocessOptions{})
			require.NoError(t, err)
			for i, g := range got {
				require.Equal(t, float32(v)/255, g, "level %d to %v: index %d", v, size, i)
			}
		}
	}
}
