package data

import (
	"fmt"
	"path/filepath"
	"strings"
)

// BuildSuite validates spec, loads the sources its tasks use (relative paths
// resolved against baseDir) and builds the tasks in spec order. Task images
// keep source order, and task labels index the task's own class list.
// Besides the checks of Validate, it fails when a task class is not a class
// of its source, a task class has no images, or images differ in size from
// spec.ImageSize (or, without it, from the first image of the suite). With
// opt.Strict, any skipped file or image is an error too.
func BuildSuite(spec *SuiteSpec, baseDir string, opt LoadOptions) (*Suite, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	suite := &Suite{Name: spec.Name}
	b := suiteBuilder{spec: spec, strict: opt.Strict, size: spec.ImageSize}
	sources := make(map[string]Source)
	reports := make(map[string]int) // source name → index into suite.Reports
	for _, task := range spec.Tasks {
		if _, done := sources[task.Source]; done {
			continue
		}
		i := spec.sourceIndex(task.Source)
		src, err := openSource(spec.Sources[i], baseDir)
		if err != nil {
			return nil, fmt.Errorf("data: suite %q: sources[%d] (%s): %w", spec.Name, i,
				spec.Sources[i].Name, err)
		}
		report := src.Report()
		if opt.Strict && len(report.Skipped) > 0 {
			return nil, fmt.Errorf("data: suite %q: source %q skipped %d files in strict mode, "+
				"first %s (%s): %s", spec.Name, spec.Sources[i].Name, len(report.Skipped),
				report.Skipped[0].Path, report.Skipped[0].Reason, report.Skipped[0].Err)
		}
		sources[task.Source] = src
		reports[task.Source] = len(suite.Reports)
		suite.Reports = append(suite.Reports, report)
	}
	for i, taskSpec := range spec.Tasks {
		task, skips, err := b.buildTask(sources[taskSpec.Source], taskSpec)
		if err != nil {
			return nil, fmt.Errorf("data: suite %q: tasks[%d] (%s): %w", spec.Name, i,
				taskSpec.Name, err)
		}
		report := &suite.Reports[reports[taskSpec.Source]]
		for _, skip := range skips {
			if !containsSkip(report.Skipped, skip.Path) {
				report.Skipped = append(report.Skipped, skip)
				report.Loaded--
			}
		}
		suite.Tasks = append(suite.Tasks, task)
	}
	return suite, nil
}

func (s *SuiteSpec) sourceIndex(name string) int {
	for i, src := range s.Sources {
		if src.Name == name {
			return i
		}
	}
	return -1
}

func containsSkip(skips []Skip, path string) bool {
	for _, s := range skips {
		if s.Path == path {
			return true
		}
	}
	return false
}

// openSource loads the source that spec describes.
func openSource(spec SourceSpec, baseDir string) (Source, error) {
	path := spec.Path
	if path != "" && !filepath.IsAbs(path) {
		path = filepath.Join(baseDir, path)
	}
	switch spec.Kind {
	case KindEmbeddedFashionMNIST:
		return LoadEmbeddedFashionMNIST()
	case KindIDX:
		classes := spec.Classes
		if len(classes) == 0 {
			classes = MNISTClasses()
		}
		return LoadIDXDir(path, spec.Split, classes)
	case KindCIFAR100:
		return LoadCIFAR100Dir(path, spec.Split)
	case KindFolder:
		return LoadFolder(path, FolderOptions{Name: spec.Name})
	}
	// TODO: open kinds voc and nuswide once their loaders exist.
	return nil, fmt.Errorf("kind %s cannot be loaded by this build yet", spec.Kind)
}

// suiteBuilder builds the tasks of one suite and tracks the suite's image
// size.
type suiteBuilder struct {
	spec   *SuiteSpec
	strict bool
	size   *ImageSize // spec.ImageSize, or the size of the first image once seen
}

// buildTask selects the images of spec.Classes from src, at most
// spec.PerClassCap a class, and converts them to float32 in [0, 1]. It
// returns the images that failed to decode as skips.
func (b *suiteBuilder) buildTask(src Source, spec TaskSpec) (Task, []Skip, error) {
	taskLabel, err := mapClasses(src, spec.Classes)
	if err != nil {
		return Task{}, nil, err
	}
	// First pass: pick images by label alone, so X is allocated once.
	counts := make([]int, len(spec.Classes))
	var picked []int
	for i := range src.Len() {
		k := taskLabel[src.Label(i)]
		if k < 0 || (spec.PerClassCap > 0 && counts[k] >= spec.PerClassCap) {
			continue
		}
		counts[k]++
		picked = append(picked, i)
	}
	for k, n := range counts {
		if n == 0 {
			return Task{}, nil, fmt.Errorf("classes[%d]: class %q has no images in source %q",
				k, spec.Classes[k], src.Name())
		}
	}
	task := Task{Name: spec.Name, Classes: append([]string(nil), spec.Classes...)}
	var skips []Skip
	for _, i := range picked {
		img, err := src.Image(i)
		if err != nil {
			skip := Skip{Path: imagePath(src, i), Reason: ReasonUnreadable, Err: err.Error()}
			if b.strict {
				return Task{}, nil, fmt.Errorf("image %s skipped in strict mode: %s", skip.Path,
					skip.Err)
			}
			skips = append(skips, skip)
			continue
		}
		if err := b.checkSize(img, src, i); err != nil {
			return Task{}, nil, err
		}
		if task.X == nil {
			task.C, task.H, task.W = img.C, img.H, img.W
			task.X = make([]float32, 0, len(picked)*len(img.Pix))
		}
		for _, p := range img.Pix {
			task.X = append(task.X, float32(p)/255)
		}
		task.Labels = append(task.Labels, taskLabel[src.Label(i)])
	}
	// Skipped images can leave a class empty, and a task needs at least one
	// image a cluster.
	clear(counts)
	for _, k := range task.Labels {
		counts[k]++
	}
	for k, n := range counts {
		if n == 0 {
			return Task{}, nil, fmt.Errorf("classes[%d]: class %q has no usable images in "+
				"source %q (%d images skipped); see the load report", k, spec.Classes[k],
				src.Name(), len(skips))
		}
	}
	return task, skips, nil
}

// mapClasses returns, for each source label, its index in classes or -1.
func mapClasses(src Source, classes []string) ([]int, error) {
	srcClasses := src.Classes()
	index := make(map[string]int, len(srcClasses))
	for i, name := range srcClasses {
		index[name] = i
	}
	taskLabel := make([]int, len(srcClasses))
	for i := range taskLabel {
		taskLabel[i] = -1
	}
	for k, name := range classes {
		label, ok := index[name]
		if !ok {
			return nil, fmt.Errorf("classes[%d]: unknown class %q in source %q, whose "+
				"classes are %s", k, name, src.Name(), quoteList(srcClasses, 12))
		}
		taskLabel[label] = k
	}
	return taskLabel, nil
}

// checkSize accepts img when it has the suite's size, which the first image
// fixes when the suite sets no image_size.
func (b *suiteBuilder) checkSize(img Image, src Source, i int) error {
	got := ImageSize{C: img.C, H: img.H, W: img.W}
	if b.size == nil {
		b.size = &got
		return nil
	}
	if got == *b.size {
		return nil
	}
	want := "the first image of the suite"
	if b.spec.ImageSize != nil {
		want = "image_size"
	}
	return fmt.Errorf("image %s is %v (C×H×W) but %s is %v; use sources of one image size",
		imagePath(src, i), got, want, *b.size)
}

// imagePath names image i of src in messages: its file where the source has
// one per image, else the source name and index.
func imagePath(src Source, i int) string {
	if withPaths, ok := src.(interface{ Path(int) string }); ok {
		return withPaths.Path(i)
	}
	return fmt.Sprintf("%s[%d]", src.Name(), i)
}

// quoteList quotes up to max names and counts the rest.
func quoteList(names []string, max int) string {
	var b strings.Builder
	for i, name := range names {
		if i == max {
			fmt.Fprintf(&b, " and %d more", len(names)-max)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%q", name)
	}
	return b.String()
}
