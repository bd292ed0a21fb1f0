package data

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
)

// BuildSuite validates spec, loads the sources its tasks use (relative paths
// resolved against baseDir) and builds the tasks in spec order. Task images
// keep source order, and task labels index the task's own class list.
// Besides the checks of Validate, it fails when a task class is not a class
// of its source or has no usable images. Without spec.ImageSize, it also
// fails when an image differs in size from the first image of the suite.
// With opt.Strict, any skipped file or image is an error too.
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
		src, err := openSource(spec.Sources[i], baseDir, spec.classesOf(task.Source))
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

// classesOf lists the classes that the tasks use from source, in task
// order, each once.
func (s *SuiteSpec) classesOf(source string) []string {
	var classes []string
	for _, task := range s.Tasks {
		if task.Source != source {
			continue
		}
		for _, name := range task.Classes {
			if !slices.Contains(classes, name) {
				classes = append(classes, name)
			}
		}
	}
	return classes
}

func containsSkip(skips []Skip, path string) bool {
	for _, s := range skips {
		if s.Path == path {
			return true
		}
	}
	return false
}

// openSource loads the source that spec describes. A NUS-WIDE source is
// restricted to usedClasses, the classes that tasks take from it, so that
// its multi-label rule looks at those concepts only.
func openSource(spec SourceSpec, baseDir string, usedClasses []string) (Source, error) {
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
	case KindVOC:
		return LoadVOC(path, VOCOptions{Name: spec.Name, ImageSet: spec.ImageSet})
	case KindNUSWIDE:
		files := spec.NUSWIDE
		in := func(name string) string {
			if filepath.IsAbs(name) {
				return name
			}
			return filepath.Join(path, name)
		}
		multi := NUSWIDESkipAmbiguous
		if files.MultiLabel == "first" {
			multi = NUSWIDEFirstConcept
		}
		return LoadNUSWIDE(NUSWIDEOptions{
			Name:         spec.Name,
			ImageList:    in(files.ImageList),
			ImageRoot:    path,
			TrimPrefix:   files.TrimPrefix,
			Labels:       in(files.Labels),
			ConceptsFile: in(files.Concepts),
			Classes:      usedClasses,
			MultiLabel:   multi,
		})
	}
	panic(fmt.Sprintf("data: openSource: kind %q passed validation but has no loader", spec.Kind))
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
	picked, err := pickImages(src, spec, taskLabel)
	if err != nil {
		return Task{}, nil, err
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
		if len(img.Pix) != img.C*img.H*img.W {
			return Task{}, nil, fmt.Errorf("image %s: %d samples for %d×%d×%d (C×H×W)",
				imagePath(src, i), len(img.Pix), img.C, img.H, img.W)
		}
		exact, err := b.checkSize(img, src, i)
		if err != nil {
			return Task{}, nil, err
		}
		if task.X == nil {
			task.C, task.H, task.W = b.size.C, b.size.H, b.size.W
			task.X = make([]float32, 0, len(picked)*task.C*task.H*task.W)
		}
		start := len(task.X)
		task.X = task.X[:start+task.C*task.H*task.W] // within the capacity of len(picked) images
		dst := task.X[start:]
		if exact {
			for j, p := range img.Pix {
				dst[j] = float32(p) / 255
			}
		} else if err := PreprocessInto(dst, img, task.C, task.H, task.W,
			PreprocessOptions{}); err != nil {
			return Task{}, nil, fmt.Errorf("image %s: %w", imagePath(src, i), err)
		}
		task.Labels = append(task.Labels, taskLabel[src.Label(i)])
	}
	// Skipped images can leave a class empty, and a task needs at least one
	// image a cluster.
	counts := make([]int, len(spec.Classes))
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

// pickImages selects the images of a task by label alone, before any image
// is decoded, so that X can be allocated once.
func pickImages(src Source, spec TaskSpec, taskLabel []int) ([]int, error) {
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
			return nil, fmt.Errorf("classes[%d]: class %q has no images in source %q",
				k, spec.Classes[k], src.Name())
		}
	}
	return picked, nil
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
		if dir := emptyClassDir(src.Report(), name); !ok && dir != "" {
			return nil, fmt.Errorf("classes[%d]: class %q of source %q has no usable image: "+
				"every file in %s was skipped (%s)", k, name, src.Name(), dir, skipSummary(src.Report(), dir))
		}
		if !ok {
			return nil, fmt.Errorf("classes[%d]: unknown class %q in source %q, whose "+
				"classes are %s", k, name, src.Name(), quoteList(srcClasses, 12))
		}
		taskLabel[label] = k
	}
	return taskLabel, nil
}

// checkSize reports whether img has the suite's size, which the first image
// fixes when the suite sets no image_size. An image of another size is an
// error without image_size, and is converted by PreprocessInto with it.
func (b *suiteBuilder) checkSize(img Image, src Source, i int) (bool, error) {
	got := ImageSize{C: img.C, H: img.H, W: img.W}
	if b.size == nil {
		b.size = &got
		return true, nil
	}
	if got == *b.size {
		return true, nil
	}
	if b.spec.ImageSize != nil {
		return false, nil
	}
	return false, fmt.Errorf("image %s is %v (C×H×W) but the first image of the suite is %v; "+
		"set image_size to convert all images to one size", imagePath(src, i), got, *b.size)
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

// emptyClassDir returns the folder of class name when the source dropped the
// class because none of its files could be used, and "" otherwise.
func emptyClassDir(r LoadReport, name string) string {
	for _, skip := range r.Skipped {
		if skip.Reason == ReasonEmptyClass && filepath.Base(skip.Path) == name {
			return skip.Path
		}
	}
	return ""
}

// skipSummary counts the files skipped under dir by reason, e.g.
// "2 unreadable, 1 missing".
func skipSummary(r LoadReport, dir string) string {
	counts := map[string]int{}
	var reasons []string
	for _, skip := range r.Skipped {
		if skip.Reason == ReasonEmptyClass || !strings.HasPrefix(skip.Path, dir+string(filepath.Separator)) {
			continue
		}
		if counts[skip.Reason] == 0 {
			reasons = append(reasons, skip.Reason)
		}
		counts[skip.Reason]++
	}
	parts := make([]string, len(reasons))
	for i, reason := range reasons {
		parts[i] = fmt.Sprintf("%d %s", counts[reason], reason)
	}
	return strings.Join(parts, ", ")
}
