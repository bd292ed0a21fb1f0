package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/dmtc-go/dmtc/dmtc"
	"github.com/dmtc-go/dmtc/dmtc/data"
)

// runDir is a run's output directory. Whole files are written atomically
// (temporary file, fsync, rename); the training log is appended line by line.
type runDir struct {
	path string
	log  *os.File
	err  error // first log write error
}

// checkRunDir rejects an output directory that contains a finished run or
// any other file, so that nothing already written is overwritten.
func checkRunDir(path string) error {
	if _, err := os.Stat(filepath.Join(path, "metrics.json")); err == nil {
		return fmt.Errorf("output directory %s already contains a finished run (metrics.json); choose another --out", path)
	}
	entries, err := os.ReadDir(path)
	if err == nil && len(entries) > 0 {
		return fmt.Errorf("output directory %s is not empty (it contains %s); choose a new or empty --out",
			path, entries[0].Name())
	}
	return nil
}

func newRunDir(path string) (*runDir, error) {
	if err := checkRunDir(path); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(path, 0o755); err != nil {
		return nil, fmt.Errorf("create output directory %s: %w", path, err)
	}
	log, err := os.OpenFile(filepath.Join(path, "log.jsonl"), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open training log: %w", err)
	}
	return &runDir{path: path, log: log}, nil
}

// Close closes the log and returns the first error met while logging.
func (d *runDir) Close() error {
	if d.log != nil {
		if err := d.log.Close(); err != nil && d.err == nil {
			d.err = fmt.Errorf("close training log: %w", err)
		}
		d.log = nil
	}
	return d.err
}

// Log appends one JSON record to log.jsonl.
func (d *runDir) Log(record any) {
	if d.log == nil || d.err != nil {
		return
	}
	line, err := json.Marshal(record)
	if err == nil {
		_, err = d.log.Write(append(line, '\n'))
	}
	if err != nil {
		d.err = fmt.Errorf("write training log: %w", err)
	}
}

// LogEpoch appends an epoch record to log.jsonl.
func (d *runDir) LogEpoch(s dmtc.EpochStats) {
	d.Log(map[string]any{
		"event": "epoch", "phase": s.Phase, "epoch": s.Epoch, "epochs": s.Epochs,
		"loss": finite(s.Loss), "loss_label": finite(s.LossLabel), "loss_graph": finite(s.LossGraph),
		"loss_mi": finite(s.LossMI), "edge_density": finite(s.EdgeDensity), "labelled": finite(s.Labelled),
		"large_batch_acc": finite(s.ACC), "images_per_s": finite(s.ImagesPerSec), "elapsed_s": s.Elapsed.Seconds(),
	})
}

// finite maps NaN and ±Inf, which JSON cannot hold, to null.
func finite(v float64) any {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return v
}

// writeFile writes name atomically: a reader sees the old file or the new
// one, never a partial one.
func (d *runDir) writeFile(name string, content []byte) error {
	final := filepath.Join(d.path, name)
	tmp, err := os.CreateTemp(d.path, "."+name+".tmp*")
	if err != nil {
		return fmt.Errorf("write %s: %w", final, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(content); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", final, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", final, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", final, err)
	}
	if err := os.Rename(tmp.Name(), final); err != nil {
		return fmt.Errorf("write %s: %w", final, err)
	}
	return nil
}

// WriteJSON writes v as indented JSON.
func (d *runDir) WriteJSON(name string, v any) error {
	content, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", name, err)
	}
	return d.writeFile(name, append(content, '\n'))
}

type scoresJSON struct {
	ACC float64 `json:"acc"`
	NMI float64 `json:"nmi"`
	ARI float64 `json:"ari"`
}

func toJSON(s dmtc.Scores) scoresJSON { return scoresJSON{s.ACC, s.NMI, s.ARI} }

type taskJSON struct {
	Name    string     `json:"name"`
	Classes []string   `json:"classes"`
	Images  int        `json:"images"`
	KMeans  scoresJSON `json:"kmeans"`
	Single  scoresJSON `json:"single_task"`
	DMTC    scoresJSON `json:"dmtc"`
}

type metricsJSON struct {
	Suite string     `json:"suite"`
	Tasks []taskJSON `json:"tasks"`
	Mean  struct {
		KMeans scoresJSON `json:"kmeans"`
		Single scoresJSON `json:"single_task"`
		DMTC   scoresJSON `json:"dmtc"`
	} `json:"mean"`
	// Relatedness is the B-net's discriminator score between tasks, null
	// where no pair could be formed.
	Relatedness [][]any `json:"relatedness"`
	// EdgeShare is the share of cross-task pairs joined in the pseudo-graph.
	EdgeShare [][]any `json:"relatedness_edge_share"`
	Note      string  `json:"note"`
}

// WriteResults writes metrics.json, metrics.csv and assignments.csv.
func (d *runDir) WriteResults(res *dmtc.Result, suite *data.Suite) error {
	m := metricsJSON{Suite: suite.Name, Relatedness: finiteMatrix(res.Relatedness.Score),
		EdgeShare: finiteMatrix(res.Relatedness.EdgeShare),
		Note:      "scores are those of the final models; labels were used for evaluation only"}
	var table bytes.Buffer
	w := csv.NewWriter(&table)
	w.Write([]string{"task", "method", "acc", "nmi", "ari"})
	for _, t := range res.Tasks {
		m.Tasks = append(m.Tasks, taskJSON{Name: t.Name, Classes: t.Classes, Images: len(t.Labels),
			KMeans: toJSON(t.KMeans), Single: toJSON(t.Single), DMTC: toJSON(t.DMTC)})
		for _, row := range []struct {
			method string
			s      dmtc.Scores
		}{{"kmeans", t.KMeans}, {"single_task", t.Single}, {"dmtc", t.DMTC}} {
			w.Write([]string{t.Name, row.method, ftoa(row.s.ACC), ftoa(row.s.NMI), ftoa(row.s.ARI)})
		}
	}
	km, single, dm := res.Mean()
	m.Mean.KMeans, m.Mean.Single, m.Mean.DMTC = toJSON(km), toJSON(single), toJSON(dm)
	w.Flush()
	if err := d.writeFile("metrics.csv", table.Bytes()); err != nil {
		return err
	}

	var assign bytes.Buffer
	w = csv.NewWriter(&assign)
	w.Write([]string{"task", "index", "label", "cluster", "confidence"})
	for _, t := range res.Tasks {
		for i := range t.Labels {
			w.Write([]string{t.Name, strconv.Itoa(i), strconv.Itoa(t.Labels[i]), strconv.Itoa(t.Clusters[i]),
				strconv.FormatFloat(float64(t.Confidence[i]), 'f', 6, 32)})
		}
	}
	w.Flush()
	if err := d.writeFile("assignments.csv", assign.Bytes()); err != nil {
		return err
	}
	// metrics.json last: its presence marks a finished run.
	return d.WriteJSON("metrics.json", m)
}

// finiteMatrix applies finite to every element of m.
func finiteMatrix(m [][]float64) [][]any {
	out := make([][]any, len(m))
	for i, row := range m {
		out[i] = make([]any, len(row))
		for j, v := range row {
			out[i][j] = finite(v)
		}
	}
	return out
}

func ftoa(v float64) string { return strconv.FormatFloat(v, 'f', 6, 64) }

// formatEpoch renders one fixed-width progress line.
func formatEpoch(s dmtc.EpochStats) string {
	acc := "  -  "
	if !math.IsNaN(s.ACC) {
		acc = fmt.Sprintf("%.3f", s.ACC)
	}
	return fmt.Sprintf("%-24s epoch %3d/%-3d loss %7.4f  label %6.4f  graph %6.4f  MI %6.4f  edges %5.1f%%  labelled %5.1f%%  acc* %s  %6.0f img/s  %s",
		truncate(s.Phase, 24), s.Epoch, s.Epochs, s.Loss, s.LossLabel, s.LossGraph, s.LossMI,
		100*s.EdgeDensity, 100*s.Labelled, acc, s.ImagesPerSec, formatDuration(s.Elapsed))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}

func formatDuration(d time.Duration) string {
	d = d.Round(time.Second)
	return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
}

// formatTable renders the final comparison of the three methods.
func formatTable(res *dmtc.Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-26s | %-23s | %-23s | %-23s\n", "task", "k-means++ (pixels)", "single-task", "DMTC")
	fmt.Fprintf(&b, "%-26s | %-23s | %-23s | %-23s\n", "", "ACC    NMI    ARI", "ACC    NMI    ARI", "ACC    NMI    ARI")
	fmt.Fprintln(&b, strings.Repeat("-", 26+3*26))
	row := func(name string, km, single, dm dmtc.Scores) {
		f := func(s dmtc.Scores) string { return fmt.Sprintf("%.3f  %.3f  %.3f", s.ACC, s.NMI, s.ARI) }
		fmt.Fprintf(&b, "%-26s | %-23s | %-23s | %-23s\n", truncate(name, 26), f(km), f(single), f(dm))
	}
	for _, t := range res.Tasks {
		row(t.Name, t.KMeans, t.Single, t.DMTC)
	}
	km, single, dm := res.Mean()
	row("mean", km, single, dm)
	fmt.Fprintln(&b, "acc* in the epoch lines is the large batch's accuracy, logged for curves only.")
	return b.String()
}

// suiteLabel turns a suite name or path into a short directory-safe label.
func suiteLabel(suite string) string {
	base := strings.TrimSuffix(filepath.Base(suite), filepath.Ext(suite))
	return strings.Map(func(r rune) rune {
		if r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			return r
		}
		return '_'
	}, base)
}
