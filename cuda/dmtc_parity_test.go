//go:build cuda || cudaemu

package cuda

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dmtc-go/dmtc/dmtc"
	"github.com/dmtc-go/dmtc/dmtc/data"
	"github.com/dmtc-go/dmtc/nn"
)

// parityTasks returns two small tasks of 8×8 grey images, two classes each:
// bright top half against bright bottom half, and left against right, with
// noise, so that training has something to find.
func parityTasks(perClass int) []data.Task {
	rng := rand.New(rand.NewPCG(3, 3))
	var tasks []data.Task
	for t, name := range []string{"rows", "columns"} {
		task := data.Task{Name: name, Classes: []string{"a", "b"}, C: 1, H: 8, W: 8}
		for i := 0; i < 2*perClass; i++ {
			class := i % 2
			for y := 0; y < 8; y++ {
				for x := 0; x < 8; x++ {
					pos := y
					if t == 1 {
						pos = x
					}
					v := 0.1
					if (pos < 4) == (class == 0) {
						v = 0.8
					}
					task.X = append(task.X, float32(v+0.1*rng.Float64()))
				}
			}
			task.Labels = append(task.Labels, class)
		}
		tasks = append(tasks, task)
	}
	return tasks
}

// TestDMTCRunMatchesCPU runs the whole pipeline (k-means, B-net, relatedness,
// W-nets, single-task baselines) once on the GPU backend and once on the CPU
// reference with the same seed, and compares the assignments.
func TestDMTCRunMatchesCPU(t *testing.T) {
	// Float32 rounding differs between the backends (GPU reductions sum in
	// another order), and training amplifies it over the steps, so the runs
	// are not bit-identical. After a few steps the confidences stay within
	// confTol, and at most a small share of images may change cluster.
	const confTol = 2e-2
	const maxChanged = 0.05
	gpu := newTestGPU(t)
	step := dmtc.TrainConfig{
		Epochs: 2, LargeBatch: 16, BatchSize: 4, Passes: 1,
		Graph:  dmtc.GraphConfig{Tau: 0.95, Confidence: 0.9},
		WLabel: 5, WGraph: 1, WMI: 0.05, LR: 1e-3, Alpha: 0.9,
		Augment: data.AugmentOptions{MaxShift: 1}, Workers: 2,
	}
	cfg := dmtc.Config{
		Width: 2, Hidden: 8, DiscWidth: 4, BNet: step, WNet: step, HeadTemperature: 2, Seed: 11,
		KMeansRestarts: 1, Threads: 1, RelatednessPerTask: 8, PredictChunk: 16,
	}
	tasks := parityTasks(10)

	want, err := dmtc.Run(context.Background(), nn.NewCPU(1), tasks, cfg, dmtc.Events{})
	require.NoError(t, err, "CPU run")
	got, err := dmtc.Run(context.Background(), gpu, tasks, cfg, dmtc.Events{})
	require.NoError(t, err, "%s run", gpu.Name())

	for i := range tasks {
		w, g := want.Tasks[i], got.Tasks[i]
		assert.Equal(t, w.KMeansClusters, g.KMeansClusters, "task %s: k-means runs on the host", w.Name)
		changed := 0
		worst, worstAt := 0.0, -1
		for j := range w.Clusters {
			if w.Clusters[j] != g.Clusters[j] {
				changed++
				continue
			}
			if d := math.Abs(float64(w.Confidence[j] - g.Confidence[j])); d > worst {
				worst, worstAt = d, j
			}
		}
		t.Logf("task %s: DMTC ACC cpu %.3f, %s %.3f; %d of %d images changed cluster; worst confidence gap %.2g",
			w.Name, w.DMTC.ACC, gpu.Name(), g.DMTC.ACC, changed, len(w.Clusters), worst)
		assert.LessOrEqual(t, float64(changed), maxChanged*float64(len(w.Clusters)),
			"task %s: %d of %d images changed cluster", w.Name, changed, len(w.Clusters))
		assert.LessOrEqual(t, worst, confTol, "task %s: confidence of image %d: got %g, want %g",
			w.Name, worstAt, pick(g.Confidence, worstAt), pick(w.Confidence, worstAt))
	}
}

func pick(v []float32, i int) float32 {
	if i < 0 {
		return float32(math.NaN())
	}
	return v[i]
}
