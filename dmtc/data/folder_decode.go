package data

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	_ "image/gif" // registers the GIF decoder with image.Decode
	_ "image/jpeg"
	_ "image/png"
	"os"

	_ "golang.org/x/image/bmp" // registers BMP, TIFF and WebP with image.Decode
	_ "golang.org/x/image/tiff"
	_ "golang.org/x/image/webp"
)

// Skip reasons shared by all readers. Skip.Err carries the detail, such as
// the decoder's message.
const (
	ReasonMissing     = "missing"     // a listed file does not exist
	ReasonUnreadable  = "unreadable"  // zero-byte, corrupt, too large or an I/O error
	ReasonUnsupported = "unsupported" // no registered decoder recognises the content
)

// DefaultMaxPixels is the maximum image size, in pixels, that the readers
// decode when their options leave MaxPixels at zero. The decoders allocate
// the whole image from the header's dimensions, so the limit keeps a corrupt
// or hostile header from allocating gigabytes. 1<<26 pixels is 8192×8192.
const DefaultMaxPixels = 1 << 26

// errUnsupported marks a file whose format no registered decoder recognises.
var errUnsupported = errors.New("data: unsupported image format (want JPEG, PNG, GIF, BMP, TIFF or WebP)")

// DecodeImage decodes an encoded JPEG, PNG, GIF, BMP, TIFF or WebP file and
// converts it with ConvertImage. It reads the header first and rejects
// images of more than maxPixels pixels (DefaultMaxPixels when maxPixels ≤ 0)
// before the decoder allocates them.
func DecodeImage(encoded []byte, maxPixels int) (Image, error) {
	if len(encoded) == 0 {
		return Image{}, errors.New("data: zero-byte image file")
	}
	if err := checkImageHeader(encoded, maxPixels); err != nil {
		return Image{}, err
	}
	m, _, err := image.Decode(bytes.NewReader(encoded))
	if err != nil {
		return Image{}, fmt.Errorf("data: decode image: %w", err)
	}
	return ConvertImage(m)
}

// checkImageHeader reads the image header and checks the format and size.
func checkImageHeader(encoded []byte, maxPixels int) error {
	if maxPixels <= 0 {
		maxPixels = DefaultMaxPixels
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(encoded))
	if errors.Is(err, image.ErrFormat) {
		return errUnsupported
	}
	if err != nil {
		return fmt.Errorf("data: decode image header: %w", err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return fmt.Errorf("data: image is %d×%d pixels; want at least 1×1", cfg.Width, cfg.Height)
	}
	if cfg.Width > maxPixels/cfg.Height {
		return fmt.Errorf("data: image is %d×%d pixels, over the limit of %d pixels; "+
			"raise MaxPixels in the reader options to accept it", cfg.Width, cfg.Height, maxPixels)
	}
	return nil
}

// imageFileSkip returns the Skip for an image file that cannot be used, or
// nil when the file is usable. With headerOnly set it reads only the header
// (format and size), which is fast but lets a file with a corrupt body
// through until Image decodes it.
func imageFileSkip(path string, headerOnly bool, maxPixels int) *Skip {
	encoded, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return &Skip{Path: path, Reason: ReasonMissing, Err: err.Error()}
	}
	if err != nil {
		return &Skip{Path: path, Reason: ReasonUnreadable, Err: err.Error()}
	}
	if len(encoded) == 0 {
		return &Skip{Path: path, Reason: ReasonUnreadable, Err: "zero-byte file"}
	}
	if headerOnly {
		err = checkImageHeader(encoded, maxPixels)
	} else {
		_, err = DecodeImage(encoded, maxPixels)
	}
	if errors.Is(err, errUnsupported) {
		return &Skip{Path: path, Reason: ReasonUnsupported, Err: err.Error()}
	}
	if err != nil {
		return &Skip{Path: path, Reason: ReasonUnreadable, Err: err.Error()}
	}
	return nil
}

// decodeImageFile reads and decodes one image file.
func decodeImageFile(path string, maxPixels int) (Image, error) {
	encoded, err := os.ReadFile(path)
	if err != nil {
		return Image{}, fmt.Errorf("data: %w", err)
	}
	img, err := DecodeImage(encoded, maxPixels)
	if err != nil {
		return Image{}, fmt.Errorf("%w (file %s)", err, path)
	}
	return img, nil
}

// ConvertImage converts a decoded image to an 8-bit planar Image. Grey
// images (image.Gray, image.Gray16) give C = 1 and all others C = 3.
//
// Colour is read from the concrete pixel type, not from color.Color.RGBA,
// which premultiplies by alpha. Alpha is dropped: a grey+alpha pixel
// (20, alpha 1) gives (20, 20, 20). Types that store premultiplied colour
// (image.RGBA, image.RGBA64) are divided by alpha first, and a fully
// transparent premultiplied pixel reads as black because its colour is lost.
// 16-bit samples keep their high byte (834 gives 3). CMYK uses
// color.CMYKToRGB and Y'CbCr uses color.YCbCrToRGB.
func ConvertImage(m image.Image) (Image, error) {
	b := m.Bounds()
	h, w := b.Dy(), b.Dx()
	if h <= 0 || w <= 0 {
		return Image{}, fmt.Errorf("data: convert image: empty bounds %v", b)
	}
	switch src := m.(type) {
	case *image.Gray:
		img := newImage(1, h, w)
		for y := 0; y < h; y++ {
			row := src.Pix[src.PixOffset(b.Min.X, b.Min.Y+y):]
			copy(img.Pix[y*w:(y+1)*w], row[:w])
		}
		return img, nil
	case *image.Gray16:
		img := newImage(1, h, w)
		for y := 0; y < h; y++ {
			row := src.Pix[src.PixOffset(b.Min.X, b.Min.Y+y):]
			for x := 0; x < w; x++ {
				img.Pix[y*w+x] = row[2*x] // big-endian: the high byte comes first
			}
		}
		return img, nil
	case *image.Paletted:
		return convertPaletted(src)
	}
	img := newImage(3, h, w)
	plane := h * w
	set := func(y, x int, r, g, bl uint8) {
		i := y*w + x
		img.Pix[i], img.Pix[plane+i], img.Pix[2*plane+i] = r, g, bl
	}
	switch src := m.(type) {
	case *image.NRGBA:
		for y := 0; y < h; y++ {
			row := src.Pix[src.PixOffset(b.Min.X, b.Min.Y+y):]
			for x := 0; x < w; x++ {
				set(y, x, row[4*x], row[4*x+1], row[4*x+2])
			}
		}
	case *image.NRGBA64:
		for y := 0; y < h; y++ {
			row := src.Pix[src.PixOffset(b.Min.X, b.Min.Y+y):]
			for x := 0; x < w; x++ {
				set(y, x, row[8*x], row[8*x+2], row[8*x+4])
			}
		}
	case *image.RGBA:
		for y := 0; y < h; y++ {
			row := src.Pix[src.PixOffset(b.Min.X, b.Min.Y+y):]
			for x := 0; x < w; x++ {
				p := row[4*x : 4*x+4]
				a := uint32(p[3])
				set(y, x, unpremultiply8(p[0], a), unpremultiply8(p[1], a), unpremultiply8(p[2], a))
			}
		}
	case *image.RGBA64:
		for y := 0; y < h; y++ {
			row := src.Pix[src.PixOffset(b.Min.X, b.Min.Y+y):]
			for x := 0; x < w; x++ {
				p := row[8*x : 8*x+8]
				r, g, bl := unpremultiply16(be16(p[0:]), be16(p[2:]), be16(p[4:]), be16(p[6:]))
				set(y, x, r, g, bl)
			}
		}
	case *image.CMYK:
		for y := 0; y < h; y++ {
			row := src.Pix[src.PixOffset(b.Min.X, b.Min.Y+y):]
			for x := 0; x < w; x++ {
				r, g, bl := color.CMYKToRGB(row[4*x], row[4*x+1], row[4*x+2], row[4*x+3])
				set(y, x, r, g, bl)
			}
		}
	case *image.YCbCr:
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				yi := src.YOffset(b.Min.X+x, b.Min.Y+y)
				ci := src.COffset(b.Min.X+x, b.Min.Y+y)
				r, g, bl := color.YCbCrToRGB(src.Y[yi], src.Cb[ci], src.Cr[ci])
				set(y, x, r, g, bl)
			}
		}
	case *image.NYCbCrA:
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				yi := src.YOffset(b.Min.X+x, b.Min.Y+y)
				ci := src.COffset(b.Min.X+x, b.Min.Y+y)
				r, g, bl := color.YCbCrToRGB(src.Y[yi], src.Cb[ci], src.Cr[ci])
				set(y, x, r, g, bl)
			}
		}
	default:
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				r, g, bl := straightRGB(m.At(b.Min.X+x, b.Min.Y+y))
				set(y, x, r, g, bl)
			}
		}
	}
	return img, nil
}

// convertPaletted converts each palette entry once and then maps the
// indices. An index past the end of the palette is an error, because its
// colour is undefined.
func convertPaletted(src *image.Paletted) (Image, error) {
	b := src.Bounds()
	h, w := b.Dy(), b.Dx()
	palette := make([][3]uint8, len(src.Palette))
	for i, c := range src.Palette {
		r, g, bl := straightRGB(c)
		palette[i] = [3]uint8{r, g, bl}
	}
	img := newImage(3, h, w)
	plane := h * w
	for y := 0; y < h; y++ {
		row := src.Pix[src.PixOffset(b.Min.X, b.Min.Y+y):]
		for x := 0; x < w; x++ {
			k := int(row[x])
			if k >= len(palette) {
				return Image{}, fmt.Errorf("data: convert image: pixel (%d, %d) has palette index %d, "+
					"but the palette has %d colours", b.Min.X+x, b.Min.Y+y, k, len(palette))
			}
			i := y*w + x
			img.Pix[i], img.Pix[plane+i], img.Pix[2*plane+i] = palette[k][0], palette[k][1], palette[k][2]
		}
	}
	return img, nil
}

// straightRGB returns the non-premultiplied 8-bit colour of c, reading the
// concrete colour types directly and dividing the premultiplied ones by
// alpha.
func straightRGB(c color.Color) (r, g, b uint8) {
	switch v := c.(type) {
	case color.Gray:
		return v.Y, v.Y, v.Y
	case color.Gray16:
		return uint8(v.Y >> 8), uint8(v.Y >> 8), uint8(v.Y >> 8)
	case color.NRGBA:
		return v.R, v.G, v.B
	case color.NRGBA64:
		return uint8(v.R >> 8), uint8(v.G >> 8), uint8(v.B >> 8)
	case color.RGBA:
		a := uint32(v.A)
		return unpremultiply8(v.R, a), unpremultiply8(v.G, a), unpremultiply8(v.B, a)
	case color.CMYK:
		return color.CMYKToRGB(v.C, v.M, v.Y, v.K)
	case color.YCbCr:
		return color.YCbCrToRGB(v.Y, v.Cb, v.Cr)
	case color.NYCbCrA:
		return color.YCbCrToRGB(v.Y, v.Cb, v.Cr)
	}
	r16, g16, b16, a16 := c.RGBA()
	return unpremultiply16(uint16(r16), uint16(g16), uint16(b16), uint16(a16))
}

// unpremultiply8 divides a premultiplied 8-bit sample by alpha a (0..255),
// rounding to nearest. Alpha 0 gives 0.
func unpremultiply8(v uint8, a uint32) uint8 {
	switch a {
	case 0:
		return 0
	case 0xff:
		return v
	}
	return uint8(min((uint32(v)*0xff+a/2)/a, 0xff))
}

// unpremultiply16 divides premultiplied 16-bit samples by alpha and keeps
// the high byte of the result.
func unpremultiply16(r, g, b, a uint16) (uint8, uint8, uint8) {
	if a == 0 {
		return 0, 0, 0
	}
	div := func(v uint16) uint8 {
		if a == 0xffff {
			return uint8(v >> 8)
		}
		s := min((uint32(v)*0xffff+uint32(a)/2)/uint32(a), 0xffff)
		return uint8(s >> 8)
	}
	return div(r), div(g), div(b)
}

func be16(p []uint8) uint16 { return uint16(p[0])<<8 | uint16(p[1]) }

func newImage(c, h, w int) Image {
	return Image{C: c, H: h, W: w, Pix: make([]uint8, c*h*w)}
}
