package data

import (
	"bytes"
	"image"
	"image/color"
	"testing"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"
)

// fuzzMaxPixels keeps fuzzed headers from allocating large images.
const fuzzMaxPixels = 1 << 16

// FuzzFolderImage decodes arbitrary bytes as an image file and runs the
// result through ConvertImage and Preprocess: no input may panic, and a
// decoded image must be well formed and give finite samples in [0, 1].
func FuzzFolderImage(f *testing.F) {
	grey := image.NewGray(image.Rect(0, 0, 3, 2))
	copy(grey.Pix, []uint8{0, 50, 100, 150, 200, 250})
	pal := image.NewPaletted(image.Rect(0, 0, 2, 2),
		color.Palette{color.NRGBA{200, 100, 50, 1}, color.RGBA{0, 0, 255, 255}})
	pal.Pix[3] = 1
	g16 := image.NewGray16(image.Rect(0, 0, 2, 1))
	g16.SetGray16(0, 0, color.Gray16{Y: 834})

	seeds := [][]byte{
		nil,
		[]byte("not an image"),
		buildPNG(4, 8, 2, 1, [][]byte{{20, 1, 250, 255}}),
		buildPNG(4, 16, 1, 1, [][]byte{{0x03, 0x42, 0x00, 0x01}}),
		buildPNG(2, 16, 1, 1, [][]byte{{0x80, 0x01, 0x00, 0xff, 0xff, 0xff}}),
		buildCMYKJPEG([][4]uint8{{255, 0, 127, 255}, {255, 255, 255, 127}}),
		pngOf(f, grey),
		pngOf(f, g16),
		pngOf(f, pal),
		jpegOf(f, uniformRGBA(9, 7, color.RGBA{200, 100, 50, 255})),
		jpegOf(f, grey),
		gifOf(f, pal),
	}
	var bmpFile, tiffFile bytes.Buffer
	if err := bmp.Encode(&bmpFile, pal); err != nil {
		f.Fatal(err)
	}
	if err := tiff.Encode(&tiffFile, fillImage(image.NewRGBA(image.Rect(0, 0, 2, 3)),
		color.RGBA{10, 20, 0, 128}), nil); err != nil {
		f.Fatal(err)
	}
	seeds = append(seeds, bmpFile.Bytes(), tiffFile.Bytes(), buildWebPLossless(3, 2, 200, 100, 50, 1))
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, encoded []byte) {
		img, err := DecodeImage(encoded, fuzzMaxPixels)
		if err != nil {
			return
		}
		if img.C != 1 && img.C != 3 || img.H < 1 || img.W < 1 || len(img.Pix) != img.C*img.H*img.W {
			t.Fatalf("DecodeImage: malformed Image C=%d H=%d W=%d len(Pix)=%d", img.C, img.H, img.W, len(img.Pix))
		}
		if img.H*img.W > fuzzMaxPixels {
			t.Fatalf("DecodeImage: %d×%d image passed the limit of %d pixels", img.W, img.H, fuzzMaxPixels)
		}
		for _, target := range [][3]int{{1, 8, 8}, {3, 5, 7}} {
			x, err := Preprocess(img, target[0], target[1], target[2], PreprocessOptions{})
			if err != nil {
				t.Fatalf("Preprocess to %v of a decoded %d×%d×%d image: %v", target, img.C, img.H, img.W, err)
			}
			for i, v := range x {
				if !(v >= 0 && v <= 1) {
					t.Fatalf("Preprocess to %v: sample %d = %v outside [0, 1]", target, i, v)
				}
			}
		}
	})
}
