package data

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// suiteImageFile encodes a w×h image of one colour as PNG, or as JPEG when
// asJPEG is set, and writes it to dir/name, creating dir.
func suiteImageFile(t *testing.T, dir, name string, w, h int, c color.RGBA, asJPEG bool) {
	t.Helper()
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			m.SetRGBA(x, y, c)
		}
	}
	var b bytes.Buffer
	if asJPEG {
		require.NoError(t, jpeg.Encode(&b, m, &jpeg.Options{Quality: 100}))
	} else {
		require.NoError(t, png.Encode(&b, m))
	}
	require.NoError(t, os.MkdirAll(dir, 0o755))
	writeFile(t, dir, name, b.Bytes())
}

func TestSuiteFolderSourceResized(t *testing.T) {
	root := t.TempDir()
	red := color.RGBA{R: 200, A: 255}
	blue := color.RGBA{B: 100, A: 255}
	suiteImageFile(t, filepath.Join(root, "images", "red"), "a.png", 4, 4, red, false)
	suiteImageFile(t, filepath.Join(root, "images", "red"), "b.png", 8, 6, red, false)
	suiteImageFile(t, filepath.Join(root, "images", "blue"), "c.png", 4, 4, blue, false)
	path := writeFile(t, root, "suite.json", []byte(`{
		"name": "colours",
		"image_size": {"c": 3, "h": 4, "w": 4},
		"sources": [{"name": "img", "kind": "folder", "path": "images"}],
		"tasks": [{"name": "rb", "source": "img", "classes": ["red", "blue"]}]
	}`))
	suite, err := LoadSuite(path, LoadOptions{Strict: true})
	require.NoError(t, err)
	require.Len(t, suite.Tasks, 1)
	task := suite.Tasks[0]
	// Classes are read in folder order (blue, red), then images in file
	// order within each class; task labels follow the task's class list.
	assert.Equal(t, []int{1, 0, 0}, task.Labels)
	assert.Equal(t, []int{3, 4, 4}, []int{task.C, task.H, task.W})

	// A flat colour stays flat through resizing and cropping.
	const tol = 1e-6
	for i := range task.N() {
		want := [3]float32{200.0 / 255, 0, 0}
		if task.Labels[i] == 1 {
			want = [3]float32{0, 0, 100.0 / 255}
		}
		img := task.ImageAt(i)
		for ch := range 3 {
			for p := range 16 {
				got := img[ch*16+p]
				assert.InDelta(t, want[ch], got, tol, "image %d channel %d sample %d", i, ch, p)
			}
		}
	}
	assert.Equal(t, "img", suite.Reports[0].Source)
	assert.Equal(t, 3, suite.Reports[0].Loaded)
}

func TestSuiteVOCSource(t *testing.T) {
	root := t.TempDir()
	annotation := func(id, class string) []byte {
		return []byte(`<annotation><filename>` + id + `.jpg</filename>` +
			`<object><name>` + class + `</name><difficult>0</difficult>` +
			`<bndbox><xmin>1</xmin><ymin>1</ymin><xmax>3</xmax><ymax>3</ymax></bndbox>` +
			`</object></annotation>`)
	}
	for id, class := range map[string]string{"000001": "dog", "000002": "cat", "000003": "dog"} {
		writeFile(t, mkdir(t, root, "Annotations"), id+".xml", annotation(id, class))
		suiteImageFile(t, filepath.Join(root, "JPEGImages"), id+".jpg", 8, 8,
			color.RGBA{R: 128, G: 128, B: 128, A: 255}, true)
	}
	writeFile(t, mkdir(t, root, "ImageSets", "Main"), "val.txt", []byte("000002\n000003\n"))
	spec := &SuiteSpec{
		Name: "voc",
		Sources: []SourceSpec{
			{Name: "all", Kind: KindVOC, Path: "."},
			{Name: "val", Kind: KindVOC, Path: ".", ImageSet: "val"},
		},
		Tasks: []TaskSpec{
			{Name: "all", Source: "all", Classes: []string{"dog", "cat"}},
			{Name: "val", Source: "val", Classes: []string{"cat", "dog"}},
		},
	}
	suite, err := BuildSuite(spec, root, LoadOptions{Strict: true})
	require.NoError(t, err)
	assert.Equal(t, []int{0, 1, 0}, suite.Tasks[0].Labels, "ids 1, 2, 3")
	assert.Equal(t, []int{0, 1}, suite.Tasks[1].Labels, "ids 2, 3")
	assert.Equal(t, []int{3, 8, 8}, []int{suite.Tasks[0].C, suite.Tasks[0].H, suite.Tasks[0].W})
}

func TestSuiteNUSWIDESource(t *testing.T) {
	root := t.TempDir()
	grey := func(v uint8) color.RGBA { return color.RGBA{R: v, G: v, B: v, A: 255} }
	suiteImageFile(t, filepath.Join(root, "img"), "a.png", 2, 2, grey(10), false)
	suiteImageFile(t, filepath.Join(root, "img"), "b.png", 2, 2, grey(20), false)
	suiteImageFile(t, filepath.Join(root, "img"), "c.png", 2, 2, grey(30), false)
	writeFile(t, root, "list.txt", []byte("C:\\data\\img\\a.png\nC:\\data\\img\\b.png\nC:\\data\\img\\c.png\n"))
	// Image a is sky and sand, but no task uses sand, so a is not ambiguous.
	writeFile(t, root, "labels.txt", []byte("1 0 1\n0 1 0\n1 1 0\n"))
	writeFile(t, root, "concepts.txt", []byte("sky\nwater\nsand\n"))
	files := func(multi string) *NUSWIDEFiles {
		return &NUSWIDEFiles{ImageList: "list.txt", Labels: "labels.txt",
			Concepts: "concepts.txt", TrimPrefix: "C:/data/", MultiLabel: multi}
	}
	spec := &SuiteSpec{
		Name: "nus",
		Sources: []SourceSpec{
			{Name: "skip", Kind: KindNUSWIDE, Path: root, NUSWIDE: files("")},
			{Name: "first", Kind: KindNUSWIDE, Path: root, NUSWIDE: files("first")},
		},
		Tasks: []TaskSpec{
			{Name: "skip", Source: "skip", Classes: []string{"water", "sky"}},
			{Name: "first", Source: "first", Classes: []string{"water", "sky"}},
		},
	}
	suite, err := BuildSuite(spec, "/unused", LoadOptions{})
	require.NoError(t, err)
	assert.Equal(t, []int{1, 0}, suite.Tasks[0].Labels, "image c has both concepts and is skipped")
	assert.Equal(t, float32(20)/255, suite.Tasks[0].ImageAt(1)[0])
	assert.Equal(t, []int{1, 0, 0}, suite.Tasks[1].Labels,
		"image c takes water, the first of its concepts in task order")
	require.Len(t, suite.Reports, 2)
	assert.Len(t, suite.Reports[0].Skipped, 1)

	_, err = BuildSuite(spec, "/unused", LoadOptions{Strict: true})
	assert.ErrorContains(t, err, `source "skip" skipped 1 files in strict mode`)
}

func TestSuiteSourceOptionErrors(t *testing.T) {
	task := TaskSpec{Name: "t", Source: "s", Classes: []string{"a", "b"}}
	cases := []struct {
		name    string
		source  SourceSpec
		message string
	}{
		{"image set on idx", SourceSpec{Name: "s", Kind: KindIDX, Path: "p", ImageSet: "val"},
			`sources[0]: image_set: "val", but only kind voc takes an image set`},
		{"nuswide files on folder", SourceSpec{Name: "s", Kind: KindFolder, Path: "p",
			NUSWIDE: &NUSWIDEFiles{}}, "sources[0]: nuswide: only kind nuswide takes NUS-WIDE files"},
		{"nuswide without files", SourceSpec{Name: "s", Kind: KindNUSWIDE, Path: "p"},
			"sources[0]: nuswide: missing"},
		{"nuswide without labels", SourceSpec{Name: "s", Kind: KindNUSWIDE, Path: "p",
			NUSWIDE: &NUSWIDEFiles{ImageList: "l", Concepts: "c"}}, "sources[0]: nuswide.labels: empty"},
		{"nuswide bad rule", SourceSpec{Name: "s", Kind: KindNUSWIDE, Path: "p",
			NUSWIDE: &NUSWIDEFiles{ImageList: "l", Labels: "m", Concepts: "c", MultiLabel: "all"}},
			`sources[0]: nuswide.multi_label: "all", want "skip" or "first"`},
	}
	for _, tc := range cases {
		spec := SuiteSpec{Name: "x", Sources: []SourceSpec{tc.source}, Tasks: []TaskSpec{task}}
		assert.ErrorContains(t, spec.Validate(), tc.message, tc.name)
	}
}

// mkdir creates the folder root/elem... and returns its path.
func mkdir(t *testing.T, root string, elem ...string) string {
	t.Helper()
	dir := filepath.Join(append([]string{root}, elem...)...)
	require.NoError(t, os.MkdirAll(dir, 0o755))
	return dir
}

func TestSuiteClassWithOnlyBadFiles(t *testing.T) {
	// Class "green" exists as a folder, but its only file is not an image,
	// so the error must say so rather than call the class unknown.
	root := t.TempDir()
	suiteImageFile(t, filepath.Join(root, "images", "red"), "a.png", 4, 4, color.RGBA{R: 200, A: 255}, false)
	suiteImageFile(t, filepath.Join(root, "images", "blue"), "b.png", 4, 4, color.RGBA{B: 200, A: 255}, false)
	require.NoError(t, os.MkdirAll(filepath.Join(root, "images", "green"), 0o755))
	writeFile(t, filepath.Join(root, "images", "green"), "c.jpg", []byte("not a JPEG"))
	path := writeFile(t, root, "suite.json", []byte(`{
		"name": "colours",
		"sources": [{"name": "img", "kind": "folder", "path": "images"}],
		"tasks": [{"name": "rg", "source": "img", "classes": ["red", "green"]}]
	}`))
	_, err := LoadSuite(path, LoadOptions{})
	require.Error(t, err)
	assert.ErrorContains(t, err, `class "green" of source "img" has no usable image`)
	assert.ErrorContains(t, err, "was skipped (1 unsupported)")
	assert.NotContains(t, err.Error(), "unknown class")
}

func TestSuiteImageSizeTooLarge(t *testing.T) {
	_, err := ParseSuiteSpec([]byte(`{
		"name": "huge",
		"image_size": {"c": 3, "h": 100000, "w": 100000},
		"sources": [{"name": "img", "kind": "folder", "path": "images"}],
		"tasks": [{"name": "t", "source": "img", "classes": ["a", "b"]}]
	}`))
	require.Error(t, err)
	assert.ErrorContains(t, err, "image_size: 100000×100000, want a height and width of at most 1024")
}
