package data_test

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dmtc-go/dmtc/dmtc/data"
)

// The tests in this file check the example suite files in docs/suites. Each
// file must parse and validate, and its class names must exist in the
// dataset that it reads. Each must also load from a small synthetic copy of
// the folder layout that docs/suites.md describes.

// docsSuitesDir is the folder of the example suite files, relative to this
// package.
var docsSuitesDir = filepath.Join("..", "..", "docs", "suites")

// docsExampleFiles are the example suite files that docs/suites.md
// describes.
var docsExampleFiles = []string{"caltech256.json", "cifar100-dmtc.json", "nuswide.json", "voc2007.json"}

// nusWIDEConcepts are the 81 concept names of NUS-WIDE in alphabetical
// order, the order of Concepts81.txt as public NUS-WIDE loaders list it.
var nusWIDEConcepts = strings.Fields(`
airport animal beach bear birds boats book bridge buildings cars castle cat
cityscape clouds computer coral cow dancing dog earthquake elk fire fish flags
flowers food fox frost garden glacier grass harbor horses house lake leaf map
military moon mountain nighttime ocean person plane plants police protest
railroad rainbow reflection road rocks running sand sign sky snow soccer sports
statue street sun sunset surf swimmers tattoo temple tiger tower town toy train
tree valley vehicle water waterfall wedding whales window zebra`)

// caltechFolderName matches a Caltech-256 class folder, "NNN.name" with
// NNN from 001 to 257.
var caltechFolderName = regexp.MustCompile(`^([0-9]{3})\.[a-z0-9]+(-[a-z0-9]+)*$`)

func readDocsSuite(t *testing.T, name string) *data.SuiteSpec {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(docsSuitesDir, name))
	require.NoError(t, err, "read example suite %s", name)
	spec, err := data.ParseSuiteSpec(raw)
	require.NoError(t, err, "ParseSuiteSpec(%s)", name)
	return spec
}

func TestDocsExampleSuitesParse(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join(docsSuitesDir, "*.json"))
	require.NoError(t, err)
	var names []string
	for _, path := range paths {
		names = append(names, filepath.Base(path))
	}
	for _, want := range docsExampleFiles {
		assert.Contains(t, names, want, "example suite file missing from %s", docsSuitesDir)
	}

	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			spec := readDocsSuite(t, name)
			for i, task := range spec.Tasks {
				checkDocsClassNames(t, name, spec, i, task)
			}
		})
	}
}

// checkDocsClassNames checks the class names of task i against the class
// names of its source's dataset.
func checkDocsClassNames(t *testing.T, file string, spec *data.SuiteSpec, i int, task data.TaskSpec) {
	t.Helper()
	var kind string
	for _, src := range spec.Sources {
		if src.Name == task.Source {
			kind = src.Kind
		}
	}
	for j, class := range task.Classes {
		where := fmt.Sprintf("%s tasks[%d].classes[%d] %q", file, i, j, class)
		switch kind {
		case data.KindCIFAR100:
			assert.Contains(t, data.CIFAR100FineClasses(), class, "%s: not a CIFAR-100 fine class", where)
		case data.KindVOC:
			assert.Contains(t, data.VOCClasses(), class, "%s: not a Pascal VOC class", where)
		case data.KindNUSWIDE:
			assert.Contains(t, nusWIDEConcepts, class, "%s: not a NUS-WIDE concept", where)
		case data.KindFolder:
			m := caltechFolderName.FindStringSubmatch(class)
			if assert.NotNil(t, m, "%s: not a Caltech-256 folder name NNN.name", where) {
				number, _ := strconv.Atoi(m[1])
				assert.True(t, number >= 1 && number <= 257, "%s: folder number %d, want 001 to 257",
					where, number)
			}
		}
	}
}

func TestDocsExampleCIFAR100MatchesBuiltin(t *testing.T) {
	file := readDocsSuite(t, "cifar100-dmtc.json")
	builtin, err := data.BuiltinSuite(data.SuiteCIFAR100DMTC, "/any/data/dir")
	require.NoError(t, err)
	assert.Equal(t, builtin, file, "docs/suites/cifar100-dmtc.json differs from the built-in suite")
}

// --- loading the examples from synthetic folders ---

// writeJPEG writes a w×h JPEG whose colour depends on seed.
func writeJPEG(t *testing.T, path string, w, h, seed int) {
	t.Helper()
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			m.Set(x, y, color.RGBA{R: uint8(seed * 40), G: uint8(x * 5), B: uint8(y*5 + seed), A: 255})
		}
	}
	var buf bytes.Buffer
	require.NoError(t, jpeg.Encode(&buf, m, nil))
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o644))
}

func writeText(t *testing.T, path, text string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, []byte(text), 0o644))
}

// suiteClassCounts returns, per task, the number of images of each class.
func suiteClassCounts(s *data.Suite) map[string][]int {
	counts := map[string][]int{}
	for _, task := range s.Tasks {
		n := make([]int, task.K())
		for _, label := range task.Labels {
			n[label]++
		}
		counts[task.Name] = n
	}
	return counts
}

// checkSuiteSize checks that every task has images of the given size.
func checkSuiteSize(t *testing.T, s *data.Suite, c, h, w int) {
	t.Helper()
	for _, task := range s.Tasks {
		assert.Equal(t, [3]int{c, h, w}, [3]int{task.C, task.H, task.W}, "task %s image size (C, H, W)",
			task.Name)
		assert.Len(t, task.X, task.N()*c*h*w, "task %s samples", task.Name)
	}
}

func TestDocsExampleCaltech256Loads(t *testing.T) {
	dataDir := t.TempDir()
	spec := readDocsSuite(t, "caltech256.json")
	root := filepath.Join(dataDir, "256_ObjectCategories")
	// Two images a used class, of different sizes, and an unused class
	// folder as in the real dataset.
	for _, task := range spec.Tasks {
		for k, class := range task.Classes {
			number := class[:3]
			for i := range 2 {
				writeJPEG(t, filepath.Join(root, class, fmt.Sprintf("%s_%04d.jpg", number, i+1)),
					40+10*i, 30+k, k)
			}
		}
	}
	writeJPEG(t, filepath.Join(root, "257.clutter", "257_0001.jpg"), 20, 20, 9)

	s, err := data.LoadSuite(filepath.Join(docsSuitesDir, "caltech256.json"), data.LoadOptions{DataDir: dataDir})
	require.NoError(t, err, "LoadSuite(caltech256.json) on the documented layout")
	require.Len(t, s.Tasks, 3)
	checkSuiteSize(t, s, 3, 32, 32)
	for _, task := range spec.Tasks {
		assert.Equal(t, []int{2, 2, 2, 2}, suiteClassCounts(s)[task.Name], "task %s images per class", task.Name)
	}
}

// vocAnnotation returns a VOC annotation XML with one object per class
// name, each with its box (xmin, ymin, xmax, ymax).
func vocAnnotation(id string, objects []string, boxes [][4]int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "<annotation><folder>VOC2007</folder><filename>%s.jpg</filename>\n", id)
	for i, name := range objects {
		box := boxes[i]
		fmt.Fprintf(&b, "<object><name>%s</name><difficult>0</difficult><bndbox><xmin>%d</xmin>"+
			"<ymin>%d</ymin><xmax>%d</xmax><ymax>%d</ymax></bndbox></object>\n",
			name, box[0], box[1], box[2], box[3])
	}
	b.WriteString("</annotation>\n")
	return b.String()
}

func TestDocsExampleVOC2007Loads(t *testing.T) {
	dataDir := t.TempDir()
	spec := readDocsSuite(t, "voc2007.json")
	root := filepath.Join(dataDir, "VOCdevkit", "VOC2007")
	var trainval []string
	addImage := func(id string, objects []string, boxes [][4]int, inTrainval bool) {
		writeJPEG(t, filepath.Join(root, "JPEGImages", id+".jpg"), 50, 40, len(trainval)%5)
		writeText(t, filepath.Join(root, "Annotations", id+".xml"), vocAnnotation(id, objects, boxes))
		if inTrainval {
			trainval = append(trainval, id)
		}
	}
	next := 1
	for _, task := range spec.Tasks {
		for _, class := range task.Classes {
			for range 2 {
				addImage(fmt.Sprintf("%06d", next), []string{class}, [][4]int{{1, 1, 30, 30}}, true)
				next++
			}
		}
	}
	// The largest object is a person, which no task uses, so the image is
	// labelled person and left out of the dog class.
	addImage("000900", []string{"dog", "person"}, [][4]int{{1, 1, 10, 10}, {1, 1, 40, 30}}, true)
	// An image outside the trainval list is not read.
	addImage("000901", []string{"dog"}, [][4]int{{1, 1, 30, 30}}, false)
	writeText(t, filepath.Join(root, "ImageSets", "Main", "trainval.txt"), strings.Join(trainval, "\n")+"\n")

	s, err := data.LoadSuite(filepath.Join(docsSuitesDir, "voc2007.json"), data.LoadOptions{DataDir: dataDir})
	require.NoError(t, err, "LoadSuite(voc2007.json) on the documented layout")
	require.Len(t, s.Tasks, 3)
	checkSuiteSize(t, s, 3, 32, 32)
	for _, task := range spec.Tasks {
		assert.Equal(t, []int{2, 2, 2, 2}, suiteClassCounts(s)[task.Name], "task %s images per class", task.Name)
	}
	require.Len(t, s.Reports, 1)
	assert.Equal(t, 3*4*2+1, s.Reports[0].Loaded, "images loaded from trainval, the person image included")
	assert.Empty(t, s.Reports[0].Skipped, "skipped files")
}

func TestDocsExampleNUSWIDELoads(t *testing.T) {
	dataDir := t.TempDir()
	spec := readDocsSuite(t, "nuswide.json")
	root := filepath.Join(dataDir, "NUS-WIDE")
	column := make(map[string]int, len(nusWIDEConcepts))
	for i, c := range nusWIDEConcepts {
		column[c] = i
	}
	var list, rows []string
	addImage := func(concepts ...string) {
		rel := fmt.Sprintf("Flickr/%s/%04d_%d.jpg", concepts[0], len(list)+1, 1000+len(list))
		writeJPEG(t, filepath.Join(root, filepath.FromSlash(rel)), 48, 36, len(list)%5)
		// Imagelist.txt of NUS-WIDE stores Windows paths.
		list = append(list, `C:\ImageData\`+strings.ReplaceAll(rel, "/", `\`))
		row := make([]string, len(nusWIDEConcepts))
		for i := range row {
			row[i] = "0"
		}
		for _, c := range concepts {
			row[column[c]] = "1"
		}
		rows = append(rows, strings.Join(row, " "))
	}
	for _, task := range spec.Tasks {
		for _, class := range task.Classes {
			addImage(class)
			addImage(class)
		}
	}
	addImage("dog", "sky")   // sky is not a class of the suite, so the label is dog
	addImage("dog", "beach") // two classes of the suite: skipped as ambiguous
	addImage("sky")          // no class of the suite: skipped as unlabelled
	writeText(t, filepath.Join(root, "ImageList", "Imagelist.txt"), strings.Join(list, "\r\n")+"\r\n")
	writeText(t, filepath.Join(root, "AllLabels81.txt"), strings.Join(rows, "\n")+"\n")
	writeText(t, filepath.Join(root, "Concepts81.txt"), strings.Join(nusWIDEConcepts, "\r\n")+"\r\n")

	s, err := data.LoadSuite(filepath.Join(docsSuitesDir, "nuswide.json"), data.LoadOptions{DataDir: dataDir})
	require.NoError(t, err, "LoadSuite(nuswide.json) on the documented layout")
	require.Len(t, s.Tasks, 3)
	checkSuiteSize(t, s, 3, 32, 32)
	counts := suiteClassCounts(s)
	assert.Equal(t, []int{3, 2, 2, 2}, counts["dog-beach-buildings-cars"], "images per class")
	assert.Equal(t, []int{2, 2, 2, 2}, counts["cat-lake-bridge-train"], "images per class")
	assert.Equal(t, []int{2, 2, 2, 2}, counts["horses-waterfall-tower-plane"], "images per class")
	require.Len(t, s.Reports, 1)
	var reasons []string
	for _, skip := range s.Reports[0].Skipped {
		reasons = append(reasons, skip.Reason)
	}
	slices.Sort(reasons)
	assert.Equal(t, []string{data.ReasonAmbiguous, data.ReasonNoLabel}, reasons, "skip reasons")
}

func TestDocsExampleCIFAR100Loads(t *testing.T) {
	// Both documented layouts: train.bin directly in the data folder, and
	// the cifar-100-binary folder that the archive extracts to.
	for _, sub := range []string{".", "cifar-100-binary"} {
		t.Run(sub, func(t *testing.T) {
			dataDir := t.TempDir()
			fine := data.CIFAR100FineClasses()
			var bin []byte
			for i := range 2 * len(fine) {
				record := make([]byte, data.CIFARRecordSize)
				record[1] = byte(i % len(fine))
				record[2+i%100] = 200
				bin = append(bin, record...)
			}
			writeText(t, filepath.Join(dataDir, sub, "train.bin"), string(bin))

			s, err := data.LoadSuite(filepath.Join(docsSuitesDir, "cifar100-dmtc.json"),
				data.LoadOptions{DataDir: dataDir})
			require.NoError(t, err, "LoadSuite(cifar100-dmtc.json) with train.bin in %s", sub)
			require.Len(t, s.Tasks, 3)
			checkSuiteSize(t, s, 3, 32, 32)
			for _, task := range s.Tasks {
				assert.Equal(t, []int{2, 2, 2, 2, 2}, suiteClassCounts(s)[task.Name],
					"task %s images per class", task.Name)
			}
		})
	}
}
