package dmtc

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/dmtc-go/dmtc/dmtc/cluster"
	"github.com/dmtc-go/dmtc/dmtc/data"
	"github.com/dmtc-go/dmtc/dmtc/metrics"
	"github.com/dmtc-go/dmtc/nn"
)

// Config is a whole DMTC run: network shape, the two training phases, and
// the baselines.
type Config struct {
	Width, Hidden, DiscWidth int
	// BNet trains the between-task network on all tasks pooled. WNet trains
	// each within-task network.
	BNet, WNet TrainConfig
	// BNetK is the number of clusters of the B-net's head, zero for twice
	// the largest K_t, so that unlike classes of different tasks need not
	// share a cluster (on fashion3, 6 beat both 3 and ΣK_t = 9).
	BNetK int
	// HeadTemperature divides the k-means logits that each W-net's head
	// starts from (see HeadInit).
	HeadTemperature float32
	// Seed is the root of every random choice of the run.
	Seed uint64
	// KMeansRestarts is the number of k-means++ restarts of the pixel
	// baseline; the one with the lowest inertia is kept.
	KMeansRestarts int
	// Threads is the number of k-means threads.
	Threads int
	// RelatednessPerTask caps the images per task used to estimate task
	// relatedness.
	RelatednessPerTask int
	// PredictChunk is the batch size of evaluation passes.
	PredictChunk int
}

// SingleTaskEpochs returns the epochs of each single-task baseline network:
// the W-net epochs plus the task's share of the B-net, which all numTasks
// tasks share, rounded up. The baselines then take as many gradient steps in
// total as DMTC does.
func SingleTaskEpochs(cfg Config, numTasks int) int {
	return cfg.WNet.Epochs + (cfg.BNet.Epochs+numTasks-1)/numTasks
}

// Validate checks every setting of c and names the first invalid one.
func (c Config) Validate() error {
	if c.Width < 1 || c.Hidden < 1 || c.DiscWidth < 1 {
		return fmt.Errorf("dmtc: width %d, hidden %d and discriminator width %d must all be positive",
			c.Width, c.Hidden, c.DiscWidth)
	}
	// Limits far above any useful size, to turn typing slips into errors
	// rather than an out-of-memory crash.
	const maxWidth, maxHidden, maxK = 4096, 1 << 16, 1 << 16
	if c.Width > maxWidth || c.Hidden > maxHidden || c.DiscWidth > maxHidden || c.BNetK > maxK {
		return fmt.Errorf("dmtc: width %d, hidden %d, discriminator width %d or B-net clusters %d is too large: the limits are %d, %d, %d and %d",
			c.Width, c.Hidden, c.DiscWidth, c.BNetK, maxWidth, maxHidden, maxHidden, maxK)
	}
	if err := c.BNet.validate(); err != nil {
		return fmt.Errorf("B-net: %w", err)
	}
	if err := c.WNet.validate(); err != nil {
		return fmt.Errorf("W-net: %w", err)
	}
	if c.BNetK < 0 || c.BNetK == 1 {
		return fmt.Errorf("dmtc: B-net clusters %d: use 0 for twice the largest task's cluster count, or at least 2", c.BNetK)
	}
	if err := checkHeadTemperature(c.HeadTemperature); err != nil {
		return err
	}
	if c.KMeansRestarts < 1 || c.RelatednessPerTask < 1 || c.PredictChunk < 1 {
		return fmt.Errorf("dmtc: k-means restarts %d, relatedness images per task %d and evaluation batch %d must all be positive",
			c.KMeansRestarts, c.RelatednessPerTask, c.PredictChunk)
	}
	return nil
}

// maxActivationBytes bounds the largest activation of a pseudo-graph pass,
// the first block's output over the large batch. Far larger settings are
// almost always typing slips that would exhaust memory; the limit is a
// round number, not a measured capacity.
const maxActivationBytes = 8 << 30

// CheckTasks validates cfg and checks that tasks can be trained with it, so
// that a run fails before its output is written or any training starts.
func CheckTasks(tasks []data.Task, cfg Config) error {
	if len(tasks) == 0 {
		return fmt.Errorf("dmtc: no tasks to cluster")
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	first := tasks[0]
	for _, t := range tasks {
		if t.C != first.C || t.H != first.H || t.W != first.W {
			return fmt.Errorf("dmtc: task %q has images (%d,%d,%d), task %q has (%d,%d,%d): all tasks need one size",
				t.Name, t.C, t.H, t.W, first.Name, first.C, first.H, first.W)
		}
		if t.K() < 2 || t.N() < t.K() {
			return fmt.Errorf("dmtc: task %q has %d images and %d classes: need at least 2 classes and one image per cluster",
				t.Name, t.N(), t.K())
		}
		for _, phase := range []struct {
			name  string
			large int
		}{{"B-net", cfg.BNet.LargeBatch}, {"W-net", cfg.WNet.LargeBatch}} {
			if phase.large < t.K() {
				return fmt.Errorf("dmtc: %s large batch %d is smaller than the %d clusters of task %q; use at least %d",
					phase.name, phase.large, t.K(), t.Name, t.K())
			}
		}
	}
	net := NetConfig{C: first.C, H: first.H, W: first.W, Width: cfg.Width, Hidden: cfg.Hidden,
		K: 2, DiscWidth: cfg.DiscWidth}
	if err := net.validate(); err != nil {
		return fmt.Errorf("%w (images are %d×%d×%d)", err, first.C, first.H, first.W)
	}
	large := max(cfg.BNet.LargeBatch, cfg.WNet.LargeBatch)
	bytes := 4 * float64(large) * float64(cfg.Width) * float64(first.H) * float64(first.W)
	if bytes > maxActivationBytes {
		return fmt.Errorf("dmtc: a large batch of %d images of %d×%d at width %d needs %.0f GiB for one activation (limit %d GiB); lower the large batch, the width or the image size",
			large, first.H, first.W, cfg.Width, bytes/(1<<30), maxActivationBytes>>30)
	}
	return nil
}

// Scores are the label metrics of one clustering.
type Scores struct {
	ACC, NMI, ARI float64
}

// TaskResult is the outcome for one task.
type TaskResult struct {
	Name    string
	Classes []string
	Labels  []int // ground truth
	// KMeans, Single and DMTC score the k-means++ pixel baseline, the
	// single-task network trained from scratch (see SingleTaskEpochs), and
	// the DMTC W-net.
	KMeans, Single, DMTC Scores
	// Clusters and Confidence are the DMTC assignment of each image and its
	// max probability.
	Clusters   []int
	Confidence []float32
	// SingleClusters is the single-task baseline's assignment.
	SingleClusters []int
	KMeansClusters []int
}

// Result is the outcome of a run.
type Result struct {
	Tasks       []TaskResult
	Relatedness Relatedness
}

// Mean returns the mean scores over tasks of the three methods.
func (r *Result) Mean() (kmeans, single, dmtc Scores) {
	n := float64(len(r.Tasks))
	for _, t := range r.Tasks {
		kmeans = addScores(kmeans, t.KMeans, 1/n)
		single = addScores(single, t.Single, 1/n)
		dmtc = addScores(dmtc, t.DMTC, 1/n)
	}
	return kmeans, single, dmtc
}

func addScores(a, b Scores, w float64) Scores {
	return Scores{ACC: a.ACC + w*b.ACC, NMI: a.NMI + w*b.NMI, ARI: a.ARI + w*b.ARI}
}

// Events receives progress from Run. Nil fields are ignored.
type Events struct {
	// Phase is called when a phase starts, e.g. "k-means", "B-net".
	Phase func(name string)
	Epoch func(EpochStats)
}

func (e Events) phase(name string) {
	if e.Phase != nil {
		e.Phase(name)
	}
}

// Score computes ACC, NMI and ARI of pred against truth.
func Score(truth, pred []int) (Scores, error) {
	acc, err := metrics.ACC(truth, pred)
	if err != nil {
		return Scores{}, err
	}
	nmi, err := metrics.NMI(truth, pred)
	if err != nil {
		return Scores{}, err
	}
	ari, err := metrics.ARI(truth, pred)
	if err != nil {
		return Scores{}, err
	}
	return Scores{ACC: acc, NMI: nmi, ARI: ari}, nil
}

// phaseSeed derives an independent seed for one phase of a run.
func phaseSeed(root uint64, phase string, task int) uint64 {
	h := uint64(14695981039346656037)
	for _, c := range []byte(phase) {
		h = (h ^ uint64(c)) * 1099511628211
	}
	return rand.New(rand.NewPCG(root, h+uint64(task))).Uint64()
}

// Run trains DMTC on tasks and evaluates it with the baselines. The reported
// scores are those of the final models; ground-truth labels select nothing.
func Run(ctx context.Context, b nn.Backend, tasks []data.Task, cfg Config, ev Events) (*Result, error) {
	if err := CheckTasks(tasks, cfg); err != nil {
		return nil, err
	}
	c, h, w := tasks[0].C, tasks[0].H, tasks[0].W
	maxK := 0
	for _, t := range tasks {
		maxK = max(maxK, t.K())
	}
	bnetK := cfg.BNetK
	if bnetK == 0 {
		bnetK = 2 * maxK
	}
	res := &Result{Tasks: make([]TaskResult, len(tasks))}
	for i, t := range tasks {
		res.Tasks[i] = TaskResult{Name: t.Name, Classes: t.Classes, Labels: t.Labels}
	}

	ev.phase("k-means")
	for i, t := range tasks {
		km, err := cluster.KMeans(t.X, t.N(), c*h*w, t.K(), cluster.Options{
			Seed: phaseSeed(cfg.Seed, "kmeans", i), Restarts: cfg.KMeansRestarts, Threads: cfg.Threads})
		if err != nil {
			return nil, fmt.Errorf("dmtc: k-means on task %q: %w", t.Name, err)
		}
		res.Tasks[i].KMeansClusters = km.Labels
		if res.Tasks[i].KMeans, err = Score(t.Labels, km.Labels); err != nil {
			return nil, err
		}
	}

	netCfg := func(k int) NetConfig {
		return NetConfig{C: c, H: h, W: w, Width: cfg.Width, Hidden: cfg.Hidden, K: k, DiscWidth: cfg.DiscWidth}
	}

	// B-net on all tasks pooled.
	ev.phase("B-net")
	pooled := &Images{C: c, H: h, W: w}
	for i, t := range tasks {
		pooled.X = append(pooled.X, t.X...)
		pooled.Labels = append(pooled.Labels, t.Labels...)
		for range t.N() {
			pooled.Group = append(pooled.Group, i)
		}
	}
	bnet, err := NewNet(b, netCfg(bnetK), rand.New(rand.NewPCG(phaseSeed(cfg.Seed, "bnet-init", 0), 1)))
	if err != nil {
		return nil, err
	}
	defer bnet.Free(b)
	if err := Train(ctx, b, bnet, pooled, cfg.BNet, phaseSeed(cfg.Seed, "bnet", 0), "B-net", ev.Epoch); err != nil {
		return nil, err
	}
	res.Relatedness = EstimateRelatedness(b, bnet, pooled, len(tasks), cfg.RelatednessPerTask,
		cfg.BNet.Graph.Tau, phaseSeed(cfg.Seed, "relatedness", 0))

	// W-nets, each starting from the B-net.
	for i, t := range tasks {
		phase := fmt.Sprintf("W-net %s", t.Name)
		ev.phase(phase)
		im := &Images{C: c, H: h, W: w, X: t.X, Labels: t.Labels}
		wnet, err := NewNet(b, netCfg(t.K()), rand.New(rand.NewPCG(phaseSeed(cfg.Seed, "wnet-init", i), 1)))
		if err != nil {
			return nil, err
		}
		if err := wnet.TransferFrom(b, bnet); err != nil {
			return nil, err
		}
		head := HeadInit{Temperature: cfg.HeadTemperature, Restarts: cfg.KMeansRestarts, Chunk: cfg.PredictChunk,
			Seed: phaseSeed(cfg.Seed, "head", i), Threads: cfg.Threads}
		if err := InitHeadFromFeatures(b, wnet, im, head); err != nil {
			return nil, err
		}
		if err := Train(ctx, b, wnet, im, cfg.WNet, phaseSeed(cfg.Seed, "wnet", i), phase, ev.Epoch); err != nil {
			return nil, err
		}
		tr := &res.Tasks[i]
		tr.Clusters, tr.Confidence, _ = Predict(b, wnet, im, cfg.PredictChunk)
		wnet.Free(b)
		if tr.DMTC, err = Score(t.Labels, tr.Clusters); err != nil {
			return nil, err
		}
	}

	// Single-task baseline: the same network trained from scratch on one
	// task with the same total budget.
	for i, t := range tasks {
		phase := fmt.Sprintf("single %s", t.Name)
		ev.phase(phase)
		im := &Images{C: c, H: h, W: w, X: t.X, Labels: t.Labels}
		net, err := NewNet(b, netCfg(t.K()), rand.New(rand.NewPCG(phaseSeed(cfg.Seed, "single-init", i), 1)))
		if err != nil {
			return nil, err
		}
		// Like the B-net, the baseline trains from scratch, so it takes the
		// B-net's settings rather than the W-net's fine-tuning ones.
		single := cfg.BNet
		single.Epochs = SingleTaskEpochs(cfg, len(tasks))
		if err := Train(ctx, b, net, im, single, phaseSeed(cfg.Seed, "single", i), phase, ev.Epoch); err != nil {
			return nil, err
		}
		tr := &res.Tasks[i]
		tr.SingleClusters, _, _ = Predict(b, net, im, cfg.PredictChunk)
		net.Free(b)
		if tr.Single, err = Score(t.Labels, tr.SingleClusters); err != nil {
			return nil, err
		}
	}
	return res, nil
}
