package data

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// cifarRecord builds one record with every byte of each plane set to
// red, green and blue.
func cifarRecord(coarse, fine, red, green, blue byte) []byte {
	rec := make([]byte, CIFARRecordSize)
	rec[0], rec[1] = coarse, fine
	planes := rec[2:]
	for i := range 1024 {
		planes[i], planes[1024+i], planes[2048+i] = red, green, blue
	}
	return rec
}

func TestCIFARRecordPixelLayout(t *testing.T) {
	// Coarse 11, fine 19 (cattle), red plane 0x10 except its first byte 0x20.
	rec := cifarRecord(11, 19, 0x10, 0x40, 0x80)
	rec[2] = 0x20
	dir := t.TempDir()
	writeFile(t, dir, "train.bin", rec)

	src, err := LoadCIFAR100Dir(dir, SplitTrain)
	require.NoError(t, err)
	require.Equal(t, 1, src.Len())
	assert.Equal(t, 19, src.Label(0))
	assert.Equal(t, 11, src.CoarseLabel(0))
	assert.Equal(t, "cattle", src.Classes()[19])
	assert.Equal(t, "large_omnivores_and_herbivores", src.CoarseClasses()[11])
	img, err := src.Image(0)
	require.NoError(t, err)
	require.Equal(t, 3, img.C)
	require.Equal(t, 32, img.H)
	require.Equal(t, 32, img.W)
	pixel := func(y, x int) [3]byte {
		at := y*32 + x
		return [3]byte{img.Pix[at], img.Pix[1024+at], img.Pix[2048+at]}
	}
	assert.Equal(t, [3]byte{0x20, 0x40, 0x80}, pixel(0, 0), "pixel (0,0)")
	assert.Equal(t, [3]byte{0x10, 0x40, 0x80}, pixel(0, 1), "pixel (0,1)")
	assert.Equal(t, [3]byte{0x10, 0x40, 0x80}, pixel(1, 0), "pixel (1,0)")
	assert.Equal(t, [3]byte{0x10, 0x40, 0x80}, pixel(31, 31), "pixel (31,31)")
}

func TestDecodeCIFAR100Records(t *testing.T) {
	data := append(cifarRecord(0, 99, 1, 2, 3), cifarRecord(19, 0, 4, 5, 6)...)
	records, err := DecodeCIFAR100(data)
	require.NoError(t, err)
	require.Equal(t, 2, records.Len())
	assert.Equal(t, []int{0, 99}, []int{records.Coarse(0), records.Fine(0)})
	assert.Equal(t, []int{19, 0}, []int{records.Coarse(1), records.Fine(1)})
	assert.Equal(t, byte(4), records.Pix(1)[0])
	assert.Equal(t, byte(6), records.Pix(1)[3071])
}

func TestDecodeCIFAR100Faults(t *testing.T) {
	two := append(cifarRecord(1, 2, 0, 0, 0), cifarRecord(3, 4, 0, 0, 0)...)
	cases := []struct {
		name    string
		data    []byte
		want    error
		message string
	}{
		{"empty", nil, ErrRecordLength, "length 0 is not a positive multiple of the record size 3074"},
		{"one byte short", two[:len(two)-1], ErrRecordLength, "length 6147 is not a positive multiple of the record size 3074 (1 whole records and 3073 bytes over)"},
		{"one byte over", append(bytes.Clone(two), 0), ErrRecordLength, "length 6149"},
		{"fine label 100", cifarRecord(0, 100, 0, 0, 0), ErrLabelRange, "record 0 has fine label 100, want 0..99"},
		{"coarse label 20", append(bytes.Clone(two), cifarRecord(20, 5, 0, 0, 0)...), ErrLabelRange, "record 2 has coarse label 20, want 0..19"},
		{"html", []byte("<!DOCTYPE html><html>"), ErrHTML, "download probably failed"},
		{"gzip", gzipBytes(t, two), ErrGzip, "tar -xzf"},
	}
	for _, tc := range cases {
		records, err := DecodeCIFAR100(tc.data)
		assert.Nil(t, records, "%s: partial result", tc.name)
		assert.ErrorIs(t, err, tc.want, tc.name)
		assert.ErrorContains(t, err, tc.message, tc.name)
	}
}

func TestReadCIFAR100FileFaults(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name string
		data []byte
		want error
	}{
		// The file length is checked before reading, but an HTML page or an
		// archive is still named as such.
		{"short.bin", cifarRecord(0, 0, 0, 0, 0)[:3000], ErrRecordLength},
		{"page.bin", []byte("<html><body>moved</body></html>"), ErrHTML},
		{"archive.bin", gzipBytes(t, bytes.Repeat([]byte{7}, 10000)), ErrGzip},
		{"empty.bin", nil, ErrRecordLength},
		{"label.bin", cifarRecord(0, 200, 0, 0, 0), ErrLabelRange},
	}
	for _, tc := range cases {
		path := writeFile(t, dir, tc.name, tc.data)
		records, err := ReadCIFAR100File(path)
		assert.Nil(t, records, "%s: partial result", tc.name)
		assert.ErrorIs(t, err, tc.want, tc.name)
		assert.ErrorContains(t, err, path, tc.name)
	}
	_, err := ReadCIFAR100File(dir)
	assert.ErrorContains(t, err, "is not a regular file")
}

func TestLoadCIFAR100DirSplits(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "cifar-100-binary")
	require.NoError(t, os.Mkdir(dir, 0o755))
	writeFile(t, dir, "train.bin", append(cifarRecord(1, 10, 0, 0, 0), cifarRecord(2, 20, 0, 0, 0)...))
	writeFile(t, dir, "test.bin", cifarRecord(3, 30, 0, 0, 0))

	// The root is accepted: the loader descends into cifar-100-binary.
	all, err := LoadCIFAR100Dir(root, SplitAll)
	require.NoError(t, err)
	assert.Equal(t, []int{10, 20, 30}, []int{all.Label(0), all.Label(1), all.Label(2)})
	assert.Equal(t, []int{1, 2, 3}, []int{all.CoarseLabel(0), all.CoarseLabel(1), all.CoarseLabel(2)})
	assert.Equal(t, LoadReport{Source: "cifar100", Loaded: 3}, all.Report())
	assert.True(t, all.UsesStandardNames())

	test, err := LoadCIFAR100Dir(dir, SplitTest)
	require.NoError(t, err)
	assert.Equal(t, 1, test.Len())
	assert.Equal(t, "cifar100-test", test.Name())

	_, err = LoadCIFAR100Dir(dir, "val")
	assert.ErrorContains(t, err, `invalid CIFAR-100 split "val"`)
}

func TestLoadCIFAR100DirSkipsBadFile(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "train.bin", cifarRecord(1, 10, 0, 0, 0))
	writeFile(t, dir, "test.bin", cifarRecord(1, 10, 0, 0, 0)[:100])
	src, err := LoadCIFAR100Dir(dir, SplitAll)
	require.NoError(t, err)
	assert.Equal(t, 1, src.Len())
	report := src.Report()
	assert.Equal(t, 1, report.Loaded)
	require.Len(t, report.Skipped, 1)
	assert.Equal(t, filepath.Join(dir, "test.bin"), report.Skipped[0].Path)
	assert.Equal(t, ReasonInvalidLength, report.Skipped[0].Reason)

	_, err = LoadCIFAR100Dir(dir, SplitTest)
	assert.ErrorContains(t, err, "no usable CIFAR-100 files in "+dir)
	assert.ErrorContains(t, err, "length 100")
}

func TestLoadCIFAR100DirClassNameFiles(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "train.bin", cifarRecord(1, 2, 0, 0, 0))
	fine := make([]string, 100)
	for i := range fine {
		fine[i] = "fine" + strings.Repeat("x", i)
	}
	// Windows line ends and trailing blank lines are accepted.
	writeFile(t, dir, "fine_label_names.txt", []byte(strings.Join(fine, "\r\n")+"\r\n\n\n"))
	writeFile(t, dir, "coarse_label_names.txt",
		[]byte(strings.Join(CIFAR100CoarseClasses(), "\n")+"\n"))
	src, err := LoadCIFAR100Dir(dir, SplitTrain)
	require.NoError(t, err)
	assert.Equal(t, fine, src.Classes())
	assert.Equal(t, CIFAR100CoarseClasses(), src.CoarseClasses())
	assert.False(t, src.UsesStandardNames())

	writeFile(t, dir, "fine_label_names.txt", []byte(strings.Join(fine[:99], "\n")))
	_, err = LoadCIFAR100Dir(dir, SplitTrain)
	assert.ErrorContains(t, err, "lists 99 class names, want 100")

	dup := append([]string(nil), fine...)
	dup[50] = dup[3]
	writeFile(t, dir, "fine_label_names.txt", []byte(strings.Join(dup, "\n")))
	_, err = LoadCIFAR100Dir(dir, SplitTrain)
	assert.ErrorContains(t, err, `duplicate class "finexxx" on lines 4 and 51`)

	gap := append([]string(nil), fine...)
	gap[7] = "  "
	writeFile(t, dir, "fine_label_names.txt", []byte(strings.Join(gap, "\n")))
	_, err = LoadCIFAR100Dir(dir, SplitTrain)
	assert.ErrorContains(t, err, "line 8 is empty")
}

func TestCIFAR100StandardNames(t *testing.T) {
	fine := CIFAR100FineClasses()
	coarse := CIFAR100CoarseClasses()
	require.Len(t, fine, 100)
	require.Len(t, coarse, 20)
	// The names of the binary version are sorted, so labels follow
	// alphabetical order.
	assert.IsNonDecreasing(t, fine)
	assert.IsNonDecreasing(t, coarse)
	for _, name := range []string{"hamster", "oak_tree", "leopard", "dolphin", "bee", "mouse",
		"palm_tree", "lion", "whale", "beetle", "squirrel", "pine_tree", "tiger", "shark",
		"cockroach"} {
		assert.Contains(t, fine, name)
	}
	assert.Equal(t, "apple", fine[0])
	assert.Equal(t, "cattle", fine[19])
	assert.Equal(t, "worm", fine[99])
}
