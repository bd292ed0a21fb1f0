// Package data reads labelled image collections (Sources) and builds
// clustering tasks from them (Suites).
package data

// Image is one decoded 8-bit image in planar (C, H, W) order: Pix holds C
// planes of H·W bytes, row-major. C is 1 (grey) or 3 (RGB).
type Image struct {
	C, H, W int
	Pix     []uint8
}

// Source is a labelled image collection read from disk or embedded data.
// Implementations load their index eagerly and report every file they could
// not use in Report instead of failing the whole load.
type Source interface {
	// Name identifies the source in messages, e.g. "fashion-mnist-test".
	Name() string
	// Classes returns the class names; a label is an index into it.
	Classes() []string
	// Len is the number of usable images.
	Len() int
	// Label returns the class index of image i.
	Label(i int) int
	// Image decodes image i.
	Image(i int) (Image, error)
	// Report lists what was skipped while loading, by reason.
	Report() LoadReport
}

// Skip is one file or record that a reader could not use.
type Skip struct {
	Path   string
	Reason string // a short category such as "missing", "corrupt", "no label"
	Err    string
}

// LoadReport is the outcome of loading one source.
type LoadReport struct {
	Source  string
	Loaded  int
	Skipped []Skip
}

// Task is one clustering problem: images of one size, normalised to float32,
// with ground-truth labels kept for evaluation only.
type Task struct {
	Name    string
	Classes []string // class names; Labels index into it
	C, H, W int
	// X holds N images as (N, C, H, W) float32 in [0, 1].
	X      []float32
	Labels []int
}

// N returns the number of images in t.
func (t *Task) N() int { return len(t.Labels) }

// K returns the number of clusters of t, its number of classes.
func (t *Task) K() int { return len(t.Classes) }

// ImageAt returns image i of t as a (C·H·W) slice that aliases t.X.
func (t *Task) ImageAt(i int) []float32 {
	size := t.C * t.H * t.W
	return t.X[i*size : (i+1)*size]
}
