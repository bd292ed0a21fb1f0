// Command dmtc-run trains DMTC on a suite of image-clustering tasks and
// reports ACC, NMI and ARI for DMTC and its baselines.
//
// With no flags it clusters the embedded fashion3 suite on the CPU.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"time"

	"github.com/spf13/pflag"

	"github.com/dmtc-go/dmtc/cuda"
	"github.com/dmtc-go/dmtc/dmtc"
	"github.com/dmtc-go/dmtc/dmtc/data"
	"github.com/dmtc-go/dmtc/nn"
)

// options are the command-line settings.
type options struct {
	Suite   string `json:"suite"`
	DataDir string `json:"data_dir"`
	Out     string `json:"out"`
	Device  string `json:"device"`
	Seed    uint64 `json:"seed"`
	Threads int    `json:"threads"`
	Strict  bool   `json:"strict"`

	BNetK           int     `json:"bnet_k"`
	HeadTemperature float32 `json:"head_temperature"`
	Width           int     `json:"width"`
	Hidden          int     `json:"hidden"`
	DiscWidth       int     `json:"disc_width"`

	BNetEpochs int     `json:"bnet_epochs"`
	WNetEpochs int     `json:"wnet_epochs"`
	LargeBatch int     `json:"large_batch"`
	BatchSize  int     `json:"batch_size"`
	Passes     int     `json:"passes"`
	Tau        float32 `json:"tau"`
	KNN        int     `json:"knn"`
	Confidence float32 `json:"confidence"`
	WLabel     float32 `json:"w_label"`
	WGraph     float32 `json:"w_graph"`
	WMI        float32 `json:"w_mi"`
	LR         float32 `json:"lr"`
	WNetLR     float32 `json:"wnet_lr"`
	Alpha      float32 `json:"alpha"`
	Flip       string  `json:"flip"`
	Workers    int     `json:"workers"`
	Restarts   int     `json:"kmeans_restarts"`
}

func main() {
	opt, err := parseFlags(os.Args[1:], os.Stderr)
	if errors.Is(err, pflag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "dmtc-run:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, opt, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "dmtc-run:", err)
		os.Exit(1)
	}
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := pflag.NewFlagSet("dmtc-run", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.Suite, "suite", "fashion3", "suite: a built-in name (fashion3, mnist, cifar100-dmtc) or a suite JSON file")
	fs.StringVar(&o.DataDir, "data-dir", "", "folder with the suite's data files, e.g. /usr/share/datasets/fashion-mnist for all 70,000 Fashion-MNIST images (default: the embedded 10,000-image test set)")
	fs.StringVar(&o.Out, "out", "", "output directory (default runs/SUITE-TIME)")
	fs.StringVar(&o.Device, "device", "cpu", "engine: cpu, or cuda for the first NVIDIA GPU (needs a binary built with -tags cuda)")
	fs.Uint64Var(&o.Seed, "seed", 1, "random seed; the same seed and thread count give the same assignments")
	fs.IntVar(&o.Threads, "threads", runtime.NumCPU(), "CPU threads")
	fs.BoolVar(&o.Strict, "strict", false, "fail when any input file is skipped")
	fs.Float32Var(&o.HeadTemperature, "head-temperature", 4, "temperature of each W-net head's first softmax over its k-means logits (1 keeps them as they are)")
	fs.IntVar(&o.BNetK, "bnet-k", 0, "clusters of the B-net's head (0: twice the largest task's cluster count)")
	fs.IntVar(&o.Width, "width", 8, "channels of the first conv block (the DCCM network uses 64)")
	fs.IntVar(&o.Hidden, "hidden", 64, "width of the fully connected layer before the head")
	fs.IntVar(&o.DiscWidth, "disc-width", 32, "width of the discriminator's hidden 1x1 convolutions (DMTC uses 512)")
	fs.IntVar(&o.BNetEpochs, "bnet-epochs", 54, "epochs of the B-net on all tasks pooled")
	fs.IntVar(&o.WNetEpochs, "wnet-epochs", 12, "epochs of each W-net; each single-task baseline gets wnet-epochs + bnet-epochs/tasks, the same total")
	fs.IntVar(&o.LargeBatch, "large-batch", 1000, "images per epoch for the pseudo-graph")
	fs.IntVar(&o.BatchSize, "batch-size", 32, "images per gradient step (each gives two augmented views)")
	fs.IntVar(&o.Passes, "passes", 1, "passes over the large batch per epoch")
	fs.Float32Var(&o.Tau, "tau", 0.95, "cosine-similarity threshold of a pseudo-graph edge")
	fs.IntVar(&o.KNN, "knn", 0, "if positive, build the pseudo-graph from each sample's k nearest neighbours instead of tau")
	fs.Float32Var(&o.Confidence, "confidence", 0.9, "minimum max-probability of a pseudo-label")
	fs.Float32Var(&o.WLabel, "w-label", 5, "weight of the pseudo-label cross-entropy")
	fs.Float32Var(&o.WGraph, "w-graph", 1, "weight of the pseudo-graph binary cross-entropy")
	fs.Float32Var(&o.WMI, "w-mi", 0.05, "weight of the mutual-information loss")
	fs.Float32Var(&o.LR, "lr", 1e-3, "RMSprop learning rate of the networks trained from scratch: the B-net and the single-task baselines (DMTC uses 1e-4 with far longer training)")
	fs.Float32Var(&o.WNetLR, "wnet-lr", 1e-3, "RMSprop learning rate of the W-nets, which start from the trained B-net")
	fs.Float32Var(&o.Alpha, "alpha", 0.9, "RMSprop smoothing constant")
	fs.StringVar(&o.Flip, "flip", "auto", "horizontal flips in augmentation: on, off, or auto (on for colour images, off for grey ones, where a mirrored digit can read as another)")
	fs.IntVar(&o.Workers, "workers", 2, "augmentation goroutines")
	fs.IntVar(&o.Restarts, "kmeans-restarts", 5, "k-means++ restarts of the pixel baseline (best inertia kept)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q: every setting is a flag (see --help)", fs.Arg(0))
	}
	if o.Threads < 1 {
		return o, fmt.Errorf("--threads %d: must be at least 1", o.Threads)
	}
	if o.Workers < 1 {
		return o, fmt.Errorf("--workers %d: must be at least 1", o.Workers)
	}
	if o.Flip != "auto" && o.Flip != "on" && o.Flip != "off" {
		return o, fmt.Errorf("--flip %q: use on, off or auto", o.Flip)
	}
	if o.Restarts < 1 {
		return o, fmt.Errorf("--kmeans-restarts %d: must be at least 1", o.Restarts)
	}
	if o.Out == "" {
		o.Out = fmt.Sprintf("runs/%s-%s", suiteLabel(o.Suite), time.Now().Format("20060102-150405"))
	}
	return o, nil
}

func (o options) config() dmtc.Config {
	phase := func(epochs int, lr float32) dmtc.TrainConfig {
		return dmtc.TrainConfig{
			Epochs: epochs, LargeBatch: o.LargeBatch, BatchSize: o.BatchSize, Passes: o.Passes,
			Graph:  dmtc.GraphConfig{Tau: o.Tau, KNN: o.KNN, Confidence: o.Confidence},
			WLabel: o.WLabel, WGraph: o.WGraph, WMI: o.WMI, LR: lr, Alpha: o.Alpha,
			Workers: o.Workers,
		}
	}
	return dmtc.Config{
		Width: o.Width, Hidden: o.Hidden, DiscWidth: o.DiscWidth, BNetK: o.BNetK, HeadTemperature: o.HeadTemperature,
		BNet: phase(o.BNetEpochs, o.LR), WNet: phase(o.WNetEpochs, o.WNetLR),
		Seed: o.Seed, KMeansRestarts: o.Restarts, Threads: o.Threads,
		RelatednessPerTask: 300, PredictChunk: 500,
	}
}

// newBackend returns the engine --device names and a function that releases
// it.
func newBackend(o options) (nn.Backend, func() error, error) {
	switch o.Device {
	case "cpu":
		return nn.NewCPU(o.Threads), func() error { return nil }, nil
	case "cuda":
		gpu, err := cuda.New(0)
		if err != nil {
			return nil, nil, fmt.Errorf("--device cuda: %w", err)
		}
		return gpu, gpu.Close, nil
	default:
		return nil, nil, fmt.Errorf("--device %q: unknown engine; use cpu or cuda", o.Device)
	}
}

func run(ctx context.Context, o options, stdout io.Writer) error {
	start := time.Now()
	cfg := o.config()
	if err := cfg.Validate(); err != nil {
		return err
	}
	// Fail on the engine and the output folder before a long data load.
	b, closeBackend, err := newBackend(o)
	if err != nil {
		return err
	}
	defer closeBackend()
	if err := checkRunDir(o.Out); err != nil {
		return err
	}

	suite, err := data.LoadSuite(o.Suite, data.LoadOptions{DataDir: o.DataDir, Strict: o.Strict})
	if err != nil {
		return err
	}
	fmt.Fprint(stdout, data.LoadSummary(suite))
	if err := dmtc.CheckTasks(suite.Tasks, cfg); err != nil {
		return err
	}

	out, err := newRunDir(o.Out)
	if err != nil {
		return err
	}
	defer out.Close()
	first := suite.Tasks[0]
	cfg.BNet.Augment = data.DefaultAugment(first.C, first.H, first.W)
	switch o.Flip {
	case "on":
		cfg.BNet.Augment.Flip = true
	case "off":
		cfg.BNet.Augment.Flip = false
	}
	cfg.WNet.Augment = cfg.BNet.Augment
	if err := out.WriteJSON("config.json", struct {
		Options options     `json:"options"`
		Config  dmtc.Config `json:"resolved"`
	}{o, cfg}); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "output: %s\n", o.Out)

	ev := dmtc.Events{
		Phase: func(name string) {
			fmt.Fprintf(stdout, "== %s (%s)\n", name, formatDuration(time.Since(start)))
			out.Log(map[string]any{"event": "phase", "phase": name, "elapsed_s": time.Since(start).Seconds()})
		},
		Epoch: func(s dmtc.EpochStats) {
			fmt.Fprintln(stdout, formatEpoch(s))
			out.LogEpoch(s)
		},
	}
	res, err := dmtc.Run(ctx, b, suite.Tasks, cfg, ev)
	if err != nil {
		return err
	}
	if err := out.WriteResults(res, suite); err != nil {
		return err
	}
	fmt.Fprintln(stdout)
	fmt.Fprint(stdout, formatTable(res))
	fmt.Fprintf(stdout, "\ntotal time %s; results in %s\n", formatDuration(time.Since(start)), o.Out)
	return out.Close()
}
