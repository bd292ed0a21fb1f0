package dmtc

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/dmtc-go/dmtc/dmtc/data"
	"github.com/dmtc-go/dmtc/dmtc/metrics"
	"github.com/dmtc-go/dmtc/nn"
)

// TrainConfig holds the settings of one training phase (a B-net, a W-net or
// a single-task network).
type TrainConfig struct {
	Epochs int
	// LargeBatch is the number of images of each epoch's pseudo-graph (1000).
	LargeBatch int
	// BatchSize is the number of images per gradient step; each contributes
	// two augmented views (32).
	BatchSize int
	// Passes is the number of passes over the large batch per epoch.
	Passes int
	Graph  GraphConfig
	// Loss weights: w_L·L_label + w_G·L_graph + w_MI·L_MI.
	WLabel, WGraph, WMI float32
	// RMSprop learning rate and smoothing constant.
	LR, Alpha float32
	Augment   data.AugmentOptions
	// Workers is the number of augmentation goroutines.
	Workers int
}

func (c TrainConfig) validate() error {
	switch {
	case c.Epochs < 0:
		return fmt.Errorf("dmtc: %d epochs: must be zero or more", c.Epochs)
	case c.LargeBatch < 2:
		return fmt.Errorf("dmtc: large batch %d: must be at least 2", c.LargeBatch)
	case c.BatchSize < 1:
		return fmt.Errorf("dmtc: batch size %d: must be at least 1", c.BatchSize)
	case c.Passes < 1:
		return fmt.Errorf("dmtc: %d passes per epoch: must be at least 1", c.Passes)
	case !(c.Graph.Tau >= -1 && c.Graph.Tau <= 1) && c.Graph.KNN <= 0:
		return fmt.Errorf("dmtc: tau %g: must be a cosine similarity in [-1, 1]", c.Graph.Tau)
	case !(c.Graph.Confidence >= 0 && c.Graph.Confidence <= 1):
		return fmt.Errorf("dmtc: confidence %g: must be a probability in [0, 1]", c.Graph.Confidence)
	case c.Graph.KNN < 0:
		return fmt.Errorf("dmtc: knn %d: must be zero (threshold mode) or positive", c.Graph.KNN)
	case !finitePositive(c.LR) || !(c.Alpha > 0 && c.Alpha < 1):
		return fmt.Errorf("dmtc: learning rate %g and alpha %g: need a finite lr > 0 and 0 < alpha < 1", c.LR, c.Alpha)
	case !finiteNonNegative(c.WLabel) || !finiteNonNegative(c.WGraph) || !finiteNonNegative(c.WMI):
		return fmt.Errorf("dmtc: loss weights label %g, graph %g, MI %g: must be finite and not negative",
			c.WLabel, c.WGraph, c.WMI)
	case c.Graph.KNN >= c.LargeBatch:
		return fmt.Errorf("dmtc: knn %d: must be smaller than the large batch %d, or every pair is an edge",
			c.Graph.KNN, c.LargeBatch)
	}
	return nil
}

func finiteNonNegative(v float32) bool {
	return v >= 0 && !math.IsInf(float64(v), 0)
}

func finitePositive(v float32) bool {
	return v > 0 && !math.IsInf(float64(v), 0)
}

// Images is a set of training images with optional task ids and labels.
type Images struct {
	C, H, W int
	X       []float32 // (N, C, H, W)
	// Group gives each image's task (B-net); nil for a single task.
	Group []int
	// Labels are ground-truth classes, used only for the per-epoch curves
	// in the log, never to select or steer a model. May be nil.
	Labels []int
}

// N returns the number of images.
func (im *Images) N() int { return len(im.X) / (im.C * im.H * im.W) }

func (im *Images) image(i int) []float32 {
	size := im.C * im.H * im.W
	return im.X[i*size : (i+1)*size]
}

// gather returns images idx[0], idx[1], ... copied into one (len(idx), C, H,
// W) slice.
func (im *Images) gather(idx []int) []float32 {
	size := im.C * im.H * im.W
	x := make([]float32, len(idx)*size)
	for k, i := range idx {
		copy(x[k*size:(k+1)*size], im.image(i))
	}
	return x
}

// EpochStats summarises one training epoch.
type EpochStats struct {
	Phase         string
	Epoch, Epochs int
	// Mean losses over the epoch's gradient steps (unweighted).
	LossLabel, LossGraph, LossMI float64
	// Loss is the mean weighted total.
	Loss float64
	// EdgeDensity and Labelled describe the epoch's pseudo-graph.
	EdgeDensity, Labelled float64
	// ACC is the large batch's accuracy against ground truth, for curves
	// only (NaN without labels). With groups it is the mean over tasks.
	ACC          float64
	ImagesPerSec float64
	Elapsed      time.Duration
}

// Train trains net on images for cfg.Epochs epochs. Randomness comes only
// from seed, so a run is repeatable for a fixed backend thread count.
// onEpoch, if not nil, receives each epoch's statistics.
func Train(ctx context.Context, b nn.Backend, net *Net, im *Images, cfg TrainConfig, seed uint64,
	phase string, onEpoch func(EpochStats)) error {
	if err := cfg.validate(); err != nil {
		return err
	}
	if im.C != net.Config.C || im.H != net.Config.H || im.W != net.Config.W {
		return fmt.Errorf("dmtc: images (%d,%d,%d) do not match network input (%d,%d,%d)",
			im.C, im.H, im.W, net.Config.C, net.Config.H, net.Config.W)
	}
	n := im.N()
	if n < 2 {
		return fmt.Errorf("dmtc: %s: %d images: need at least 2", phase, n)
	}
	rng := rand.New(rand.NewPCG(seed, 0x6d74632d7472616e))
	tr := &trainer{b: b, net: net, im: im, cfg: cfg, rng: rng, tape: nn.NewTape(b)}
	tr.opt = nn.NewRMSprop(b, net.Params(), nn.RMSpropParams{LR: cfg.LR, Alpha: cfg.Alpha, Eps: 1e-8})
	defer tr.opt.Free()
	defer tr.tape.Release()
	nn.ZeroGrad(b, net.Params())

	start := time.Now()
	order := rng.Perm(n)
	next := 0
	for epoch := 1; epoch <= cfg.Epochs; epoch++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		// Draw the large batch from a permutation, so successive epochs
		// cover the whole set before repeating an image.
		size := min(cfg.LargeBatch, n)
		batch := make([]int, 0, size)
		for len(batch) < size {
			if next == n {
				order, next = rng.Perm(n), 0
			}
			batch = append(batch, order[next])
			next++
		}
		epochStart := time.Now()
		stats, err := tr.epoch(ctx, batch, seed^uint64(epoch)*0x9e3779b97f4a7c15)
		if err != nil {
			return fmt.Errorf("dmtc: %s epoch %d: %w", phase, epoch, err)
		}
		stats.Phase, stats.Epoch, stats.Epochs = phase, epoch, cfg.Epochs
		stats.Elapsed = time.Since(start)
		stats.ImagesPerSec = float64(size*cfg.Passes) / time.Since(epochStart).Seconds()
		if onEpoch != nil {
			onEpoch(stats)
		}
	}
	if cfg.Epochs > 0 {
		tr.calibrate(rng.Perm(n)[:min(cfg.LargeBatch, n)])
	}
	return b.Sync()
}

// calibrate sets every batch-norm layer's running statistics to those of a
// clean batch under the final weights. The statistics of the last graph pass
// are one epoch of updates old, and evaluation with them loses accuracy.
func (tr *trainer) calibrate(batch []int) {
	b, im, tp := tr.b, tr.im, tr.tape
	x := im.gather(batch)
	tp.Grad = false
	defer func() { tp.Grad = true; tp.Reset() }()
	in := tp.Tensor(len(batch), im.C, im.H, im.W)
	b.Upload(in, x)
	tr.net.setBatchNormMomentum(1)
	tr.net.Forward(tp, tp.Input(in), nn.Train)
	tr.net.setBatchNormMomentum(batchNormMomentum)
}

type trainer struct {
	b    nn.Backend
	net  *Net
	im   *Images
	cfg  TrainConfig
	rng  *rand.Rand
	tape *nn.Tape
	opt  nn.Optimizer
}

// epoch runs one epoch on the large batch: the no-grad pass and pseudo-graph,
// then the gradient passes over small batches of augmented views.
func (tr *trainer) epoch(ctx context.Context, batch []int, seed uint64) (EpochStats, error) {
	im, cfg := tr.im, tr.cfg
	n := len(batch)

	// The large batch as its own image set, in batch order.
	x := im.gather(batch)
	var group []int
	if im.Group != nil {
		group = make([]int, n)
		for k, i := range batch {
			group[k] = im.Group[i]
		}
	}

	graph, bank, acc, err := tr.graphPass(x, n, batch, group)
	if err != nil {
		return EpochStats{}, err
	}
	stats := EpochStats{EdgeDensity: graph.EdgeDensity(), Labelled: graph.LabelledShare(), ACC: acc}

	// Small batches over the large batch, reshuffled for every pass.
	var batches [][]int
	for pass := 0; pass < cfg.Passes; pass++ {
		perm := tr.rng.Perm(n)
		for lo := 0; lo < n; lo += cfg.BatchSize {
			batches = append(batches, perm[lo:min(lo+cfg.BatchSize, n)])
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	views := data.StreamViews(ctx, x, im.C, im.H, im.W, batches, cfg.Augment, seed, max(cfg.Workers, 1))
	steps := 0
	for vb := range views {
		l, g, mi := tr.step(vb, graph, bank)
		stats.LossLabel += l
		stats.LossGraph += g
		stats.LossMI += mi
		stats.Loss += float64(cfg.WLabel)*l + float64(cfg.WGraph)*g + float64(cfg.WMI)*mi
		steps++
		if math.IsNaN(stats.Loss) {
			return stats, fmt.Errorf("loss became NaN at step %d; lower the learning rate (--lr)", steps)
		}
	}
	if err := ctx.Err(); err != nil {
		return stats, err
	}
	if steps != len(batches) {
		return stats, fmt.Errorf("augmentation delivered %d of %d batches", steps, len(batches))
	}
	stats.LossLabel /= float64(steps)
	stats.LossGraph /= float64(steps)
	stats.LossMI /= float64(steps)
	stats.Loss /= float64(steps)
	return stats, nil
}

// graphPass runs the network without gradients on the un-augmented large
// batch and returns the pseudo-graph, the shallow feature maps (the bank the
// MI partners come from) and the batch's label accuracy for the log.
func (tr *trainer) graphPass(x []float32, n int, batch, group []int) (*PseudoGraph, []float32, float64, error) {
	b, im, tp := tr.b, tr.im, tr.tape
	tp.Grad = false
	defer func() { tp.Grad = true; tp.Reset() }()

	in := tp.Tensor(n, im.C, im.H, im.W)
	b.Upload(in, x)
	// The running statistics become this clean batch's statistics. The
	// gradient steps on augmented views leave them alone, and calibrate
	// refreshes them once more after the last epoch.
	tr.net.setBatchNormMomentum(1)
	out := tr.net.Forward(tp, tp.Input(in), nn.Train)
	tr.net.setBatchNormMomentum(batchNormMomentum)
	graph, err := BuildGraph(b, out.P.Value, tr.cfg.Graph, group, tr.rng)
	if err != nil {
		return nil, nil, 0, err
	}
	bank := make([]float32, out.M.Value.Len())
	b.Download(bank, out.M.Value)

	acc := math.NaN()
	if im.Labels != nil {
		k := out.P.Value.Cols()
		probs := make([]float32, n*k)
		b.Download(probs, out.P.Value)
		acc = batchACC(probs, k, batch, group, im.Labels)
	}
	return graph, bank, acc, nil
}

// batchACC returns the clustering accuracy of argmax probs against labels,
// averaged over groups when there are any.
func batchACC(probs []float32, k int, batch, group, labels []int) float64 {
	pred := pseudoLabels(probs, len(batch), k, 0)
	byGroup := map[int][2][]int{}
	for pos, i := range batch {
		g := 0
		if group != nil {
			g = group[pos]
		}
		e := byGroup[g]
		e[0] = append(e[0], labels[i])
		e[1] = append(e[1], pred[pos])
		byGroup[g] = e
	}
	var sum float64
	for _, e := range byGroup {
		acc, err := metrics.ACC(e[0], e[1])
		if err != nil {
			return math.NaN()
		}
		sum += acc
	}
	return sum / float64(len(byGroup))
}

// step runs one gradient step on a batch of two augmented views and returns
// the unweighted label, graph and MI losses.
func (tr *trainer) step(vb data.ViewBatch, graph *PseudoGraph, bank []float32) (lossLabel, lossGraph, lossMI float64) {
	b, im, tp, cfg, net := tr.b, tr.im, tr.tape, tr.cfg, tr.net
	defer tp.Reset()
	m := len(vb.Index)
	rows := 2 * m // view A of every image, then view B
	size := im.C * im.H * im.W

	in := tp.Tensor(rows, im.C, im.H, im.W)
	host := make([]float32, rows*size)
	copy(host, vb.A)
	copy(host[m*size:], vb.B)
	b.Upload(in, host)

	// Row r of the doubled batch is large-batch sample idx[r].
	idx := make([]int, rows)
	copy(idx, vb.Index)
	copy(idx[m:], vb.Index)

	out := net.Forward(tp, tp.Input(in), nn.BatchStats)

	// L_graph: BCE between the views' similarity matrix and the
	// pseudo-graph. Probabilities are non-negative, so their cosine
	// similarity already lies in [0, 1].
	if cfg.WGraph > 0 {
		unit := nn.L2Normalize(tp, out.P)
		sim := nn.MatMulT(tp, unit, unit)
		target := make([]float32, rows*rows)
		for r, i := range idx {
			for c, j := range idx {
				target[r*rows+c] = graph.Edge[i*graph.N+j]
			}
		}
		t := tp.Tensor(rows, rows)
		b.Upload(t, target)
		lossGraph = float64(nn.BinaryCrossEntropy(tp, sim, t, cfg.WGraph))
	}

	// L_label: cross-entropy to the confident pseudo-labels.
	if cfg.WLabel > 0 {
		labels := make([]float32, rows)
		for r, i := range idx {
			labels[r] = float32(graph.Labels[i])
		}
		t := tp.Tensor(rows)
		b.Upload(t, labels)
		lossLabel = float64(nn.CrossEntropy(tp, out.Y, t, cfg.WLabel))
	}

	// L_MI: Jensen-Shannon MI between each view's deep logits and the
	// shallow maps of its positive and negative partners.
	// NOTE: the partners' maps come from the no-grad large-batch pass, so
	// this term trains Y and the discriminator but sends no gradient into
	// the shallow layers through M; forwarding the partners too would
	// triple the cost of a step.
	if cfg.WMI > 0 {
		mc, mh, mw := net.ShallowShape()
		msize := mc * mh * mw
		posM, negM := make([]float32, rows*msize), make([]float32, rows*msize)
		for r, i := range idx {
			copy(posM[r*msize:(r+1)*msize], bank[graph.Pos[i]*msize:(graph.Pos[i]+1)*msize])
			copy(negM[r*msize:(r+1)*msize], bank[graph.Neg[i]*msize:(graph.Neg[i]+1)*msize])
		}
		pt, nt := tp.Tensor(rows, mc, mh, mw), tp.Tensor(rows, mc, mh, mw)
		b.Upload(pt, posM)
		b.Upload(nt, negM)
		pos := net.Discriminate(tp, out.Y, tp.Input(pt))
		neg := net.Discriminate(tp, out.Y, tp.Input(nt))
		lossMI = float64(nn.JSDMutualInfo(tp, pos, neg, cfg.WMI))
	}

	tp.Backward()
	tr.opt.Step()
	nn.ZeroGrad(b, net.Params())
	return lossLabel, lossGraph, lossMI
}

// Predict assigns each image to argmax p with the network in evaluation mode
// and returns the clusters, the confidence max p, and the probabilities.
func Predict(b nn.Backend, net *Net, im *Images, chunk int) (clusters []int, conf []float32, probs []float32) {
	n, k := im.N(), net.Config.K
	probs = make([]float32, n*k)
	evalChunks(b, im, chunk, func(tp *nn.Tape, x *nn.Var, lo, hi int) {
		out := net.Forward(tp, x, nn.Eval)
		b.Download(probs[lo*k:hi*k], out.P.Value)
	})
	clusters = pseudoLabels(probs, n, k, 0)
	conf = make([]float32, n)
	for i, c := range clusters {
		conf[i] = probs[i*k+c]
	}
	return clusters, conf, probs
}

// evalChunks runs each on images [lo, hi) of im, chunk images at a time, on a
// tape without gradients that is reset between chunks.
func evalChunks(b nn.Backend, im *Images, chunk int, each func(tp *nn.Tape, x *nn.Var, lo, hi int)) {
	size := im.C * im.H * im.W
	tp := nn.NewTape(b)
	tp.Grad = false
	defer tp.Release()
	for lo := 0; lo < im.N(); lo += chunk {
		hi := min(lo+chunk, im.N())
		in := tp.Tensor(hi-lo, im.C, im.H, im.W)
		b.Upload(in, im.X[lo*size:hi*size])
		each(tp, tp.Input(in), lo, hi)
		tp.Reset()
	}
}
