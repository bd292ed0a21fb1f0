package data

import (
	"image/color"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// nuswideFiles writes an image list, label matrix and concept list into dir
// and returns options that point at them.
func nuswideFiles(t *testing.T, dir, list, labels, concepts string) NUSWIDEOptions {
	t.Helper()
	opt := NUSWIDEOptions{
		ImageList:    filepath.Join(dir, "ImageList", "Imagelist.txt"),
		Labels:       filepath.Join(dir, "Groundtruth", "AllLabels.txt"),
		ConceptsFile: filepath.Join(dir, "Concepts.txt"),
		ImageRoot:    filepath.Join(dir, "Flickr"),
	}
	putTestFile(t, opt.ImageList, []byte(list))
	putTestFile(t, opt.Labels, []byte(labels))
	putTestFile(t, opt.ConceptsFile, []byte(concepts))
	return opt
}

// reasonCounts counts the report's skips by reason.
func reasonCounts(r LoadReport) map[string]int {
	out := map[string]int{}
	for _, s := range r.Skipped {
		out[s.Reason]++
	}
	return out
}

func TestLoadNUSWIDEFiveLines(t *testing.T) {
	dir := t.TempDir()
	// Windows-style list lines; missing1/missing2 are never written.
	list := "actor\\missing1.jpg\r\nbeach\\missing2.jpg\r\nbeach\\empty.jpg\r\nsky\\unlabelled.jpg\r\nsky\\good.jpg\r\n"
	labels := "1 0 0\n0 1 0\n0 1 0\n0 0 0\n0 0 1\n"
	opt := nuswideFiles(t, dir, list, labels, "animal\nbeach\nsky\n")
	good := jpegOf(t, uniformRGBA(8, 8, color.RGBA{10, 120, 240, 255}))
	putTestFile(t, filepath.Join(dir, "Flickr", "beach", "empty.jpg"), nil)
	putTestFile(t, filepath.Join(dir, "Flickr", "sky", "unlabelled.jpg"), good)
	putTestFile(t, filepath.Join(dir, "Flickr", "sky", "good.jpg"), good)

	src, err := LoadNUSWIDE(opt)
	require.NoError(t, err)
	r := src.Report()
	assert.Equal(t, 1, r.Loaded)
	assert.Equal(t, map[string]int{ReasonMissing: 2, ReasonUnreadable: 1, ReasonNoLabel: 1}, reasonCounts(r))
	assert.Equal(t, []string{
		"missing: actor/missing1.jpg",
		"missing: beach/missing2.jpg",
		"no label: sky/unlabelled.jpg",
		"unreadable: beach/empty.jpg",
	}, skipSet(t, opt.ImageRoot, r))

	assert.Equal(t, "nus-wide", src.Name())
	assert.Equal(t, []string{"animal", "beach", "sky"}, src.Classes())
	require.Equal(t, 1, src.Len())
	assert.Equal(t, 2, src.Label(0))
	assert.Equal(t, filepath.Join(dir, "Flickr", "sky", "good.jpg"), src.Path(0))
	img, err := src.Image(0)
	require.NoError(t, err)
	requireImageNear(t, "NUS-WIDE JPEG", img, uniformPixels(8, 8, 10, 120, 240), 3)
}

func TestLoadNUSWIDEMultiLabelRules(t *testing.T) {
	dir := t.TempDir()
	list := "a.png\nb.png\nc.png\n"
	labels := "1 0 1 0\n0 1 1 0\n0 0 0 1\n"
	opt := nuswideFiles(t, dir, list, labels, "clouds\nsky\nsunset\nwater\n")
	png := pngOf(t, uniformRGBA(2, 2, color.RGBA{1, 2, 3, 255}))
	for _, f := range []string{"a.png", "b.png", "c.png"} {
		putTestFile(t, filepath.Join(dir, "Flickr", f), png)
	}

	// All concepts, default rule: a and b have two concepts each.
	src, err := LoadNUSWIDE(opt)
	require.NoError(t, err)
	require.Equal(t, 1, src.Len())
	assert.Equal(t, 3, src.Label(0), "c is water")
	assert.Equal(t, map[string]int{ReasonAmbiguous: 2}, reasonCounts(src.Report()))
	assert.Contains(t, src.Report().Skipped[0].Err, `["clouds" "sunset"]`)

	// First concept in class order.
	opt.MultiLabel = NUSWIDEFirstConcept
	src, err = LoadNUSWIDE(opt)
	require.NoError(t, err)
	require.Equal(t, 3, src.Len())
	assert.Equal(t, []int{0, 1, 3}, []int{src.Label(0), src.Label(1), src.Label(2)})

	// A class subset in its own order: columns outside it are ignored, so
	// a keeps only sunset and b is ambiguous between sunset and sky.
	opt.MultiLabel = NUSWIDESkipAmbiguous
	opt.Classes = []string{"sunset", "sky"}
	src, err = LoadNUSWIDE(opt)
	require.NoError(t, err)
	assert.Equal(t, []string{"sunset", "sky"}, src.Classes())
	require.Equal(t, 1, src.Len())
	assert.Equal(t, 0, src.Label(0))
	assert.Equal(t, map[string]int{ReasonAmbiguous: 1, ReasonNoLabel: 1}, reasonCounts(src.Report()))

	opt.MultiLabel = NUSWIDEFirstConcept
	src, err = LoadNUSWIDE(opt)
	require.NoError(t, err)
	require.Equal(t, 2, src.Len())
	assert.Equal(t, 0, src.Label(1), "b: sunset comes before sky in the class order")
}

func TestLoadNUSWIDEMatrixErrors(t *testing.T) {
	concepts := "a\nb\nc\n"
	cases := []struct{ name, list, labels, want string }{
		{"row count", "x.jpg\ny.jpg\n", "1 0 0\n", "has 1 rows but image list"},
		{"too many rows", "x.jpg\n", "1 0 0\n0 1 0\n", "has 2 rows"},
		{"width", "x.jpg\ny.jpg\n", "1 0 0\n0 1\n", "row 2 has 2 columns but the concept list has 3"},
		{"21 for 3", "x.jpg\n", strings.Repeat("0 ", 21) + "\n", "row 1 has 21 columns"},
		{"value", "x.jpg\n", "1 0 2\n", `row 1 column 3: invalid value "2"`},
		{"blank row", "x.jpg\ny.jpg\n", "1 0 0\n\n0 1 0\n", "row 2 has 0 columns"},
		{"blank list line", "x.jpg\n\ny.jpg\n", "1 0 0\n0 1 0\n0 0 1\n", "line 2 is empty"},
		{"drive path", `C:\ImageData\Flickr\x.jpg` + "\n", "1 0 0\n", "Windows drive path"},
	}
	for _, tc := range cases {
		opt := nuswideFiles(t, t.TempDir(), tc.list, tc.labels, concepts)
		_, err := LoadNUSWIDE(opt)
		require.Error(t, err, tc.name)
		assert.Contains(t, err.Error(), tc.want, tc.name)
	}
}

func TestLoadNUSWIDEOptionErrors(t *testing.T) {
	dir := t.TempDir()
	opt := nuswideFiles(t, dir, "x.jpg\n", "1 0\n", "a\nb\n")
	putTestFile(t, filepath.Join(dir, "Flickr", "x.jpg"), jpegOf(t, uniformRGBA(8, 8, color.RGBA{A: 255})))

	bad := opt
	bad.ConceptsFile = ""
	_, err := LoadNUSWIDE(bad)
	require.ErrorContains(t, err, "no concept list")

	bad = opt
	bad.Concepts = []string{"a", "b"}
	_, err = LoadNUSWIDE(bad)
	require.ErrorContains(t, err, "both Concepts and ConceptsFile")

	bad = opt
	bad.Classes = []string{"a", "zebra"}
	_, err = LoadNUSWIDE(bad)
	require.ErrorContains(t, err, `class "zebra" is not in the concept list`)

	bad = opt
	bad.ConceptsFile, bad.Concepts = "", []string{"a", "a"}
	_, err = LoadNUSWIDE(bad)
	require.ErrorContains(t, err, `concept "a" listed twice`)

	bad = opt
	bad.Labels = filepath.Join(dir, "absent.txt")
	_, err = LoadNUSWIDE(bad)
	require.ErrorContains(t, err, "absent.txt")

	putTestFile(t, filepath.Join(dir, "gap.txt"), []byte("a\n\nb\n"))
	bad = opt
	bad.ConceptsFile = filepath.Join(dir, "gap.txt")
	_, err = LoadNUSWIDE(bad)
	require.ErrorContains(t, err, "line 2 is empty")

	// Concepts given directly, a Windows prefix trimmed, and a name.
	putTestFile(t, opt.ImageList, []byte(`C:\ImageData\Flickr\x.jpg`+"\r\n"))
	good := opt
	good.ConceptsFile, good.Concepts = "", []string{"a", "b"}
	good.TrimPrefix = `C:\ImageData\Flickr\`
	good.Name = "nus21"
	src, err := LoadNUSWIDE(good)
	require.NoError(t, err)
	assert.Equal(t, "nus21", src.Name())
	require.Equal(t, 1, src.Len())
	assert.Equal(t, filepath.Join(dir, "Flickr", "x.jpg"), src.Path(0))
	assert.Empty(t, src.Report().Skipped)
}

func TestParseNUSWIDELabelsShapes(t *testing.T) {
	m, err := parseNUSWIDELabels([]byte("0 1\t1\r\n1 0 0  \n\n\n"), 3)
	require.NoError(t, err)
	assert.Equal(t, 2, m.rows)
	assert.Equal(t, []bool{false, true, true}, m.row(0))
	assert.Equal(t, []bool{true, false, false}, m.row(1))

	m, err = parseNUSWIDELabels(nil, 81)
	require.NoError(t, err)
	assert.Zero(t, m.rows, "an empty file has no rows")
}
