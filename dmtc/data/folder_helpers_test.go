package data

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// buildPNG writes a PNG file by hand so that tests can produce colour types
// the standard encoder never writes, such as grey+alpha (colour type 4).
// Each row holds the raw samples without the filter byte.
func buildPNG(colorType, bitDepth byte, width, height int, rows [][]byte) []byte {
	var out bytes.Buffer
	out.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(kind string, body []byte) {
		var length [4]byte
		binary.BigEndian.PutUint32(length[:], uint32(len(body)))
		out.Write(length[:])
		typed := append([]byte(kind), body...)
		out.Write(typed)
		var crc [4]byte
		binary.BigEndian.PutUint32(crc[:], crc32.ChecksumIEEE(typed))
		out.Write(crc[:])
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], uint32(width))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(height))
	ihdr[8], ihdr[9] = bitDepth, colorType
	chunk("IHDR", ihdr)
	var raw bytes.Buffer
	zw := zlib.NewWriter(&raw)
	for _, row := range rows {
		zw.Write([]byte{0}) // filter type None
		zw.Write(row)
	}
	zw.Close()
	chunk("IDAT", raw.Bytes())
	chunk("IEND", nil)
	return out.Bytes()
}

// bitWriter packs JPEG entropy-coded bits, most significant first, with the
// 0xFF00 byte stuffing that JPEG requires.
type bitWriter struct {
	out   bytes.Buffer
	acc   uint32
	nbits uint
}

func (w *bitWriter) write(bits uint32, n uint) {
	for i := int(n) - 1; i >= 0; i-- {
		w.acc = w.acc<<1 | (bits>>uint(i))&1
		w.nbits++
		if w.nbits == 8 {
			w.flushByte()
		}
	}
}

func (w *bitWriter) flushByte() {
	b := byte(w.acc)
	w.out.WriteByte(b)
	if b == 0xff {
		w.out.WriteByte(0)
	}
	w.acc, w.nbits = 0, 0
}

func (w *bitWriter) finish() []byte {
	for w.nbits != 0 {
		w.write(1, 1) // pad with one-bits
	}
	return w.out.Bytes()
}

// buildCMYKJPEG writes a baseline Adobe CMYK JPEG (APP14 transform 0) of
// 8×(8·len(stored)) pixels by hand, because image/jpeg cannot encode CMYK.
// Block j is uniform with the four stored samples stored[j]. Adobe CMYK
// JPEGs store inverted ink, so the decoded image.CMYK holds 255 − stored.
// Every block is DC-only with a quantiser of 1: the DC coefficient of a
// uniform block of sample s is 8·(s − 128).
func buildCMYKJPEG(stored [][4]uint8) []byte {
	var out bytes.Buffer
	segment := func(marker byte, body []byte) {
		out.Write([]byte{0xff, marker})
		var length [2]byte
		binary.BigEndian.PutUint16(length[:], uint16(len(body)+2))
		out.Write(length[:])
		out.Write(body)
	}
	out.Write([]byte{0xff, 0xd8}) // SOI
	segment(0xee, []byte{'A', 'd', 'o', 'b', 'e', 0, 100, 0, 0, 0, 0, 0})
	dqt := make([]byte, 65)
	for i := 1; i < 65; i++ {
		dqt[i] = 1
	}
	segment(0xdb, dqt)
	width := 8 * len(stored)
	sof := []byte{8, 0, 8, byte(width >> 8), byte(width), 4}
	for id := byte(1); id <= 4; id++ {
		sof = append(sof, id, 0x11, 0)
	}
	segment(0xc0, sof)
	// DC table: categories 0..11, all with 4-bit codes equal to the category.
	dcCounts := make([]byte, 16)
	dcCounts[3] = 12
	dht := append([]byte{0x00}, dcCounts...)
	dht = append(dht, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)
	segment(0xc4, dht)
	// AC table: only end-of-block, with the 1-bit code 0.
	acCounts := make([]byte, 16)
	acCounts[0] = 1
	segment(0xc4, append(append([]byte{0x10}, acCounts...), 0x00))
	sos := []byte{4}
	for id := byte(1); id <= 4; id++ {
		sos = append(sos, id, 0x00)
	}
	segment(0xda, append(sos, 0, 63, 0))

	var bw bitWriter
	var pred [4]int
	for _, block := range stored {
		for c := 0; c < 4; c++ {
			dc := 8 * (int(block[c]) - 128)
			diff := dc - pred[c]
			pred[c] = dc
			category := uint(0)
			for mag := max(diff, -diff); mag > 0; mag >>= 1 {
				category++
			}
			bw.write(uint32(category), 4)
			if diff < 0 {
				diff += 1<<category - 1
			}
			bw.write(uint32(diff), category)
			bw.write(0, 1) // end of block
		}
	}
	out.Write(bw.finish())
	out.Write([]byte{0xff, 0xd9}) // EOI
	return out.Bytes()
}

func pngOf(t testing.TB, m image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, png.Encode(&b, m))
	return b.Bytes()
}

func jpegOf(t testing.TB, m image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, jpeg.Encode(&b, m, &jpeg.Options{Quality: 100}))
	return b.Bytes()
}

func gifOf(t testing.TB, m *image.Paletted) []byte {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, gif.Encode(&b, m, nil))
	return b.Bytes()
}

// uniformRGBA returns an opaque w×h image filled with one colour.
func uniformRGBA(w, h int, c color.RGBA) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := 0; i < len(m.Pix); i += 4 {
		m.Pix[i], m.Pix[i+1], m.Pix[i+2], m.Pix[i+3] = c.R, c.G, c.B, c.A
	}
	return m
}

func putTestFile(t *testing.T, path string, content []byte) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, content, 0o644))
}

// lsbBitWriter packs bits least significant first, as WebP lossless
// (VP8L) requires.
type lsbBitWriter struct {
	out   []byte
	nbits uint
}

func (w *lsbBitWriter) write(v uint32, n uint) {
	for i := uint(0); i < n; i++ {
		if w.nbits%8 == 0 {
			w.out = append(w.out, 0)
		}
		if v>>i&1 != 0 {
			w.out[len(w.out)-1] |= 1 << (w.nbits % 8)
		}
		w.nbits++
	}
}

// buildWebPLossless writes a width×height WebP lossless file of one
// non-premultiplied colour by hand, because golang.org/x/image has no WebP
// encoder. Every prefix code is a "simple" one-symbol code, so the pixels
// need zero bits each.
func buildWebPLossless(width, height int, r, g, b, a uint8) []byte {
	var bw lsbBitWriter
	bw.write(0x2f, 8) // VP8L signature
	bw.write(uint32(width-1), 14)
	bw.write(uint32(height-1), 14)
	bw.write(1, 1)                                  // alpha is used
	bw.write(0, 3)                                  // version 0
	bw.write(0, 1)                                  // no transform
	bw.write(0, 1)                                  // no colour cache
	bw.write(0, 1)                                  // no meta prefix codes
	for _, symbol := range []uint8{g, r, b, a, 0} { // green, red, blue, alpha, distance
		bw.write(1, 1) // simple code
		bw.write(0, 1) // one symbol
		bw.write(1, 1) // 8-bit symbol
		bw.write(uint32(symbol), 8)
	}
	chunk := bw.out
	if len(chunk)%2 == 1 {
		chunk = append(chunk, 0) // RIFF chunks are padded to even length
	}
	var out bytes.Buffer
	out.WriteString("RIFF")
	binary.Write(&out, binary.LittleEndian, uint32(4+8+len(chunk)))
	out.WriteString("WEBPVP8L")
	binary.Write(&out, binary.LittleEndian, uint32(len(bw.out)))
	out.Write(chunk)
	return out.Bytes()
}
