package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dmtc-go/dmtc/dmtc/data"
)

// The end-to-end tests run parseFlags and run on data that they write
// themselves, with a network small enough that a run takes well under a second.

const (
	tinyBNetEpochs = 1
	tinyWNetEpochs = 1
	// metricsCSVTol is the rounding of the six decimals in metrics.csv and
	// assignments.csv.
	metricsCSVTol = 5e-7
	// meanTol allows for the summation order of the mean scores.
	meanTol = 1e-12
)

// tinyArgs returns the flags of a tiny run that writes to out, then extra.
func tinyArgs(out string, extra ...string) []string {
	args := []string{
		"--bnet-epochs", strconv.Itoa(tinyBNetEpochs), "--wnet-epochs", strconv.Itoa(tinyWNetEpochs),
		"--large-batch", "16", "--batch-size", "4", "--width", "2", "--hidden", "8",
		"--disc-width", "4", "--kmeans-restarts", "1", "--threads", "1", "--out", out,
	}
	return append(args, extra...)
}

// runCommand parses args as the command line does and runs the command. It
// returns what the run printed and the run's error; a flag error fails the
// test.
func runCommand(t *testing.T, args []string) (string, error) {
	t.Helper()
	var stderr, stdout bytes.Buffer
	opt, err := parseFlags(args, &stderr)
	require.NoError(t, err, "parseFlags(%q) failed; stderr: %s", args, stderr.String())
	err = run(context.Background(), opt, &stdout)
	return stdout.String(), err
}

// wantTask is the expected content of one task of a run.
type wantTask struct {
	name    string
	classes []string
	labels  []int // task labels in task order
}

// --- synthetic CIFAR-100 ---

// cifarRecordsPerClass is the number of train.bin records that
// writeCIFAR100Dir writes for each class of cifar100-dmtc.
const cifarRecordsPerClass = 4

// cifar100DMTCTasks lists the tasks of the built-in cifar100-dmtc suite as
// documented in BuiltinSuite.
var cifar100DMTCTasks = []struct {
	name    string
	classes []string
}{
	{"hamster-oak-leopard-dolphin-bee", []string{"hamster", "oak_tree", "leopard", "dolphin", "bee"}},
	{"mouse-palm-lion-whale-beetle", []string{"mouse", "palm_tree", "lion", "whale", "beetle"}},
	{"squirrel-pine-tiger-shark-cockroach", []string{"squirrel", "pine_tree", "tiger", "shark", "cockroach"}},
}

// writeCIFAR100Dir writes a CIFAR-100 binary folder: fine_label_names.txt
// with the standard names and a train.bin of cifarRecordsPerClass records
// for each class of cifar100-dmtc, interleaved class by class, plus records
// of two classes that the suite does not use ("apple", "worm"). It returns
// the expected tasks of cifar100-dmtc on that folder.
func writeCIFAR100Dir(t *testing.T, dir string) []wantTask {
	t.Helper()
	names := data.CIFAR100FineClasses()
	fineLabel := make(map[string]int, len(names))
	for i, name := range names {
		fineLabel[name] = i
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "fine_label_names.txt"),
		[]byte(strings.Join(names, "\n")+"\n"), 0o644))

	var order []string // class of each record in file order
	for r := range cifarRecordsPerClass {
		if r == 1 {
			order = append(order, "apple") // a record of an unused class between used ones
		}
		for _, task := range cifar100DMTCTasks {
			order = append(order, task.classes...)
		}
	}
	order = append(order, "worm")

	var bin []byte
	for i, class := range order {
		fine, ok := fineLabel[class]
		require.True(t, ok, "class %q is not a CIFAR-100 fine class", class)
		record := make([]byte, data.CIFARRecordSize)
		record[0] = byte(fine % 20) // any valid coarse label
		record[1] = byte(fine)
		for j := range record[2:] {
			record[2+j] = byte((fine*37 + i*11 + j*(fine%7+1)) % 256)
		}
		bin = append(bin, record...)
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "train.bin"), bin, 0o644))

	var want []wantTask
	for _, task := range cifar100DMTCTasks {
		w := wantTask{name: task.name, classes: task.classes}
		for _, class := range order {
			for k, c := range task.classes {
				if c == class {
					w.labels = append(w.labels, k)
				}
			}
		}
		want = append(want, w)
	}
	return want
}

func TestE2ECIFAR100Builtin(t *testing.T) {
	dataDir := t.TempDir()
	want := writeCIFAR100Dir(t, dataDir)
	out := filepath.Join(t.TempDir(), "run")

	stdout, err := runCommand(t, tinyArgs(out, "--suite", "cifar100-dmtc", "--data-dir", dataDir))
	require.NoError(t, err, "dmtc-run --suite cifar100-dmtc --data-dir %s; output:\n%s", dataDir, stdout)

	n := 3 * 5 * cifarRecordsPerClass
	assert.Contains(t, stdout, fmt.Sprintf("suite cifar100-dmtc: 3 tasks, %d images of 3×32×32 (C×H×W)", n),
		"load summary")
	assert.Contains(t, stdout, "source cifar100-train: 62 images loaded, 0 files skipped", "load summary")
	checkRunOutput(t, out, runFlags{"cifar100-dmtc", 1}, "cifar100-dmtc", want)
}

// --- image folder in the Caltech-256 layout ---

// caltechClasses are the class folders that writeCaltechFolder writes, in
// the sorted order that the folder reader lists them.
var caltechClasses = []string{
	"010.beer-mug", "069.fighter-jet", "145.motorbikes-101", "178.school-bus", "251.airplanes-101",
}

const caltechImagesPerClass = 4

// writePNG encodes m as a PNG file at path.
func writePNG(t *testing.T, path string, m image.Image) {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, m), "encode %s", path)
	require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o644))
}

// classPattern returns the 8-bit value of pixel (x, y) of an image of class
// k: horizontal stripes, vertical stripes, a checkerboard, a diagonal ramp
// or a flat grey, shifted by the image number i.
func classPattern(k, i, x, y int) uint8 {
	switch k % 5 {
	case 0:
		return uint8(40 + 160*(y/2%2) + i)
	case 1:
		return uint8(40 + 160*(x/2%2) + i)
	case 2:
		return uint8(40 + 160*((x+y)%2) + i)
	case 3:
		return uint8(10*(x+y) + i)
	}
	return uint8(128 + i)
}

// writeCaltechFolder writes root/<class>/<nn>.png for caltechClasses,
// caltechImagesPerClass images a class of different sizes (width 9 to 13, height 9 to 12),
// RGB except one grey image a class, so the suite must set image_size.
func writeCaltechFolder(t *testing.T, root string) {
	t.Helper()
	for k, class := range caltechClasses {
		dir := filepath.Join(root, class)
		require.NoError(t, os.MkdirAll(dir, 0o755))
		for i := range caltechImagesPerClass {
			w, h := 9+i+k%2, 9+(i*5+k)%4
			var m image.Image
			if i == 2 {
				grey := image.NewGray(image.Rect(0, 0, w, h))
				for y := range h {
					for x := range w {
						grey.SetGray(x, y, color.Gray{Y: classPattern(k, i, x, y)})
					}
				}
				m = grey
			} else {
				rgb := image.NewNRGBA(image.Rect(0, 0, w, h))
				for y := range h {
					for x := range w {
						v := classPattern(k, i, x, y)
						rgb.SetNRGBA(x, y, color.NRGBA{R: v, G: 255 - v, B: uint8(k * 50), A: 255})
					}
				}
				m = rgb
			}
			writePNG(t, filepath.Join(dir, fmt.Sprintf("%04d.png", i+1)), m)
		}
	}
}

// caltechSuiteJSON is a suite over the folder of writeCaltechFolder, with
// the folder at path, 3×8×8 images and a cap of 3 on the first task.
func caltechSuiteJSON(path string) string {
	return `{
  "name": "caltech-tiny",
  "image_size": {"c": 3, "h": 8, "w": 8},
  "sources": [{"name": "caltech", "kind": "folder", "path": "` + path + `"}],
  "tasks": [
    {"name": "road-vehicles", "source": "caltech",
     "classes": ["145.motorbikes-101", "178.school-bus"], "per_class_cap": 3},
    {"name": "aircraft-mug", "source": "caltech",
     "classes": ["251.airplanes-101", "069.fighter-jet", "010.beer-mug"]}
  ]
}
`
}

// caltechWant is the expected tasks of caltechSuiteJSON: images keep the
// source order (class folders sorted, files sorted), labels index the task's
// class list, and the cap keeps the first 3 images of each class.
var caltechWant = []wantTask{
	{"road-vehicles", []string{"145.motorbikes-101", "178.school-bus"}, []int{0, 0, 0, 1, 1, 1}},
	{"aircraft-mug", []string{"251.airplanes-101", "069.fighter-jet", "010.beer-mug"},
		[]int{2, 2, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0}},
}

// writeCaltechSuite writes the image folder under dir/data/caltech and the
// suite file dir/suite.json, whose source path "data/caltech" is relative
// to the suite file. It returns the suite file's path.
func writeCaltechSuite(t *testing.T, dir string) string {
	t.Helper()
	writeCaltechFolder(t, filepath.Join(dir, "data", "caltech"))
	suite := filepath.Join(dir, "suite.json")
	require.NoError(t, os.WriteFile(suite, []byte(caltechSuiteJSON("data/caltech")), 0o644))
	return suite
}

func TestE2EImageFolderSuite(t *testing.T) {
	suite := writeCaltechSuite(t, t.TempDir())
	out := filepath.Join(t.TempDir(), "run")

	stdout, err := runCommand(t, tinyArgs(out, "--suite", suite))
	require.NoError(t, err, "dmtc-run --suite %s; output:\n%s", suite, stdout)

	assert.Contains(t, stdout, "suite caltech-tiny: 2 tasks, 18 images of 3×8×8 (C×H×W)", "load summary")
	assert.Contains(t, stdout, "source caltech: 20 images loaded, 0 files skipped", "load summary")
	checkRunOutput(t, out, runFlags{suite, 1}, "caltech-tiny", caltechWant)
}

func TestE2EImageFolderDataDir(t *testing.T) {
	// With --data-dir, a relative source path starts there and not at the
	// suite file's folder.
	dataDir := t.TempDir()
	writeCaltechFolder(t, filepath.Join(dataDir, "caltech"))
	suite := filepath.Join(t.TempDir(), "suite.json")
	require.NoError(t, os.WriteFile(suite, []byte(caltechSuiteJSON("caltech")), 0o644))
	out := filepath.Join(t.TempDir(), "run")

	stdout, err := runCommand(t, tinyArgs(out, "--suite", suite, "--data-dir", dataDir))
	require.NoError(t, err, "dmtc-run --suite %s --data-dir %s; output:\n%s", suite, dataDir, stdout)
	checkRunOutput(t, out, runFlags{suite, 1}, "caltech-tiny", caltechWant)
}

// --- output checks ---

type scores struct {
	ACC float64 `json:"acc"`
	NMI float64 `json:"nmi"`
	ARI float64 `json:"ari"`
}

type methodScores struct {
	KMeans scores `json:"kmeans"`
	Single scores `json:"single_task"`
	DMTC   scores `json:"dmtc"`
}

func (m methodScores) byMethod() map[string]scores {
	return map[string]scores{"kmeans": m.KMeans, "single_task": m.Single, "dmtc": m.DMTC}
}

type metricsFile struct {
	Suite string `json:"suite"`
	Tasks []struct {
		Name    string   `json:"name"`
		Classes []string `json:"classes"`
		Images  int      `json:"images"`
		methodScores
	} `json:"tasks"`
	Mean        methodScores `json:"mean"`
	Relatedness [][]float64  `json:"relatedness"`
}

// runFlags are the flag values of a run that its config.json records.
type runFlags struct {
	suite string // --suite, a name or a file path
	seed  uint64
}

// checkRunOutput checks every file of a finished run in dir against the
// flags of the run and the expected suite name and tasks.
func checkRunOutput(t *testing.T, dir string, flags runFlags, suite string, want []wantTask) {
	t.Helper()
	checkConfigJSON(t, dir, flags)
	checkLogJSONL(t, dir, want)
	metrics := checkMetricsJSON(t, dir, suite, want)
	checkMetricsCSV(t, dir, metrics)
	checkAssignmentsCSV(t, dir, want, metrics)
}

func checkConfigJSON(t *testing.T, dir string, flags runFlags) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "config.json"))
	require.NoError(t, err, "config.json")
	var config struct {
		Options  map[string]any `json:"options"`
		Resolved map[string]any `json:"resolved"`
	}
	require.NoError(t, json.Unmarshal(raw, &config), "config.json is not valid JSON:\n%s", raw)
	assert.Equal(t, flags.suite, config.Options["suite"], "config.json options.suite")
	assert.Equal(t, float64(flags.seed), config.Options["seed"], "config.json options.seed")
	assert.Equal(t, 2.0, config.Options["width"], "config.json options.width")
	assert.NotEmpty(t, config.Resolved, "config.json resolved")
}

// checkLogJSONL checks that every line of log.jsonl is a JSON object and
// that the epoch records match the phases: one B-net epoch, then per task
// its W-net epochs, then per task its single-task epochs (B-net plus W-net
// epochs).
func checkLogJSONL(t *testing.T, dir string, want []wantTask) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "log.jsonl"))
	require.NoError(t, err, "log.jsonl")
	lines := strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n")

	wantPhases := []string{"k-means", "B-net"}
	wantEpochs := map[string]int{"B-net": tinyBNetEpochs}
	for _, task := range want {
		wantPhases = append(wantPhases, "W-net "+task.name)
		wantEpochs["W-net "+task.name] = tinyWNetEpochs
	}
	for _, task := range want {
		wantPhases = append(wantPhases, "single "+task.name)
		wantEpochs["single "+task.name] = tinyBNetEpochs + tinyWNetEpochs
	}

	var phases []string
	epochs := map[string]int{}
	for i, line := range lines {
		var record map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &record), "log.jsonl line %d is not JSON: %s",
			i+1, line)
		phase, _ := record["phase"].(string)
		switch record["event"] {
		case "phase":
			phases = append(phases, phase)
		case "epoch":
			epochs[phase]++
			assert.Equal(t, float64(epochs[phase]), record["epoch"], "log.jsonl line %d: epoch number of %q",
				i+1, phase)
			assert.Equal(t, float64(wantEpochs[phase]), record["epochs"], "log.jsonl line %d: epochs of %q",
				i+1, phase)
			if loss, ok := record["loss"].(float64); ok {
				assert.GreaterOrEqual(t, loss, 0.0, "log.jsonl line %d: loss", i+1)
			}
		default:
			t.Errorf("log.jsonl line %d: unknown event %v", i+1, record["event"])
		}
	}
	assert.Equal(t, wantPhases, phases, "log.jsonl phase records")
	assert.Equal(t, wantEpochs, epochs, "log.jsonl epoch records per phase")
}

// checkScores checks that ACC and NMI lie in [0, 1] and ARI in [-1, 1].
func checkScores(t *testing.T, where string, s scores) {
	t.Helper()
	assert.True(t, s.ACC >= 0 && s.ACC <= 1, "%s: ACC %v, want [0, 1]", where, s.ACC)
	assert.True(t, s.NMI >= 0 && s.NMI <= 1, "%s: NMI %v, want [0, 1]", where, s.NMI)
	assert.True(t, s.ARI >= -1 && s.ARI <= 1, "%s: ARI %v, want [-1, 1]", where, s.ARI)
}

func checkMetricsJSON(t *testing.T, dir, suite string, want []wantTask) metricsFile {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "metrics.json"))
	require.NoError(t, err, "metrics.json")
	var m metricsFile
	require.NoError(t, json.Unmarshal(raw, &m), "metrics.json is not valid JSON:\n%s", raw)
	assert.Equal(t, suite, m.Suite, "metrics.json suite")
	require.Len(t, m.Tasks, len(want), "metrics.json tasks")

	sums := map[string]scores{}
	for i, task := range m.Tasks {
		assert.Equal(t, want[i].name, task.Name, "metrics.json tasks[%d].name", i)
		assert.Equal(t, want[i].classes, task.Classes, "metrics.json tasks[%d].classes", i)
		assert.Equal(t, len(want[i].labels), task.Images, "metrics.json tasks[%d].images", i)
		for method, s := range task.byMethod() {
			checkScores(t, fmt.Sprintf("metrics.json tasks[%d].%s", i, method), s)
			sum := sums[method]
			sum.ACC, sum.NMI, sum.ARI = sum.ACC+s.ACC, sum.NMI+s.NMI, sum.ARI+s.ARI
			sums[method] = sum
		}
	}
	count := float64(len(want))
	for method, mean := range m.Mean.byMethod() {
		sum := sums[method]
		assert.InDelta(t, sum.ACC/count, mean.ACC, meanTol, "metrics.json mean.%s.acc", method)
		assert.InDelta(t, sum.NMI/count, mean.NMI, meanTol, "metrics.json mean.%s.nmi", method)
		assert.InDelta(t, sum.ARI/count, mean.ARI, meanTol, "metrics.json mean.%s.ari", method)
	}
	assert.Len(t, m.Relatedness, len(want), "metrics.json relatedness rows")
	return m
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err, "%s is not valid CSV", path)
	require.NotEmpty(t, rows, "%s has no header", path)
	return rows
}

func parseFloat(t *testing.T, where, s string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(s, 64)
	require.NoError(t, err, "%s: %q is not a number", where, s)
	return v
}

// checkMetricsCSV checks that metrics.csv contains the scores of metrics.json,
// one row per task and method.
func checkMetricsCSV(t *testing.T, dir string, m metricsFile) {
	t.Helper()
	rows := readCSV(t, filepath.Join(dir, "metrics.csv"))
	assert.Equal(t, []string{"task", "method", "acc", "nmi", "ari"}, rows[0], "metrics.csv header")
	require.Len(t, rows, 1+3*len(m.Tasks), "metrics.csv rows")
	for i, task := range m.Tasks {
		for j, method := range []string{"kmeans", "single_task", "dmtc"} {
			row := rows[1+3*i+j]
			where := fmt.Sprintf("metrics.csv row %d", 2+3*i+j)
			require.Len(t, row, 5, where)
			assert.Equal(t, task.Name, row[0], "%s task", where)
			assert.Equal(t, method, row[1], "%s method", where)
			s := task.byMethod()[method]
			assert.InDelta(t, s.ACC, parseFloat(t, where, row[2]), metricsCSVTol, "%s acc", where)
			assert.InDelta(t, s.NMI, parseFloat(t, where, row[3]), metricsCSVTol, "%s nmi", where)
			assert.InDelta(t, s.ARI, parseFloat(t, where, row[4]), metricsCSVTol, "%s ari", where)
		}
	}
}

// checkAssignmentsCSV checks assignments.csv: one row per image in task
// order with the expected label, a cluster in [0, K) and a confidence in
// [1/K, 1], the maximum of K probabilities. It also recomputes each task's
// DMTC accuracy from the rows and compares it with metrics.json.
func checkAssignmentsCSV(t *testing.T, dir string, want []wantTask, m metricsFile) {
	t.Helper()
	rows := readCSV(t, filepath.Join(dir, "assignments.csv"))
	assert.Equal(t, []string{"task", "index", "label", "cluster", "confidence"}, rows[0],
		"assignments.csv header")
	rows = rows[1:]
	total := 0
	for _, task := range want {
		total += len(task.labels)
	}
	require.Len(t, rows, total, "assignments.csv rows")

	for ti, task := range want {
		k := len(task.classes)
		labels := make([]int, len(task.labels))
		clusters := make([]int, len(task.labels))
		for i := range task.labels {
			row := rows[0]
			rows = rows[1:]
			where := fmt.Sprintf("assignments.csv task %s image %d", task.name, i)
			require.Len(t, row, 5, where)
			assert.Equal(t, task.name, row[0], "%s: task", where)
			assert.Equal(t, strconv.Itoa(i), row[1], "%s: index", where)
			assert.Equal(t, strconv.Itoa(task.labels[i]), row[2], "%s: label", where)
			labels[i], _ = strconv.Atoi(row[2])
			cluster, err := strconv.Atoi(row[3])
			require.NoError(t, err, "%s: cluster %q", where, row[3])
			assert.True(t, cluster >= 0 && cluster < k, "%s: cluster %d, want [0, %d)", where, cluster, k)
			clusters[i] = cluster
			conf := parseFloat(t, where, row[4])
			assert.True(t, conf >= 1/float64(k)-metricsCSVTol && conf <= 1,
				"%s: confidence %v, want [1/%d, 1]", where, conf, k)
		}
		acc := bestMatchAccuracy(labels, clusters, k)
		assert.InDelta(t, m.Tasks[ti].DMTC.ACC, acc, meanTol,
			"task %s: ACC from assignments.csv (best one-to-one cluster-to-class map) vs metrics.json", task.name)
	}
}

// bestMatchAccuracy returns the clustering accuracy under the best
// one-to-one map of k clusters to k classes, found by trying all k!
// permutations, so it is independent of the Hungarian solver that the run
// uses. k must be small.
func bestMatchAccuracy(labels, clusters []int, k int) float64 {
	counts := make([][]int, k) // counts[cluster][label]
	for i := range counts {
		counts[i] = make([]int, k)
	}
	for i := range labels {
		counts[clusters[i]][labels[i]]++
	}
	perm := make([]int, k)
	for i := range perm {
		perm[i] = i
	}
	best := 0
	var permute func(int)
	permute = func(pos int) {
		if pos == k {
			hits := 0
			for c, l := range perm {
				hits += counts[c][l]
			}
			best = max(best, hits)
			return
		}
		for i := pos; i < k; i++ {
			perm[pos], perm[i] = perm[i], perm[pos]
			permute(pos + 1)
			perm[pos], perm[i] = perm[i], perm[pos]
		}
	}
	permute(0)
	return float64(best) / float64(len(labels))
}

func TestE2EBestMatchAccuracy(t *testing.T) {
	// Clusters 0→2, 1→0, 2→1 fit 5 of 6 images; the identity map fits 1.
	labels := []int{2, 2, 0, 0, 1, 1}
	clusters := []int{0, 0, 1, 1, 2, 0}
	assert.InDelta(t, 5.0/6, bestMatchAccuracy(labels, clusters, 3), meanTol)
	// All images in one cluster fit the largest class only.
	assert.InDelta(t, 3.0/6, bestMatchAccuracy([]int{0, 0, 0, 1, 1, 2}, make([]int, 6), 3), meanTol)
}

// --- bad inputs ---

// checkRejected checks that err is an error whose message contains every
// fragment, and that the run wrote no metrics.json to out.
func checkRejected(t *testing.T, err error, stdout, out string, fragments ...string) {
	t.Helper()
	require.Error(t, err, "run succeeded; output:\n%s", stdout)
	for _, fragment := range fragments {
		assert.Contains(t, err.Error(), fragment, "error message")
	}
	_, statErr := os.Stat(filepath.Join(out, "metrics.json"))
	assert.True(t, os.IsNotExist(statErr), "metrics.json was written to %s after error %v", out, err)
}

func TestE2EUnknownSuiteName(t *testing.T) {
	out := filepath.Join(t.TempDir(), "run")
	stdout, err := runCommand(t, tinyArgs(out, "--suite", "cifar10"))
	checkRejected(t, err, stdout, out, `unknown suite "cifar10"`, "fashion3, mnist, cifar100-dmtc", ".json")
}

func TestE2ESuiteFileUnknownClass(t *testing.T) {
	dir := t.TempDir()
	writeCaltechFolder(t, filepath.Join(dir, "caltech"))
	suite := filepath.Join(dir, "suite.json")
	spec := strings.Replace(caltechSuiteJSON("caltech"), `"251.airplanes-101"`, `"251.airplane"`, 1)
	require.NoError(t, os.WriteFile(suite, []byte(spec), 0o644))
	out := filepath.Join(t.TempDir(), "run")

	stdout, err := runCommand(t, tinyArgs(out, "--suite", suite))
	checkRejected(t, err, stdout, out, "tasks[1] (aircraft-mug)", `classes[0]: unknown class "251.airplane"`,
		`"251.airplanes-101"`)
}

func TestE2ESuiteFileUnknownField(t *testing.T) {
	dir := t.TempDir()
	suite := filepath.Join(dir, "suite.json")
	spec := strings.Replace(caltechSuiteJSON("caltech"), `"per_class_cap"`, `"per_class_cup"`, 1)
	require.NoError(t, os.WriteFile(suite, []byte(spec), 0o644))
	out := filepath.Join(t.TempDir(), "run")

	stdout, err := runCommand(t, tinyArgs(out, "--suite", suite))
	checkRejected(t, err, stdout, out, suite, `unknown field "per_class_cup"`)
}

func TestE2EEmptyDataDir(t *testing.T) {
	for _, tc := range []struct {
		suite     string
		fragments []string
	}{
		{"cifar100-dmtc", []string{"no usable CIFAR-100 files in", "train.bin"}},
		{"mnist", []string{"no usable IDX files in", "train-images-idx3-ubyte"}},
	} {
		t.Run(tc.suite, func(t *testing.T) {
			dataDir := t.TempDir()
			out := filepath.Join(t.TempDir(), "run")
			stdout, err := runCommand(t, tinyArgs(out, "--suite", tc.suite, "--data-dir", dataDir))
			checkRejected(t, err, stdout, out, append(tc.fragments, dataDir)...)
		})
	}
}

// writeCorruptPNG writes the first 60 bytes of a valid PNG to path: the
// header decodes, the image data does not.
func writeCorruptPNG(t *testing.T, path string) {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, image.NewGray(image.Rect(0, 0, 9, 9))))
	require.NoError(t, os.WriteFile(path, buf.Bytes()[:60], 0o644))
}

func TestE2EStrictCorruptImage(t *testing.T) {
	dir := t.TempDir()
	suite := writeCaltechSuite(t, dir)
	corrupt := filepath.Join(dir, "data", "caltech", "069.fighter-jet", "0003b.png")
	writeCorruptPNG(t, corrupt)

	// Without --strict the corrupt file is skipped, reported, and the
	// tasks are the same as without it.
	out := filepath.Join(t.TempDir(), "run")
	stdout, err := runCommand(t, tinyArgs(out, "--suite", suite))
	require.NoError(t, err, "dmtc-run --suite %s; output:\n%s", suite, stdout)
	assert.Contains(t, stdout, "source caltech: 20 images loaded, 1 files skipped", "load summary")
	assert.Contains(t, stdout, "unreadable: 1, first "+corrupt, "load summary")
	checkRunOutput(t, out, runFlags{suite, 1}, "caltech-tiny", caltechWant)

	out = filepath.Join(t.TempDir(), "run")
	stdout, err = runCommand(t, tinyArgs(out, "--suite", suite, "--strict"))
	checkRejected(t, err, stdout, out, "strict mode", corrupt, "unreadable")
}

func TestE2EUnknownDevice(t *testing.T) {
	suite := writeCaltechSuite(t, t.TempDir())
	out := filepath.Join(t.TempDir(), "run")
	stdout, err := runCommand(t, tinyArgs(out, "--suite", suite, "--device", "nonsense"))
	checkRejected(t, err, stdout, out, `--device "nonsense"`, "cpu or cuda")
}

func TestE2EFinishedOutputDir(t *testing.T) {
	suite := writeCaltechSuite(t, t.TempDir())
	out := t.TempDir()
	metrics := []byte(`{"suite": "earlier run"}` + "\n")
	log := []byte(`{"event": "phase", "phase": "earlier run"}` + "\n")
	require.NoError(t, os.WriteFile(filepath.Join(out, "metrics.json"), metrics, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(out, "log.jsonl"), log, 0o644))

	stdout, err := runCommand(t, tinyArgs(out, "--suite", suite))
	require.Error(t, err, "run into a finished output dir succeeded; output:\n%s", stdout)
	assert.Contains(t, err.Error(), "already contains a finished run", "error message")
	assert.Contains(t, err.Error(), out, "error message")
	for name, content := range map[string][]byte{"metrics.json": metrics, "log.jsonl": log} {
		got, readErr := os.ReadFile(filepath.Join(out, name))
		require.NoError(t, readErr)
		assert.Equal(t, string(content), string(got), "%s of the earlier run was changed", name)
	}
}

// --- determinism ---

func TestE2EDeterministicAssignments(t *testing.T) {
	suite := writeCaltechSuite(t, t.TempDir())
	var assignments, metrics [2][]byte
	for i := range 2 {
		out := filepath.Join(t.TempDir(), "run")
		args := tinyArgs(out, "--suite", suite, "--seed", "7", "--threads", "2", "--workers", "2")
		stdout, err := runCommand(t, args)
		require.NoError(t, err, "run %d: dmtc-run %q; output:\n%s", i, args, stdout)
		checkRunOutput(t, out, runFlags{suite, 7}, "caltech-tiny", caltechWant)
		assignments[i], err = os.ReadFile(filepath.Join(out, "assignments.csv"))
		require.NoError(t, err)
		metrics[i], err = os.ReadFile(filepath.Join(out, "metrics.csv"))
		require.NoError(t, err)
	}
	assert.Equal(t, string(assignments[0]), string(assignments[1]),
		"assignments.csv differs between two runs with --seed 7 --threads 2")
	assert.Equal(t, string(metrics[0]), string(metrics[1]),
		"metrics.csv differs between two runs with --seed 7 --threads 2")
}

func TestE2ENonEmptyOutputRejected(t *testing.T) {
	out := t.TempDir()
	notes := filepath.Join(out, "notes.txt")
	require.NoError(t, os.WriteFile(notes, []byte("keep me"), 0o644))
	_, err := runCommand(t, tinyArgs(out))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "is not empty (it contains notes.txt)")
	kept, err := os.ReadFile(notes)
	require.NoError(t, err)
	assert.Equal(t, "keep me", string(kept), "existing file")
	_, err = os.Stat(filepath.Join(out, "config.json"))
	assert.True(t, os.IsNotExist(err), "config.json written into a non-empty folder")
}

func TestE2EInvalidSettingsFailBeforeOutput(t *testing.T) {
	cases := map[string][]string{
		"large batch below K": {"--large-batch", "2"},
		"NaN weight":          {"--w-mi", "NaN"},
		"infinite lr":         {"--wnet-lr", "+Inf"},
		"knn too large":       {"--knn", "40", "--large-batch", "32"},
		"width too large":     {"--width", "100000"},
		"zero temperature":    {"--head-temperature", "0"},
		"NaN temperature":     {"--head-temperature", "NaN"},
	}
	for name, extra := range cases {
		t.Run(name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "run")
			_, err := runCommand(t, tinyArgs(out, extra...))
			require.Error(t, err)
			_, statErr := os.Stat(out)
			assert.True(t, os.IsNotExist(statErr), "output folder created for an invalid setting")
		})
	}
}
