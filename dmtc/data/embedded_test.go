package data

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dmtc-go/dmtc/third_party/fashionmnist"
)

// fashion3Labels lists the Fashion-MNIST labels of each fashion3 task, in
// task class order.
var fashion3Labels = [][]int{{0, 1, 5}, {2, 3, 7}, {4, 8, 9}}

// gunzipSkip decompresses data with the standard library alone and drops the
// first skip bytes, the IDX header.
func gunzipSkip(t *testing.T, data []byte, skip int) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(data))
	require.NoError(t, err)
	raw, err := io.ReadAll(zr)
	require.NoError(t, err)
	return raw[skip:]
}

// checkFashion3 compares the tasks of suite with the raw IDX bytes: for task
// t, every image whose label is in fashion3Labels[t], in file order, with
// the pixel values byte/255 and the label's index in the task.
func checkFashion3(t *testing.T, suite *Suite, pix, labels []byte, perClass int) {
	t.Helper()
	const imageSize = 28 * 28
	require.Len(t, suite.Tasks, 3)
	for ti, task := range suite.Tasks {
		taskLabel := map[int]int{}
		for k, label := range fashion3Labels[ti] {
			taskLabel[label] = k
			assert.Equal(t, FashionMNISTClasses()[label], task.Classes[k], "task %d class %d", ti, k)
		}
		require.Equal(t, 3*perClass, task.N(), "task %s images", task.Name)
		require.Equal(t, []int{1, 28, 28}, []int{task.C, task.H, task.W}, "task %s size", task.Name)
		require.Len(t, task.X, task.N()*imageSize, "task %s X", task.Name)
		j := 0
		for i, label := range labels {
			k, ok := taskLabel[int(label)]
			if !ok {
				continue
			}
			require.Less(t, j, task.N(), "task %s: more matching images than in the task", task.Name)
			require.Equal(t, k, task.Labels[j], "task %s image %d (file image %d): label", task.Name, j, i)
			got := task.ImageAt(j)
			for p := range imageSize {
				want := float32(pix[i*imageSize+p]) / 255
				if got[p] != want {
					require.Failf(t, "pixel mismatch", "task %s image %d (file image %d) pixel %d: got %v, want %v",
						task.Name, j, i, p, got[p], want)
				}
			}
			j++
		}
		require.Equal(t, task.N(), j, "task %s: images in the file", task.Name)
		counts := make([]int, 3)
		for _, k := range task.Labels {
			counts[k]++
		}
		assert.Equal(t, []int{perClass, perClass, perClass}, counts, "task %s per class", task.Name)
	}
}

func TestFashion3EmbeddedMatchesIDXBytes(t *testing.T) {
	suite, err := LoadSuite(SuiteFashion3, LoadOptions{Strict: true})
	require.NoError(t, err)
	assert.Equal(t, "fashion3", suite.Name)
	assert.Equal(t, []string{"tshirt-trouser-sandal", "pullover-dress-sneaker", "coat-bag-ankleboot"},
		[]string{suite.Tasks[0].Name, suite.Tasks[1].Name, suite.Tasks[2].Name})
	total := 0
	for _, task := range suite.Tasks {
		total += task.N()
	}
	assert.Equal(t, 9000, total)
	assert.Equal(t, []LoadReport{{Source: EmbeddedFashionMNISTName, Loaded: 10000}}, suite.Reports)

	pix := gunzipSkip(t, fashionmnist.TestImagesGz, 16)
	labels := gunzipSkip(t, fashionmnist.TestLabelsGz, 8)
	require.Len(t, pix, 10000*28*28)
	require.Len(t, labels, 10000)
	checkFashion3(t, suite, pix, labels, 1000)
}

func TestLoadEmbeddedFashionMNIST(t *testing.T) {
	src, err := LoadEmbeddedFashionMNIST()
	require.NoError(t, err)
	assert.Equal(t, 10000, src.Len())
	assert.Equal(t, FashionMNISTClasses(), src.Classes())
	counts := make([]int, 10)
	for i := range src.Len() {
		counts[src.Label(i)]++
	}
	assert.Equal(t, []int{1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000}, counts)
}

// fashionMNISTDir is where Debian's dataset-fashion-mnist package installs
// the four gzip-compressed IDX files.
const fashionMNISTDir = "/usr/share/datasets/fashion-mnist"

func TestFashion3DataDirFullSet(t *testing.T) {
	if _, err := os.Stat(filepath.Join(fashionMNISTDir, "train-images-idx3-ubyte.gz")); err != nil {
		t.Skipf("Debian package dataset-fashion-mnist not installed: %v", err)
	}
	suite, err := LoadSuite(SuiteFashion3, LoadOptions{DataDir: fashionMNISTDir, Strict: true})
	require.NoError(t, err)
	require.Len(t, suite.Reports, 1)
	assert.Equal(t, 70000, suite.Reports[0].Loaded)
	assert.Empty(t, suite.Reports[0].Skipped)

	read := func(name string, skip int) []byte {
		data, err := os.ReadFile(filepath.Join(fashionMNISTDir, name))
		require.NoError(t, err)
		return gunzipSkip(t, data, skip)
	}
	pix := append(read("train-images-idx3-ubyte.gz", 16), read("t10k-images-idx3-ubyte.gz", 16)...)
	labels := append(read("train-labels-idx1-ubyte.gz", 8), read("t10k-labels-idx1-ubyte.gz", 8)...)
	checkFashion3(t, suite, pix, labels, 7000)
}
