package data

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"
)

// rgbAt returns the (R, G, B) or (Y) samples of pixel (y, x) of img.
func rgbAt(img Image, y, x int) []uint8 {
	plane := img.H * img.W
	out := make([]uint8, img.C)
	for c := range img.C {
		out[c] = img.Pix[c*plane+y*img.W+x]
	}
	return out
}

// requireImageNear checks img's shape and every sample against want, which
// is indexed [y][x][channel], within tol levels, naming the worst sample.
func requireImageNear(t *testing.T, op string, img Image, want [][][]uint8, tol int) {
	t.Helper()
	require.Equal(t, len(want), img.H, "%s: height", op)
	require.Equal(t, len(want[0]), img.W, "%s: width", op)
	require.Equal(t, len(want[0][0]), img.C, "%s: channels", op)
	require.Len(t, img.Pix, img.C*img.H*img.W, "%s: len(Pix)", op)
	worst, where, got, exp := -1, "", 0, 0
	for y := range want {
		for x := range want[y] {
			px := rgbAt(img, y, x)
			for c := range want[y][x] {
				d := int(px[c]) - int(want[y][x][c])
				d = max(d, -d)
				if d > worst {
					worst, where = d, fmt.Sprintf("(y=%d, x=%d, c=%d)", y, x, c)
					got, exp = int(px[c]), int(want[y][x][c])
				}
			}
		}
	}
	require.LessOrEqual(t, worst, tol, "%s: worst sample %s got %d want %d", op, where, got, exp)
}

// uniformPixels returns an h×w grid of the same pixel.
func uniformPixels(h, w int, px ...uint8) [][][]uint8 {
	out := make([][][]uint8, h)
	for y := range out {
		out[y] = make([][]uint8, w)
		for x := range out[y] {
			out[y][x] = px
		}
	}
	return out
}

func TestConvertImageGreyTypes(t *testing.T) {
	const tol = 0 // integer paths are exact
	grey := image.NewGray(image.Rect(10, 20, 13, 22))
	copy(grey.Pix, []uint8{0, 1, 2, 253, 254, 255})
	img, err := ConvertImage(grey)
	require.NoError(t, err)
	requireImageNear(t, "Gray with offset bounds", img, [][][]uint8{{{0}, {1}, {2}}, {{253}, {254}, {255}}}, tol)

	// A sub-image: the stride is wider than the bounds and Min is not 0.
	sub := grey.SubImage(image.Rect(11, 21, 13, 22)).(*image.Gray)
	img, err = ConvertImage(sub)
	require.NoError(t, err)
	requireImageNear(t, "Gray sub-image", img, [][][]uint8{{{254}, {255}}}, tol)

	g16 := image.NewGray16(image.Rect(0, 0, 4, 1))
	for x, v := range []uint16{834, 0xffff, 0x00ff, 0x0100} {
		g16.SetGray16(x, 0, color.Gray16{Y: v})
	}
	img, err = ConvertImage(g16)
	require.NoError(t, err)
	// The high byte: 834 = 3·256 + 66 gives 3.
	requireImageNear(t, "Gray16", img, [][][]uint8{{{3}, {255}, {0}, {1}}}, tol)
}

func TestConvertImageColourTypes(t *testing.T) {
	const tol = 0 // integer paths are exact
	cases := []struct {
		name string
		m    image.Image
		want []uint8
	}{
		{"NRGBA alpha 1", fillImage(image.NewNRGBA(image.Rect(0, 0, 2, 2)), color.NRGBA{20, 20, 20, 1}),
			[]uint8{20, 20, 20}},
		{"NRGBA alpha 0", fillImage(image.NewNRGBA(image.Rect(0, 0, 1, 1)), color.NRGBA{7, 8, 9, 0}),
			[]uint8{7, 8, 9}},
		{"NRGBA64 high byte", fillImage(image.NewNRGBA64(image.Rect(0, 0, 1, 1)),
			color.NRGBA64{0x1234, 0xabcd, 0x00ff, 1}), []uint8{0x12, 0xab, 0x00}},
		// Premultiplied (10, 20, 0) at alpha 128: 10·255/128 = 19.9 → 20,
		// 20·255/128 = 39.8 → 40.
		{"RGBA premultiplied", fillImage(image.NewRGBA(image.Rect(0, 0, 1, 1)), color.RGBA{10, 20, 0, 128}),
			[]uint8{20, 40, 0}},
		{"RGBA opaque", fillImage(image.NewRGBA(image.Rect(0, 0, 1, 1)), color.RGBA{1, 2, 3, 255}),
			[]uint8{1, 2, 3}},
		{"RGBA transparent", fillImage(image.NewRGBA(image.Rect(0, 0, 1, 1)), color.RGBA{0, 0, 0, 0}),
			[]uint8{0, 0, 0}},
		// 0x4000/0x8000 straight is 0x7fff…0x8000 → high byte 0x80 after
		// rounding 0x4000·0xffff/0x8000 = 0x7fff.8 → 0x8000.
		{"RGBA64 premultiplied", fillImage(image.NewRGBA64(image.Rect(0, 0, 1, 1)),
			color.RGBA64{0x8000, 0x4000, 0, 0x8000}), []uint8{0xff, 0x80, 0}},
		// CMYK → RGB: r = 255·(1 − c/255)·(1 − k/255) in 16-bit fixed point.
		// (0, 255, 128, 0): r = 255, g = 0, b = (65535 − 128·257)>>8 = 127.
		{"CMYK", fillImage(image.NewCMYK(image.Rect(0, 0, 1, 1)), color.CMYK{0, 255, 128, 0}),
			[]uint8{255, 0, 127}},
		{"CMYK full black", fillImage(image.NewCMYK(image.Rect(0, 0, 1, 1)), color.CMYK{0, 0, 0, 255}),
			[]uint8{0, 0, 0}},
		// Alpha has no colour type case; the generic path divides the
		// premultiplied white (a, a, a, a) by a.
		{"Alpha generic path", fillImage(image.NewAlpha(image.Rect(0, 0, 1, 1)), color.Alpha{100}),
			[]uint8{255, 255, 255}},
	}
	for _, tc := range cases {
		img, err := ConvertImage(tc.m)
		require.NoError(t, err, tc.name)
		b := tc.m.Bounds()
		requireImageNear(t, tc.name, img, uniformPixels(b.Dy(), b.Dx(), tc.want...), tol)
	}
}

func fillImage[M interface {
	image.Image
	Set(x, y int, c color.Color)
}](m M, c color.Color) M {
	b := m.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			m.Set(x, y, c)
		}
	}
	return m
}

// ycbcrToRGBFloat is the JFIF full-range conversion in float64, an
// independent reference for color.YCbCrToRGB.
func ycbcrToRGBFloat(y, cb, cr uint8) []uint8 {
	yf, cbf, crf := float64(y), float64(cb)-128, float64(cr)-128
	clamp := func(v float64) uint8 { return uint8(math.Round(min(max(v, 0), 255))) }
	return []uint8{
		clamp(yf + 1.402*crf),
		clamp(yf - 0.344136*cbf - 0.714136*crf),
		clamp(yf + 1.772*cbf),
	}
}

func TestConvertImageYCbCrSubsampled(t *testing.T) {
	const tol = 1 // color.YCbCrToRGB uses 16-bit fixed point
	for _, ratio := range []image.YCbCrSubsampleRatio{image.YCbCrSubsampleRatio420,
		image.YCbCrSubsampleRatio422, image.YCbCrSubsampleRatio444} {
		m := image.NewYCbCr(image.Rect(1, 1, 6, 4), ratio) // odd size, non-zero origin
		for i := range m.Y {
			m.Y[i] = uint8(30 + 17*i)
		}
		for i := range m.Cb {
			m.Cb[i] = uint8(60 + 41*i)
			m.Cr[i] = uint8(200 - 29*i)
		}
		want := make([][][]uint8, 3)
		for y := range 3 {
			want[y] = make([][]uint8, 5)
			for x := range 5 {
				yi, ci := m.YOffset(1+x, 1+y), m.COffset(1+x, 1+y)
				want[y][x] = ycbcrToRGBFloat(m.Y[yi], m.Cb[ci], m.Cr[ci])
			}
		}
		img, err := ConvertImage(m)
		require.NoError(t, err)
		requireImageNear(t, "YCbCr "+ratio.String(), img, want, tol)

		// NYCbCrA keeps the colour of a transparent pixel.
		n := &image.NYCbCrA{YCbCr: *m, A: make([]uint8, 5*3), AStride: 5}
		img, err = ConvertImage(n)
		require.NoError(t, err)
		requireImageNear(t, "NYCbCrA "+ratio.String(), img, want, tol)
	}
}

func TestConvertImagePaletted(t *testing.T) {
	const tol = 0
	pal := color.Palette{color.RGBA{255, 0, 0, 255}, color.NRGBA{0, 200, 0, 10}, color.Gray{77},
		color.RGBA{10, 20, 0, 128}}
	m := image.NewPaletted(image.Rect(0, 0, 4, 1), pal)
	copy(m.Pix, []uint8{0, 1, 2, 3})
	img, err := ConvertImage(m)
	require.NoError(t, err)
	requireImageNear(t, "Paletted", img,
		[][][]uint8{{{255, 0, 0}, {0, 200, 0}, {77, 77, 77}, {20, 40, 0}}}, tol)

	m.Pix[2] = 4 // past the end of a 4-colour palette
	_, err = ConvertImage(m)
	require.ErrorContains(t, err, "palette index 4")
}

func TestConvertImageEmpty(t *testing.T) {
	_, err := ConvertImage(image.NewGray(image.Rect(0, 0, 0, 5)))
	require.ErrorContains(t, err, "empty bounds")
}

func TestDecodeImageFileFormats(t *testing.T) {
	const jpegTol = 3 // quality-100 JPEG of a uniform colour, plus YCbCr rounding
	const cmykTol = 1 // integer IDCT rounding of a DC-only block
	const exact = 0

	g16 := image.NewGray16(image.Rect(0, 0, 2, 1))
	g16.SetGray16(0, 0, color.Gray16{Y: 834})
	g16.SetGray16(1, 0, color.Gray16{Y: 0xfffe})

	pal := image.NewPaletted(image.Rect(0, 0, 2, 1),
		color.Palette{color.NRGBA{200, 100, 50, 1}, color.RGBA{0, 0, 255, 255}})
	pal.Pix[1] = 1

	grey := image.NewGray(image.Rect(0, 0, 16, 16))
	for i := range grey.Pix {
		grey.Pix[i] = 90
	}

	// The CMYK image is 16×8: the left block has one colour, the right
	// block the other.
	cmykWant := make([][][]uint8, 8)
	for y := range cmykWant {
		cmykWant[y] = make([][]uint8, 16)
		for x := range cmykWant[y] {
			if x < 8 {
				cmykWant[y][x] = []uint8{255, 0, 127}
			} else {
				cmykWant[y][x] = []uint8{127, 127, 127}
			}
		}
	}

	cases := []struct {
		name    string
		encoded []byte
		want    [][][]uint8
		tol     int
	}{
		// Grey+alpha, colour type 4, 8-bit: pixels (20, alpha 1) and (250, alpha 255).
		{"PNG grey+alpha 8-bit", buildPNG(4, 8, 2, 1, [][]byte{{20, 1, 250, 255}}),
			[][][]uint8{{{20, 20, 20}, {250, 250, 250}}}, exact},
		// Grey+alpha, 16-bit: grey 834 with alpha 1 reads as 3.
		{"PNG grey+alpha 16-bit", buildPNG(4, 16, 1, 1, [][]byte{{0x03, 0x42, 0x00, 0x01}}),
			[][][]uint8{{{3, 3, 3}}}, exact},
		// RGB 16-bit, colour type 2: 0x8001 → 0x80.
		{"PNG RGB 16-bit", buildPNG(2, 16, 1, 1, [][]byte{{0x80, 0x01, 0x00, 0xff, 0xff, 0xff}}),
			[][][]uint8{{{0x80, 0x00, 0xff}}}, exact},
		{"PNG grey 16-bit", pngOf(t, g16), [][][]uint8{{{3}, {0xff}}}, exact},
		{"PNG paletted with tRNS", pngOf(t, pal), [][][]uint8{{{200, 100, 50}, {0, 0, 255}}}, exact},
		{"GIF", gifOf(t, image.NewPaletted(image.Rect(0, 0, 3, 2),
			color.Palette{color.RGBA{9, 99, 199, 255}})), uniformPixels(2, 3, 9, 99, 199), exact},
		{"JPEG colour", jpegOf(t, uniformRGBA(16, 16, color.RGBA{200, 100, 50, 255})),
			uniformPixels(16, 16, 200, 100, 50), jpegTol},
		{"JPEG grey", jpegOf(t, grey), uniformPixels(16, 16, 90), jpegTol},
		// Stored (255, 0, 127, 255) inverts to CMYK (0, 255, 128, 0) → RGB
		// (255, 0, 127); stored (255, 255, 255, 127) → CMYK (0, 0, 0, 128)
		// → 255·(1 − 128/255) = 127.
		{"JPEG Adobe CMYK", buildCMYKJPEG([][4]uint8{{255, 0, 127, 255}, {255, 255, 255, 127}}),
			cmykWant, cmykTol},
	}

	for _, tc := range cases {
		img, err := DecodeImage(tc.encoded, 0)
		require.NoError(t, err, tc.name)
		requireImageNear(t, tc.name, img, tc.want, tc.tol)
	}
}

// TestDecodeImageConcreteTypes checks that the hand-built files reach the
// intended ConvertImage branches, so the tests above exercise them.
func TestDecodeImageConcreteTypes(t *testing.T) {
	m, _, err := image.Decode(bytes.NewReader(buildPNG(4, 8, 1, 1, [][]byte{{20, 1}})))
	require.NoError(t, err)
	assert.IsType(t, &image.NRGBA{}, m, "grey+alpha PNG")
	m, _, err = image.Decode(bytes.NewReader(buildPNG(4, 16, 1, 1, [][]byte{{3, 0x42, 0, 1}})))
	require.NoError(t, err)
	assert.IsType(t, &image.NRGBA64{}, m, "16-bit grey+alpha PNG")
	m, _, err = image.Decode(bytes.NewReader(buildCMYKJPEG([][4]uint8{{1, 2, 3, 4}})))
	require.NoError(t, err)
	assert.IsType(t, &image.CMYK{}, m, "Adobe CMYK JPEG")
}

func TestDecodeImageBadInput(t *testing.T) {
	_, err := DecodeImage(nil, 0)
	require.ErrorContains(t, err, "zero-byte")

	_, err = DecodeImage([]byte("this is not an image"), 0)
	require.ErrorIs(t, err, errUnsupported)

	good := buildPNG(0, 8, 4, 4, [][]byte{{1, 2, 3, 4}, {1, 2, 3, 4}, {1, 2, 3, 4}, {1, 2, 3, 4}})
	_, err = DecodeImage(good[:len(good)-20], 0) // cut inside IDAT
	require.Error(t, err, "truncated PNG")

	// A header that claims 100000×100000 pixels must be rejected before
	// the decoder allocates 10 GB.
	huge := buildPNG(0, 8, 1, 1, [][]byte{{0}})
	binary.BigEndian.PutUint32(huge[16:], 100000)
	binary.BigEndian.PutUint32(huge[20:], 100000)
	fixIHDRCRC(huge)
	_, err = DecodeImage(huge, 0)
	require.ErrorContains(t, err, "over the limit")

	// The same check with a small explicit limit.
	_, err = DecodeImage(good, 15)
	require.ErrorContains(t, err, "over the limit of 15 pixels")
	img, err := DecodeImage(good, 16)
	require.NoError(t, err)
	assert.Equal(t, 4, img.W)
}

// fixIHDRCRC recomputes the CRC of the IHDR chunk after a test edits it.
func fixIHDRCRC(p []byte) {
	binary.BigEndian.PutUint32(p[29:], crc32.ChecksumIEEE(p[12:29]))
}

func TestDecodeImageBMPTIFFWebP(t *testing.T) {
	const exact = 0
	encodeBMP := func(m image.Image) []byte {
		var b bytes.Buffer
		require.NoError(t, bmp.Encode(&b, m))
		return b.Bytes()
	}
	encodeTIFF := func(m image.Image) []byte {
		var b bytes.Buffer
		require.NoError(t, tiff.Encode(&b, m, nil))
		return b.Bytes()
	}
	grey := image.NewGray(image.Rect(0, 0, 3, 1))
	copy(grey.Pix, []uint8{0, 128, 255})
	g16 := image.NewGray16(image.Rect(0, 0, 1, 1))
	g16.SetGray16(0, 0, color.Gray16{Y: 834})

	cases := []struct {
		name    string
		encoded []byte
		want    [][][]uint8
	}{
		{"BMP RGB", encodeBMP(uniformRGBA(3, 2, color.RGBA{10, 20, 30, 255})), uniformPixels(2, 3, 10, 20, 30)},
		// The BMP encoder writes grey as an 8-bit paletted file.
		{"BMP grey", encodeBMP(grey), [][][]uint8{{{0, 0, 0}, {128, 128, 128}, {255, 255, 255}}}},
		{"TIFF grey 16-bit", encodeTIFF(g16), [][][]uint8{{{3}}}},
		// Unassociated alpha: the colour is stored as is.
		{"TIFF NRGBA64 alpha 1", encodeTIFF(fillImage(image.NewNRGBA64(image.Rect(0, 0, 1, 1)),
			color.NRGBA64{0x1234, 0xabcd, 0x00ff, 1})), [][][]uint8{{{0x12, 0xab, 0x00}}}},
		// WebP lossless stores non-premultiplied colour: alpha 1 keeps it.
		{"WebP lossless alpha 1", buildWebPLossless(3, 2, 200, 100, 50, 1), uniformPixels(2, 3, 200, 100, 50)},
		// Associated alpha: (10, 20, 0) at alpha 128 divides to (20, 40, 0).
		{"TIFF RGBA premultiplied", encodeTIFF(fillImage(image.NewRGBA(image.Rect(0, 0, 1, 1)),
			color.RGBA{10, 20, 0, 128})), [][][]uint8{{{20, 40, 0}}}},
	}
	for _, tc := range cases {
		img, err := DecodeImage(tc.encoded, 0)
		require.NoError(t, err, tc.name)
		requireImageNear(t, tc.name, img, tc.want, exact)
	}

	// The TIFF and WebP cases reach the intended ConvertImage branches.
	for i, want := range map[int]image.Image{3: &image.NRGBA64{}, 4: &image.NRGBA{}, 5: &image.RGBA{}} {
		m, _, err := image.Decode(bytes.NewReader(cases[i].encoded))
		require.NoError(t, err, cases[i].name)
		assert.IsType(t, want, m, cases[i].name)
	}
}
