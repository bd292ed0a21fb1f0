package data

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// idxImagesBytes encodes an IDX image file by hand: magic 0x00000803, the
// big-endian dimensions n, h, w, then pix.
func idxImagesBytes(n, h, w uint32, pix []byte) []byte {
	var b bytes.Buffer
	for _, word := range []uint32{0x00000803, n, h, w} {
		_ = binary.Write(&b, binary.BigEndian, word)
	}
	b.Write(pix)
	return b.Bytes()
}

// idxLabelsBytes encodes an IDX label file: magic 0x00000801, n, labels.
func idxLabelsBytes(n uint32, labels []byte) []byte {
	var b bytes.Buffer
	for _, word := range []uint32{0x00000801, n} {
		_ = binary.Write(&b, binary.BigEndian, word)
	}
	b.Write(labels)
	return b.Bytes()
}

func gzipBytes(t testing.TB, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	_, err := zw.Write(data)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return b.Bytes()
}

func writeFile(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(path, data, 0o644))
	return path
}

// ramp returns n bytes 0, 1, 2, ... wrapping at 251 (a prime, so images of
// different sizes do not repeat in step).
func ramp(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i % 251)
	}
	return b
}

func TestReadIDXImagesRawAndGzip(t *testing.T) {
	// Two 2×3 images, the second row of the first image being 3, 4, 5.
	pix := []byte{0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255}
	raw := idxImagesBytes(2, 2, 3, pix)
	for name, data := range map[string][]byte{"raw": raw, "gzip": gzipBytes(t, raw)} {
		images, err := ReadIDXImages(bytes.NewReader(data))
		require.NoError(t, err, name)
		assert.Equal(t, 2, images.N, "%s: N", name)
		assert.Equal(t, 2, images.H, "%s: H", name)
		assert.Equal(t, 3, images.W, "%s: W", name)
		assert.Equal(t, pix, images.Pix, "%s: Pix", name)
	}
}

func TestReadIDXLabelsRawAndGzip(t *testing.T) {
	raw := idxLabelsBytes(4, []byte{9, 0, 3, 7})
	for name, data := range map[string][]byte{"raw": raw, "gzip": gzipBytes(t, raw)} {
		labels, err := ReadIDXLabels(bytes.NewReader(data))
		require.NoError(t, err, name)
		assert.Equal(t, []byte{9, 0, 3, 7}, labels, name)
	}
}

// TestReadIDXImagesFaults feeds one file per fault and checks that the error
// wraps that fault's sentinel, names the file, and that nothing is returned.
func TestReadIDXImagesFaults(t *testing.T) {
	valid := idxImagesBytes(3, 2, 2, ramp(12))
	validGz := gzipBytes(t, valid)
	badCRC := bytes.Clone(validGz)
	badCRC[len(badCRC)-8] ^= 0xff // the CRC-32 is the second-last word of the trailer
	corruptBody := bytes.Clone(validGz)
	corruptBody[12] ^= 0xff
	wrongType := bytes.Clone(valid)
	wrongType[2] = 0x0d // float

	cases := []struct {
		name string
		data []byte
		want error
	}{
		{"gzip of gzip", gzipBytes(t, validGz), ErrGzip},
		{"gzip truncated", validGz[:len(validGz)/2], ErrGzip},
		{"gzip bad CRC", badCRC, ErrGzip},
		{"gzip corrupt body", corruptBody, ErrGzip},
		{"gzip header only", validGz[:5], ErrGzip},
		{"gzip with garbage after the stream", append(bytes.Clone(validGz), "junk"...), ErrGzip},
		{"html doctype", []byte("<!DOCTYPE html>\n<html><body>Not Found</body></html>"), ErrHTML},
		{"html tag", []byte("<html><head><title>404</title></head></html>"), ErrHTML},
		{"html after BOM and blank line", []byte("\xef\xbb\xbf\r\n  <HTML>"), ErrHTML},
		{"gzip html", gzipBytes(t, []byte("<!doctype html><p>quota exceeded")), ErrHTML},
		{"empty", nil, ErrTruncatedHeader},
		{"3 bytes", valid[:3], ErrTruncatedHeader},
		{"10 bytes", valid[:10], ErrTruncatedHeader},
		{"15 bytes", valid[:15], ErrTruncatedHeader},
		{"gzip 10 bytes", gzipBytes(t, valid[:10]), ErrTruncatedHeader},
		{"header only", valid[:16], ErrTruncatedData},
		{"one image short", valid[:len(valid)-4], ErrTruncatedData},
		{"one byte short", valid[:len(valid)-1], ErrTruncatedData},
		{"gzip one byte short", gzipBytes(t, valid[:len(valid)-1]), ErrTruncatedData},
		{"one trailing byte", append(bytes.Clone(valid), 0), ErrTrailingBytes},
		{"gzip trailing image", gzipBytes(t, append(bytes.Clone(valid), 1, 2, 3, 4)), ErrTrailingBytes},
		{"labels file", idxLabelsBytes(3, []byte{0, 1, 2}), ErrIDXMagic},
		{"nonzero first bytes", append([]byte{0x50, 0x4b}, valid[2:]...), ErrIDXMagic},
		{"float type", wrongType, ErrIDXType},
		{"zero images", idxImagesBytes(0, 2, 2, nil), ErrIDXDims},
		{"zero width", idxImagesBytes(3, 2, 0, nil), ErrIDXDims},
		{"over 2 GiB promised", idxImagesBytes(1<<16, 1<<8, 1<<8, nil), ErrIDXDims},
	}

	sentinels := []error{ErrGzip, ErrHTML, ErrTruncatedHeader, ErrIDXMagic, ErrIDXType,
		ErrIDXDims, ErrTruncatedData, ErrTrailingBytes, ErrLabelCount, ErrLabelRange,
		ErrRecordLength}

	dir := t.TempDir()
	for i, tc := range cases {
		path := writeFile(t, dir, "case"+string(rune('a'+i))+"-idx3-ubyte", tc.data)
		images, err := ReadIDXImagesFile(path)
		require.Error(t, err, "%s: ReadIDXImagesFile accepted the file", tc.name)
		assert.Nil(t, images, "%s: partial result", tc.name)
		assert.ErrorIs(t, err, tc.want, "%s", tc.name)
		for _, other := range sentinels {
			if other != tc.want {
				assert.NotErrorIs(t, err, other, "%s: wraps a second sentinel", tc.name)
			}
		}
		assert.Contains(t, err.Error(), path, "%s: message lacks the file name", tc.name)
		assert.True(t, strings.HasPrefix(err.Error(), "data: "), "%s: %q lacks the prefix",
			tc.name, err)
	}
}

func TestReadIDXLabelsFaults(t *testing.T) {
	valid := idxLabelsBytes(5, []byte{0, 1, 2, 3, 4})
	cases := []struct {
		name string
		data []byte
		want error
	}{
		{"5 bytes", valid[:5], ErrTruncatedHeader},
		{"two labels short", valid[:len(valid)-2], ErrTruncatedData},
		{"trailing bytes", append(bytes.Clone(valid), 9, 9), ErrTrailingBytes},
		{"images file", idxImagesBytes(1, 1, 5, []byte{0, 1, 2, 3, 4}), ErrIDXMagic},
		{"html", []byte("<!DOCTYPE html>"), ErrHTML},
	}
	for _, tc := range cases {
		labels, err := ReadIDXLabels(bytes.NewReader(tc.data))
		assert.Nil(t, labels, "%s: partial result", tc.name)
		assert.ErrorIs(t, err, tc.want, "%s", tc.name)
	}
}

func TestReadIDXTruncatedMessage(t *testing.T) {
	// 3 images of 2×2 promised (12 bytes of data), 8 present.
	_, err := ReadIDXImages(bytes.NewReader(idxImagesBytes(3, 2, 2, ramp(8))))
	require.ErrorIs(t, err, ErrTruncatedData)
	assert.Contains(t, err.Error(), "3 images of 2×2 (12 bytes of data) but the file holds 8")
}

func TestReadIDXTrailingMessage(t *testing.T) {
	_, err := ReadIDXImages(bytes.NewReader(idxImagesBytes(1, 2, 2, ramp(7))))
	require.ErrorIs(t, err, ErrTrailingBytes)
	assert.Contains(t, err.Error(), "3 bytes follow the 1 images of 2×2")
}

func TestNewIDXSourceChecksLabels(t *testing.T) {
	images := &IDXImages{N: 3, H: 1, W: 2, Pix: ramp(6)}
	_, err := NewIDXSource("s", images, []byte{0, 1}, MNISTClasses())
	require.ErrorIs(t, err, ErrLabelCount)
	assert.Contains(t, err.Error(), "2 labels for 3 images")

	_, err = NewIDXSource("s", images, []byte{0, 3, 1}, []string{"a", "b", "c"})
	require.ErrorIs(t, err, ErrLabelRange)
	assert.Contains(t, err.Error(), "label 3 of image 1, want 0..2")

	src, err := NewIDXSource("s", images, []byte{2, 0, 1}, []string{"a", "b", "c"})
	require.NoError(t, err)
	assert.Equal(t, 3, src.Len())
	assert.Equal(t, []int{2, 0, 1}, []int{src.Label(0), src.Label(1), src.Label(2)})
	img, err := src.Image(2)
	require.NoError(t, err)
	assert.Equal(t, Image{C: 1, H: 1, W: 2, Pix: []byte{4, 5}}, img)
	img.Pix[0] = 99 // the returned image is a copy
	again, err := src.Image(2)
	require.NoError(t, err)
	assert.Equal(t, byte(4), again.Pix[0], "Image returned an alias of the source data")
	_, err = src.Image(3)
	assert.ErrorContains(t, err, "image index 3 out of range [0, 3)")
	_, err = src.Image(-1)
	assert.ErrorContains(t, err, "image index -1 out of range")
}

func TestLoadIDXFilesFaults(t *testing.T) {
	dir := t.TempDir()
	images := writeFile(t, dir, "i", idxImagesBytes(2, 1, 1, []byte{7, 8}))
	twoLabels := writeFile(t, dir, "l2", idxLabelsBytes(2, []byte{1, 0}))
	threeLabels := writeFile(t, dir, "l3", idxLabelsBytes(3, []byte{1, 0, 1}))
	badLabel := writeFile(t, dir, "lbad", idxLabelsBytes(2, []byte{1, 10}))

	src, err := LoadIDXFiles("pair", images, twoLabels, MNISTClasses())
	require.NoError(t, err)
	assert.Equal(t, LoadReport{Source: "pair", Loaded: 2}, src.Report())

	_, err = LoadIDXFiles("pair", images, threeLabels, MNISTClasses())
	assert.ErrorIs(t, err, ErrLabelCount)
	assert.ErrorContains(t, err, threeLabels)

	_, err = LoadIDXFiles("pair", images, badLabel, MNISTClasses())
	assert.ErrorIs(t, err, ErrLabelRange)
	assert.ErrorContains(t, err, "label 10 of image 1, want 0..9")

	_, err = LoadIDXFiles("pair", filepath.Join(dir, "absent"), twoLabels, MNISTClasses())
	assert.ErrorIs(t, err, fs.ErrNotExist)
}

// writeIDXSplit writes one images/labels pair with the standard names of
// prefix ("train" or "t10k"), gzip-compressed when gz is set.
func writeIDXSplit(t testing.TB, dir, prefix string, gz bool, h, w int, labels []byte,
	pix []byte) {
	t.Helper()
	images := idxImagesBytes(uint32(len(labels)), uint32(h), uint32(w), pix)
	labelFile := idxLabelsBytes(uint32(len(labels)), labels)
	suffix := ""
	if gz {
		images, labelFile, suffix = gzipBytes(t, images), gzipBytes(t, labelFile), ".gz"
	}
	writeFile(t, dir, prefix+"-images-idx3-ubyte"+suffix, images)
	writeFile(t, dir, prefix+"-labels-idx1-ubyte"+suffix, labelFile)
}

func TestLoadIDXDirTrainThenTest(t *testing.T) {
	dir := t.TempDir()
	writeIDXSplit(t, dir, "train", true, 2, 2, []byte{3, 1}, ramp(8))
	writeIDXSplit(t, dir, "t10k", false, 2, 2, []byte{2}, []byte{9, 8, 7, 6})

	src, err := LoadIDXDir(dir, SplitAll, MNISTClasses())
	require.NoError(t, err)
	require.Equal(t, 3, src.Len())
	assert.Equal(t, []int{3, 1, 2}, []int{src.Label(0), src.Label(1), src.Label(2)})
	img, err := src.Image(1)
	require.NoError(t, err)
	assert.Equal(t, []byte{4, 5, 6, 7}, img.Pix, "second training image")
	img, err = src.Image(2)
	require.NoError(t, err)
	assert.Equal(t, []byte{9, 8, 7, 6}, img.Pix, "test image")
	assert.Equal(t, 3, src.Report().Loaded)
	assert.Empty(t, src.Report().Skipped)

	test, err := LoadIDXDir(dir, SplitTest, MNISTClasses())
	require.NoError(t, err)
	assert.Equal(t, 1, test.Len())
	assert.Equal(t, 2, test.Label(0))
}

func TestLoadIDXDirPrefersUncompressed(t *testing.T) {
	dir := t.TempDir()
	writeIDXSplit(t, dir, "t10k", false, 1, 1, []byte{5}, []byte{50})
	writeIDXSplit(t, dir, "t10k", true, 1, 1, []byte{6}, []byte{60})
	src, err := LoadIDXDir(dir, SplitTest, MNISTClasses())
	require.NoError(t, err)
	assert.Equal(t, 5, src.Label(0))
}

func TestLoadIDXDirReportsSkippedPair(t *testing.T) {
	dir := t.TempDir()
	writeIDXSplit(t, dir, "train", false, 1, 2, []byte{0, 1}, ramp(4))
	// A test set whose images file is an HTML page.
	writeFile(t, dir, "t10k-images-idx3-ubyte.gz", []byte("<!DOCTYPE html><title>503</title>"))
	writeFile(t, dir, "t10k-labels-idx1-ubyte.gz", gzipBytes(t, idxLabelsBytes(1, []byte{0})))

	src, err := LoadIDXDir(dir, SplitAll, MNISTClasses())
	require.NoError(t, err)
	assert.Equal(t, 2, src.Len())
	report := src.Report()
	assert.Equal(t, 2, report.Loaded)
	require.Len(t, report.Skipped, 1)
	assert.Equal(t, filepath.Join(dir, "t10k-images-idx3-ubyte.gz"), report.Skipped[0].Path)
	assert.Equal(t, ReasonHTML, report.Skipped[0].Reason)
	assert.Contains(t, report.Skipped[0].Err, "HTML")
}

func TestLoadIDXDirMissingTestSet(t *testing.T) {
	dir := t.TempDir()
	writeIDXSplit(t, dir, "train", false, 1, 1, []byte{4}, []byte{1})
	src, err := LoadIDXDir(dir, SplitAll, MNISTClasses())
	require.NoError(t, err)
	report := src.Report()
	require.Len(t, report.Skipped, 1)
	assert.Equal(t, ReasonMissing, report.Skipped[0].Reason)
	assert.Equal(t, filepath.Join(dir, "t10k-images-idx3-ubyte"), report.Skipped[0].Path)
}

func TestLoadIDXDirSizeMismatch(t *testing.T) {
	dir := t.TempDir()
	writeIDXSplit(t, dir, "train", false, 2, 2, []byte{0}, ramp(4))
	writeIDXSplit(t, dir, "t10k", false, 1, 4, []byte{0}, ramp(4))
	src, err := LoadIDXDir(dir, SplitAll, MNISTClasses())
	require.NoError(t, err)
	require.Len(t, src.Report().Skipped, 1)
	assert.Equal(t, ReasonInvalidHeader, src.Report().Skipped[0].Reason)
	assert.Contains(t, src.Report().Skipped[0].Err, "images are 1×4 but the files loaded before hold 2×2")
}

func TestLoadIDXDirNothingUsable(t *testing.T) {
	dir := t.TempDir()
	writeIDXSplit(t, dir, "train", false, 1, 1, []byte{12}, []byte{1}) // label 12 of 10 classes
	_, err := LoadIDXDir(dir, SplitAll, MNISTClasses())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no usable IDX files in "+dir)
	assert.Contains(t, err.Error(), "label 12 of image 0")
	assert.Contains(t, err.Error(), "neither t10k-images-idx3-ubyte nor t10k-images-idx3-ubyte.gz")

	_, err = LoadIDXDir(dir, "validation", MNISTClasses())
	assert.ErrorContains(t, err, `invalid IDX split "validation"`)
}

func TestSkipReasonsDistinct(t *testing.T) {
	reasons := map[error]string{
		ErrGzip: ReasonCorruptGzip, ErrHTML: ReasonHTML, ErrTruncatedHeader: ReasonTruncated,
		ErrTruncatedData: ReasonTruncated, ErrTrailingBytes: ReasonTrailingBytes,
		ErrIDXMagic: ReasonInvalidHeader, ErrIDXType: ReasonInvalidHeader,
		ErrIDXDims: ReasonInvalidHeader, ErrLabelCount: ReasonLabelCount,
		ErrLabelRange: ReasonLabelRange, ErrRecordLength: ReasonInvalidLength,
		fs.ErrNotExist: ReasonMissing, errors.New("disk on fire"): ReasonUnreadable,
	}
	for err, want := range reasons {
		assert.Equal(t, want, skipReason(errors.Join(errors.New("wrapped"), err)), "%v", err)
	}
}
