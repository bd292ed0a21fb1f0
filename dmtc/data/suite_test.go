package data

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseSuiteSpecValid(t *testing.T) {
	spec, err := ParseSuiteSpec([]byte(`{
		"name": "two",
		"image_size": {"c": 1, "h": 28, "w": 28},
		"sources": [{"name": "digits", "kind": "idx", "path": "mnist", "split": "test",
			"classes": ["zero", "one", "two"]}],
		"tasks": [{"name": "t", "source": "digits", "classes": ["two", "zero"], "per_class_cap": 5}]
	}`))
	require.NoError(t, err)
	assert.Equal(t, &SuiteSpec{
		Name:      "two",
		ImageSize: &ImageSize{C: 1, H: 28, W: 28},
		Sources: []SourceSpec{{Name: "digits", Kind: KindIDX, Path: "mnist", Split: SplitTest,
			Classes: []string{"zero", "one", "two"}}},
		Tasks: []TaskSpec{{Name: "t", Source: "digits", Classes: []string{"two", "zero"},
			PerClassCap: 5}},
	}, spec)
}

// TestParseSuiteSpecInvalid checks that each invalid spec is rejected with a
// message naming the field and the value.
func TestParseSuiteSpecInvalid(t *testing.T) {
	const src = `{"name": "s", "kind": "idx", "path": "p"}`
	const task = `{"name": "t", "source": "s", "classes": ["0", "1"]}`
	cases := []struct {
		name, json, message string
	}{
		{"not json", `{"name": `, "invalid suite JSON"},
		{"unknown field", `{"name": "x", "sorces": []}`, `unknown field "sorces"`},
		{"two objects", `{"name": "x", "sources": [` + src + `], "tasks": [` + task + `]} {}`,
			"data after the top-level object"},
		{"no name", `{"sources": [` + src + `], "tasks": [` + task + `]}`, "name: empty"},
		{"no sources", `{"name": "x", "tasks": [` + task + `]}`, "sources: empty"},
		{"no tasks", `{"name": "x", "sources": [` + src + `]}`, "tasks: empty"},
		{"unknown kind", `{"name": "x", "sources": [{"name": "s", "kind": "zip", "path": "p"}], "tasks": [` + task + `]}`,
			`sources[0]: kind: unknown kind "zip"`},
		{"no path", `{"name": "x", "sources": [{"name": "s", "kind": "cifar100"}], "tasks": [` + task + `]}`,
			"sources[0]: path: empty; kind cifar100 needs the folder"},
		{"embedded with path", `{"name": "x", "sources": [{"name": "s", "kind": "embedded-fashion-mnist", "path": "p"}], "tasks": [` + task + `]}`,
			`sources[0]: path: "p", but kind embedded-fashion-mnist takes no path`},
		{"bad split", `{"name": "x", "sources": [{"name": "s", "kind": "idx", "path": "p", "split": "val"}], "tasks": [` + task + `]}`,
			`sources[0]: split: "val"`},
		{"split on folder", `{"name": "x", "sources": [{"name": "s", "kind": "folder", "path": "p", "split": "test"}], "tasks": [` + task + `]}`,
			"sources[0]: split: \"test\", but only kinds idx and cifar100 take a split"},
		{"classes on cifar", `{"name": "x", "sources": [{"name": "s", "kind": "cifar100", "path": "p", "classes": ["a"]}], "tasks": [` + task + `]}`,
			"sources[0]: classes: only kind idx takes class names"},
		{"duplicate source class", `{"name": "x", "sources": [{"name": "s", "kind": "idx", "path": "p", "classes": ["a", "b", "a"]}], "tasks": [` + task + `]}`,
			`sources[0]: classes[2]: duplicate class "a", also at index 0`},
		{"duplicate source", `{"name": "x", "sources": [` + src + `, ` + src + `], "tasks": [` + task + `]}`,
			`sources[1].name: "s" is also the name of sources[0]`},
		{"unknown source", `{"name": "x", "sources": [` + src + `], "tasks": [{"name": "t", "source": "z", "classes": ["0", "1"]}]}`,
			`tasks[0]: source: unknown source "z"`},
		{"empty task", `{"name": "x", "sources": [` + src + `], "tasks": [{"name": "t", "source": "s", "classes": []}]}`,
			"tasks[0]: classes: 0 classes, but a clustering task needs at least 2"},
		{"one class", `{"name": "x", "sources": [` + src + `], "tasks": [{"name": "t", "source": "s", "classes": ["3"]}]}`,
			"tasks[0]: classes: 1 classes"},
		{"duplicate class", `{"name": "x", "sources": [` + src + `], "tasks": [` + task + `, {"name": "u", "source": "s", "classes": ["0", "1", "0"]}]}`,
			`tasks[1]: classes[2]: duplicate class "0", also at index 0`},
		{"empty class name", `{"name": "x", "sources": [` + src + `], "tasks": [{"name": "t", "source": "s", "classes": ["0", ""]}]}`,
			"tasks[0]: classes[1]: empty class name"},
		{"negative cap", `{"name": "x", "sources": [` + src + `], "tasks": [{"name": "t", "source": "s", "classes": ["0", "1"], "per_class_cap": -1}]}`,
			"tasks[0]: per_class_cap: -1"},
		{"duplicate task", `{"name": "x", "sources": [` + src + `], "tasks": [` + task + `, ` + task + `]}`,
			`tasks[1].name: "t" is also the name of tasks[0]`},
		{"unnamed task", `{"name": "x", "sources": [` + src + `], "tasks": [{"source": "s", "classes": ["0", "1"]}]}`,
			"tasks[0]: name: empty"},
		{"two channels", `{"name": "x", "image_size": {"c": 2, "h": 8, "w": 8}, "sources": [` + src + `], "tasks": [` + task + `]}`,
			"image_size.c: 2, want 1 (grey) or 3 (RGB)"},
		{"zero height", `{"name": "x", "image_size": {"c": 3, "h": 0, "w": 8}, "sources": [` + src + `], "tasks": [` + task + `]}`,
			"image_size: 0×8"},
	}
	for _, tc := range cases {
		spec, err := ParseSuiteSpec([]byte(tc.json))
		assert.Nil(t, spec, tc.name)
		assert.ErrorContains(t, err, tc.message, tc.name)
	}
}

// writeDigits writes an MNIST-style training set of 1×2×2 images to dir:
// image i has label labels[i] and every pixel set to 10·i.
func writeDigits(t *testing.T, dir string, labels []byte) {
	t.Helper()
	pix := make([]byte, 0, 4*len(labels))
	for i := range labels {
		v := byte(10 * i)
		pix = append(pix, v, v, v, v)
	}
	writeIDXSplit(t, dir, "train", false, 2, 2, labels, pix)
}

func TestBuildSuiteCapAndOrder(t *testing.T) {
	dir := t.TempDir()
	writeDigits(t, dir, []byte{5, 3, 5, 1, 3, 5, 3, 9})
	spec := &SuiteSpec{
		Name:    "small",
		Sources: []SourceSpec{{Name: "d", Kind: KindIDX, Path: ".", Split: SplitTrain}},
		Tasks: []TaskSpec{
			{Name: "five-three", Source: "d", Classes: []string{"5", "3"}, PerClassCap: 2},
			{Name: "all", Source: "d", Classes: []string{"1", "9", "3"}},
		},
	}
	suite, err := BuildSuite(spec, dir, LoadOptions{})
	require.NoError(t, err)
	require.Len(t, suite.Tasks, 2)

	// Task 1: the first two 5s (images 0, 2) and 3s (images 1, 4), in
	// file order, labelled by position in the task's class list.
	first := suite.Tasks[0]
	assert.Equal(t, []int{0, 1, 0, 1}, first.Labels)
	assert.Equal(t, []string{"5", "3"}, first.Classes)
	assert.Equal(t, []int{1, 2, 2}, []int{first.C, first.H, first.W})
	wantX := []float32{}
	for _, i := range []int{0, 1, 2, 4} {
		v := float32(10*i) / 255
		wantX = append(wantX, v, v, v, v)
	}
	assert.Equal(t, wantX, first.X)

	second := suite.Tasks[1]
	assert.Equal(t, []int{2, 0, 2, 2, 1}, second.Labels, "images 1, 3, 4, 6, 7")
	assert.Equal(t, float32(70)/255, second.ImageAt(4)[3])
	assert.Equal(t, []LoadReport{{Source: "idx:" + filepath.Base(dir) + "-train", Loaded: 8}},
		suite.Reports)
}

func TestBuildSuiteClassErrors(t *testing.T) {
	dir := t.TempDir()
	writeDigits(t, dir, []byte{0, 1, 2})
	build := func(classes ...string) error {
		spec := &SuiteSpec{
			Name:    "s",
			Sources: []SourceSpec{{Name: "d", Kind: KindIDX, Path: dir}},
			Tasks:   []TaskSpec{{Name: "t", Source: "d", Classes: classes}},
		}
		_, err := BuildSuite(spec, "/nonexistent", LoadOptions{})
		return err
	}
	err := build("0", "seven")
	assert.ErrorContains(t, err, `tasks[0] (t): classes[1]: unknown class "seven" in source`)
	assert.ErrorContains(t, err, `whose classes are "0", "1", "2"`)

	err = build("2", "7")
	assert.ErrorContains(t, err, `tasks[0] (t): classes[1]: class "7" has no images in source`)
}

func TestBuildSuiteImageSizeMismatch(t *testing.T) {
	root := t.TempDir()
	digits := filepath.Join(root, "digits")
	cifar := filepath.Join(root, "cifar")
	require.NoError(t, os.Mkdir(digits, 0o755))
	require.NoError(t, os.Mkdir(cifar, 0o755))
	writeDigits(t, digits, []byte{0, 1})
	writeFile(t, cifar, "train.bin", append(cifarRecord(0, 0, 1, 1, 1), cifarRecord(0, 1, 2, 2, 2)...))
	spec := &SuiteSpec{
		Name: "mixed",
		Sources: []SourceSpec{
			{Name: "d", Kind: KindIDX, Path: "digits"},
			{Name: "c", Kind: KindCIFAR100, Path: "cifar", Split: SplitTrain},
		},
		Tasks: []TaskSpec{
			{Name: "digits", Source: "d", Classes: []string{"0", "1"}},
			{Name: "fruit", Source: "c", Classes: []string{"apple", "aquarium_fish"}},
		},
	}
	_, err := BuildSuite(spec, root, LoadOptions{})
	assert.ErrorContains(t, err, "tasks[1] (fruit): image cifar100-train[0] is 3×32×32 (C×H×W) "+
		"but the first image of the suite is 1×2×2; set image_size")

	// With image_size, the grey 2×2 digits are resized and replicated to
	// 3×32×32. Each digit image is one flat value (0 and 10), which
	// resampling keeps up to float rounding.
	const tol = 1e-6
	spec.ImageSize = &ImageSize{C: 3, H: 32, W: 32}
	suite, err := BuildSuite(spec, root, LoadOptions{})
	require.NoError(t, err)
	digitsTask := suite.Tasks[0]
	require.Equal(t, []int{3, 32, 32}, []int{digitsTask.C, digitsTask.H, digitsTask.W})
	require.Len(t, digitsTask.X, 2*3*32*32)
	for i, want := range []float32{0, 10.0 / 255} {
		for j, got := range digitsTask.ImageAt(i) {
			if math.Abs(float64(got-want)) > tol {
				require.Failf(t, "resized digit", "image %d sample %d: got %v, want %v (tol %g)",
					i, j, got, want, tol)
			}
		}
	}
	fruit := suite.Tasks[1]
	assert.Equal(t, []int{0, 1}, fruit.Labels)
	assert.Equal(t, float32(2)/255, fruit.ImageAt(1)[3071], "CIFAR images keep their bytes")
}

func TestBuildSuiteStrict(t *testing.T) {
	dir := t.TempDir()
	writeDigits(t, dir, []byte{0, 1})
	writeFile(t, dir, "t10k-images-idx3-ubyte", []byte("<!DOCTYPE html>"))
	writeFile(t, dir, "t10k-labels-idx1-ubyte", idxLabelsBytes(1, []byte{0}))
	spec := &SuiteSpec{
		Name:    "s",
		Sources: []SourceSpec{{Name: "d", Kind: KindIDX, Path: "."}},
		Tasks:   []TaskSpec{{Name: "t", Source: "d", Classes: []string{"0", "1"}}},
	}
	suite, err := BuildSuite(spec, dir, LoadOptions{})
	require.NoError(t, err)
	require.Len(t, suite.Reports[0].Skipped, 1)
	assert.Equal(t, ReasonHTML, suite.Reports[0].Skipped[0].Reason)
	assert.Equal(t, 2, suite.Tasks[0].N())

	_, err = BuildSuite(spec, dir, LoadOptions{Strict: true})
	assert.ErrorContains(t, err, `source "d" skipped 1 files in strict mode, first `+
		filepath.Join(dir, "t10k-images-idx3-ubyte")+" (html page)")
}

// flakySource is a Source whose image 1 fails to decode.
type flakySource struct{}

func (flakySource) Name() string       { return "flaky" }
func (flakySource) Classes() []string  { return []string{"a", "b"} }
func (flakySource) Len() int           { return 4 }
func (flakySource) Label(i int) int    { return i % 2 }
func (flakySource) Report() LoadReport { return LoadReport{Source: "flaky", Loaded: 4} }
func (flakySource) Image(i int) (Image, error) {
	if i == 1 {
		return Image{}, os.ErrInvalid
	}
	return Image{C: 1, H: 1, W: 1, Pix: []byte{byte(i)}}, nil
}

func TestBuildTaskSkipsUndecodableImage(t *testing.T) {
	b := suiteBuilder{spec: &SuiteSpec{}}
	task, skips, err := b.buildTask(flakySource{}, TaskSpec{Name: "t", Classes: []string{"b", "a"}})
	require.NoError(t, err)
	assert.Equal(t, []int{1, 1, 0}, task.Labels, "images 0, 2, 3: labels a, a, b")
	assert.Equal(t, []float32{0, 2.0 / 255, 3.0 / 255}, task.X)
	require.Len(t, skips, 1)
	assert.Equal(t, Skip{Path: "flaky[1]", Reason: ReasonUnreadable, Err: os.ErrInvalid.Error()}, skips[0])

	strict := suiteBuilder{spec: &SuiteSpec{}, strict: true}
	_, _, err = strict.buildTask(flakySource{}, TaskSpec{Name: "t", Classes: []string{"b", "a"}})
	assert.ErrorContains(t, err, "image flaky[1] skipped in strict mode")

	// With a cap of 1, class "b" keeps only image 1, which fails.
	_, _, err = b.buildTask(flakySource{}, TaskSpec{Name: "t", Classes: []string{"b", "a"}, PerClassCap: 1})
	assert.ErrorContains(t, err, `classes[0]: class "b" has no usable images in source "flaky" (1 images skipped)`)
}

func TestLoadSuiteJSONFile(t *testing.T) {
	root := t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(root, "mnist"), 0o755))
	writeDigits(t, filepath.Join(root, "mnist"), []byte{0, 1, 1, 0})
	path := writeFile(t, root, "suite.json", []byte(`{
		"name": "pair",
		"sources": [{"name": "m", "kind": "idx", "path": "mnist", "split": "train"}],
		"tasks": [{"name": "zero-one", "source": "m", "classes": ["1", "0"]}]
	}`))
	// The relative path is resolved against the suite file's folder.
	suite, err := LoadSuite(path, LoadOptions{})
	require.NoError(t, err)
	assert.Equal(t, "pair", suite.Name)
	assert.Equal(t, []int{1, 0, 0, 1}, suite.Tasks[0].Labels)

	// With a data dir, relative paths are resolved against it instead.
	_, err = LoadSuite(path, LoadOptions{DataDir: filepath.Join(root, "mnist")})
	assert.ErrorContains(t, err, "no usable IDX files in "+filepath.Join(root, "mnist", "mnist"))

	bad := writeFile(t, root, "bad.json", []byte(`{"name": "x", "sources": [], "tasks": []}`))
	_, err = LoadSuite(bad, LoadOptions{})
	assert.ErrorContains(t, err, "suite file "+bad+": data: suite \"x\": sources: empty")
}

func TestLoadSuiteNameErrors(t *testing.T) {
	_, err := LoadSuite("fashion4", LoadOptions{})
	assert.ErrorContains(t, err, `unknown suite "fashion4": want one of fashion3, mnist, cifar100-dmtc`)

	_, err = LoadSuite("/nonexistent/suite.json", LoadOptions{})
	assert.ErrorContains(t, err, "suite file: open /nonexistent/suite.json: no such file")

	_, err = LoadSuite(SuiteMNIST, LoadOptions{})
	assert.ErrorContains(t, err, "suite mnist needs a data dir")

	_, err = LoadSuite(SuiteCIFAR100DMTC, LoadOptions{})
	assert.ErrorContains(t, err, "suite cifar100-dmtc needs a data dir")

	_, err = LoadSuite(SuiteMNIST, LoadOptions{DataDir: t.TempDir()})
	assert.ErrorContains(t, err, "neither train-images-idx3-ubyte nor train-images-idx3-ubyte.gz")
}

func TestBuiltinSuitesValidate(t *testing.T) {
	for _, name := range BuiltinSuites() {
		spec, err := BuiltinSuite(name, "/data")
		require.NoError(t, err, name)
		assert.NoError(t, spec.Validate(), name)
		assert.Len(t, spec.Tasks, 3, name)
	}
	_, err := BuiltinSuite("nope", "")
	assert.ErrorContains(t, err, `unknown built-in suite "nope"`)
}

// TestMNISTSuiteTasks builds the mnist suite from a synthetic MNIST folder
// with two images of each digit.
func TestMNISTSuiteTasks(t *testing.T) {
	dir := t.TempDir()
	labels := []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0}
	writeDigits(t, dir, labels)
	writeIDXSplit(t, dir, "t10k", true, 2, 2, []byte{4}, ramp(4))
	suite, err := LoadSuite(SuiteMNIST, LoadOptions{DataDir: dir, Strict: true})
	require.NoError(t, err)
	require.Len(t, suite.Tasks, 3)
	assert.Equal(t, []int{0, 1, 2, 2, 1, 0}, suite.Tasks[0].Labels)
	assert.Equal(t, []int{0, 1, 2, 2, 1, 0, 1}, suite.Tasks[1].Labels, "the test image is a 4")
	assert.Equal(t, []int{0, 1, 2, 2, 1, 0}, suite.Tasks[2].Labels)
	assert.Equal(t, 21, suite.Reports[0].Loaded)
}

// TestCIFAR100DMTCSuite builds the cifar100-dmtc suite from a synthetic
// train.bin with 401 images of each of its 15 classes and one of another.
func TestCIFAR100DMTCSuite(t *testing.T) {
	dir := t.TempDir()
	fine := CIFAR100FineClasses()
	index := map[string]int{}
	for i, name := range fine {
		index[name] = i
	}
	spec, err := BuiltinSuite(SuiteCIFAR100DMTC, dir)
	require.NoError(t, err)
	var data []byte
	data = append(data, cifarRecord(0, byte(index["apple"]), 0, 0, 0)...)
	for round := range 401 {
		for _, task := range spec.Tasks {
			for _, name := range task.Classes {
				// The red value marks the round, modulo 256.
				data = append(data, cifarRecord(0, byte(index[name]), byte(round), 0, 0)...)
			}
		}
	}
	writeFile(t, dir, "train.bin", data)

	suite, err := LoadSuite(SuiteCIFAR100DMTC, LoadOptions{DataDir: dir, Strict: true})
	require.NoError(t, err)
	require.Len(t, suite.Tasks, 3)
	for _, task := range suite.Tasks {
		require.Equal(t, 2000, task.N(), task.Name)
		assert.Equal(t, []int{3, 32, 32}, []int{task.C, task.H, task.W})
		// Images come in rounds of the five classes; the cap keeps rounds
		// 0..399, so the last image is class 4 of round 399.
		assert.Equal(t, []int{0, 1, 2, 3, 4}, task.Labels[:5], task.Name)
		assert.Equal(t, 4, task.Labels[1999], task.Name)
		assert.Equal(t, float32(399%256)/255, task.ImageAt(1999)[0], task.Name)
	}
	assert.Equal(t, []string{"hamster", "oak_tree", "leopard", "dolphin", "bee"}, suite.Tasks[0].Classes)
	assert.Equal(t, []string{"squirrel", "pine_tree", "tiger", "shark", "cockroach"}, suite.Tasks[2].Classes)
}
