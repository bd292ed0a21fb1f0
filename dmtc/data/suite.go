package data

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Source kinds of a suite file.
const (
	KindIDX                  = "idx"                    // MNIST-style IDX folder, see LoadIDXDir
	KindCIFAR100             = "cifar100"               // CIFAR-100 binary folder, see LoadCIFAR100Dir
	KindFolder               = "folder"                 // root/class/image files, see LoadFolder
	KindVOC                  = "voc"                    // Pascal VOC
	KindNUSWIDE              = "nuswide"                // NUS-WIDE
	KindEmbeddedFashionMNIST = "embedded-fashion-mnist" // see LoadEmbeddedFashionMNIST
)

var sourceKinds = []string{KindIDX, KindCIFAR100, KindFolder, KindVOC, KindNUSWIDE,
	KindEmbeddedFashionMNIST}

// SuiteSpec is the JSON form of a suite: the sources to read and the tasks to
// build from them. Unknown fields are rejected.
type SuiteSpec struct {
	Name string `json:"name"`
	// ImageSize, when set, is the size of every task image: images of another
	// size are converted by PreprocessInto (channel conversion, resize
	// keeping the aspect ratio, centre crop). When it is not set, all images
	// of the suite must have the size of the first one.
	ImageSize *ImageSize   `json:"image_size,omitempty"`
	Sources   []SourceSpec `json:"sources"`
	Tasks     []TaskSpec   `json:"tasks"`
}

// maxImageSide bounds image_size: every task image is held in memory as
// float32, so a larger side is almost surely a typing slip.
const maxImageSide = 1024

// ImageSize is an image size as channels, height and width.
type ImageSize struct {
	C int `json:"c"`
	H int `json:"h"`
	W int `json:"w"`
}

// String formats s as C×H×W, e.g. "3×32×32".
func (s ImageSize) String() string { return fmt.Sprintf("%d×%d×%d", s.C, s.H, s.W) }

// SourceSpec names a source and describes how to load it.
type SourceSpec struct {
	Name string `json:"name"`
	Kind string `json:"kind"`
	// Path is the folder to read. A relative path is resolved against
	// LoadOptions.DataDir when set, else against the suite file's folder.
	// Kind embedded-fashion-mnist takes no path.
	Path string `json:"path,omitempty"`
	// Split selects SplitTrain ("train"), SplitTest ("test") or both ("")
	// for kinds idx and cifar100.
	Split string `json:"split,omitempty"`
	// Classes names the labels 0, 1, ... of an idx source, whose files store
	// no names; the digits "0" to "9" when empty.
	Classes []string `json:"classes,omitempty"`
	// ImageSet names a list in ImageSets/Main of a voc source, such as
	// "trainval"; empty means every annotated image.
	ImageSet string `json:"image_set,omitempty"`
	// NUSWIDE locates the files of a nuswide source, which requires it.
	NUSWIDE *NUSWIDEFiles `json:"nuswide,omitempty"`
}

// NUSWIDEFiles locates the files of a NUS-WIDE source. Relative names are
// resolved against the source path, which is also the folder that relative
// image-list entries start from.
type NUSWIDEFiles struct {
	ImageList string `json:"image_list"` // one image path a line, e.g. Imagelist.txt
	Labels    string `json:"labels"`     // 0/1 label matrix, one row a list line
	Concepts  string `json:"concepts"`   // concept names, one a line, e.g. Concepts81.txt
	// TrimPrefix is removed from the start of each list path, e.g.
	// "C:/ImageData/".
	TrimPrefix string `json:"trim_prefix,omitempty"`
	// MultiLabel is the rule for an image with several of the concepts
	// that the suite's tasks use from this source. "skip" (the default)
	// skips it. "first" takes the first of them in task order: the classes
	// of the first task that uses the source, then new classes of the next.
	// Concepts that no task uses are ignored.
	MultiLabel string `json:"multi_label,omitempty"`
}

// TaskSpec is one task of a suite: the listed classes of one source.
type TaskSpec struct {
	Name   string `json:"name"`
	Source string `json:"source"`
	// Classes lists the source's class names to use; a task label is an
	// index into this list.
	Classes []string `json:"classes"`
	// PerClassCap keeps the first PerClassCap images of each class in source
	// order; 0 keeps all.
	PerClassCap int `json:"per_class_cap,omitempty"`
}

// LoadOptions configures LoadSuite.
type LoadOptions struct {
	// DataDir is the data folder of the built-in suites (see BuiltinSuite)
	// and the base of relative source paths in suite files.
	DataDir string
	// Strict turns every skipped file or image into an error.
	Strict bool
}

// Suite is a loaded suite: its tasks and one load report per source used.
type Suite struct {
	Name    string
	Tasks   []Task
	Reports []LoadReport
}

// LoadSuite loads a built-in suite (see BuiltinSuites) or, when name is not
// one, the suite file at path name.
func LoadSuite(name string, opt LoadOptions) (*Suite, error) {
	if slices.Contains(BuiltinSuites(), name) {
		spec, err := BuiltinSuite(name, opt.DataDir)
		if err != nil {
			return nil, err
		}
		return BuildSuite(spec, opt.DataDir, opt)
	}
	data, err := os.ReadFile(name)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) && filepath.Ext(name) != ".json" {
			return nil, fmt.Errorf("data: unknown suite %q: want one of %s or the path of a "+
				"suite file (.json)", name, strings.Join(BuiltinSuites(), ", "))
		}
		return nil, fmt.Errorf("data: suite file: %w", err)
	}
	spec, err := ParseSuiteSpec(data)
	if err != nil {
		return nil, fmt.Errorf("data: suite file %s: %w", name, err)
	}
	base := opt.DataDir
	if base == "" {
		base = filepath.Dir(name)
	}
	return BuildSuite(spec, base, opt)
}

// ParseSuiteSpec decodes a suite file and validates it (see
// SuiteSpec.Validate).
func ParseSuiteSpec(data []byte) (*SuiteSpec, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var spec SuiteSpec
	if err := dec.Decode(&spec); err != nil {
		return nil, fmt.Errorf("data: invalid suite JSON: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("data: invalid suite JSON: data after the top-level object")
	}
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	return &spec, nil
}

// Validate checks what can be checked without reading data: names present
// and unique, known source kinds, tasks that name a declared source and at
// least two distinct classes, caps not negative, and a valid image size.
// Errors name the offending field as in the JSON, e.g. tasks[1].classes[2].
func (s *SuiteSpec) Validate() error {
	if err := s.validate(); err != nil {
		return fmt.Errorf("data: suite %q: %w", s.Name, err)
	}
	return nil
}

func (s *SuiteSpec) validate() error {
	if s.Name == "" {
		return errors.New("name: empty; give the suite a name")
	}
	if size := s.ImageSize; size != nil {
		if size.C != 1 && size.C != 3 {
			return fmt.Errorf("image_size.c: %d, want 1 (grey) or 3 (RGB)", size.C)
		}
		if size.H <= 0 || size.W <= 0 {
			return fmt.Errorf("image_size: %d×%d, want a positive height and width", size.H,
				size.W)
		}
		if size.H > maxImageSide || size.W > maxImageSide {
			return fmt.Errorf("image_size: %d×%d, want a height and width of at most %d; "+
				"clustering networks take small images, so resize to e.g. 32×32 or 64×64",
				size.H, size.W, maxImageSide)
		}
	}
	if len(s.Sources) == 0 {
		return errors.New("sources: empty; declare at least one source")
	}
	sources := make(map[string]int, len(s.Sources))
	for i, src := range s.Sources {
		if err := src.validate(); err != nil {
			return fmt.Errorf("sources[%d]: %w", i, err)
		}
		if first, dup := sources[src.Name]; dup {
			return fmt.Errorf("sources[%d].name: %q is also the name of sources[%d]", i,
				src.Name, first)
		}
		sources[src.Name] = i
	}
	if len(s.Tasks) == 0 {
		return errors.New("tasks: empty; declare at least one task")
	}
	tasks := make(map[string]int, len(s.Tasks))
	for i, task := range s.Tasks {
		if err := task.validate(sources); err != nil {
			return fmt.Errorf("tasks[%d]: %w", i, err)
		}
		if first, dup := tasks[task.Name]; dup {
			return fmt.Errorf("tasks[%d].name: %q is also the name of tasks[%d]", i, task.Name,
				first)
		}
		tasks[task.Name] = i
	}
	return nil
}

func (src *SourceSpec) validate() error {
	if src.Name == "" {
		return errors.New("name: empty; give the source a name")
	}
	if !slices.Contains(sourceKinds, src.Kind) {
		return fmt.Errorf("kind: unknown kind %q, want one of %s", src.Kind,
			strings.Join(sourceKinds, ", "))
	}
	switch {
	case src.Kind == KindEmbeddedFashionMNIST && src.Path != "":
		return fmt.Errorf("path: %q, but kind %s takes no path", src.Path, src.Kind)
	case src.Kind != KindEmbeddedFashionMNIST && src.Path == "":
		return fmt.Errorf("path: empty; kind %s needs the folder to read", src.Kind)
	}
	if src.Split != "" {
		if src.Kind != KindIDX && src.Kind != KindCIFAR100 {
			return fmt.Errorf("split: %q, but only kinds %s and %s take a split", src.Split,
				KindIDX, KindCIFAR100)
		}
		if src.Split != SplitTrain && src.Split != SplitTest {
			return fmt.Errorf("split: %q, want %q, %q or empty (both)", src.Split, SplitTrain,
				SplitTest)
		}
	}
	if src.ImageSet != "" && src.Kind != KindVOC {
		return fmt.Errorf("image_set: %q, but only kind %s takes an image set", src.ImageSet,
			KindVOC)
	}
	if err := src.validateNUSWIDE(); err != nil {
		return err
	}
	if len(src.Classes) > 0 {
		if src.Kind != KindIDX {
			return fmt.Errorf("classes: only kind %s takes class names; %s stores its own",
				KindIDX, src.Kind)
		}
		if err := checkClassList(src.Classes); err != nil {
			return fmt.Errorf("classes%w", err)
		}
	}
	return nil
}

func (src *SourceSpec) validateNUSWIDE() error {
	files := src.NUSWIDE
	switch {
	case src.Kind != KindNUSWIDE && files != nil:
		return fmt.Errorf("nuswide: only kind %s takes NUS-WIDE files", KindNUSWIDE)
	case src.Kind != KindNUSWIDE:
		return nil
	case files == nil:
		return errors.New(`nuswide: missing; kind nuswide needs {"image_list", "labels", ` +
			`"concepts"}`)
	case files.ImageList == "":
		return errors.New("nuswide.image_list: empty; name the image list file")
	case files.Labels == "":
		return errors.New("nuswide.labels: empty; name the label matrix file")
	case files.Concepts == "":
		return errors.New("nuswide.concepts: empty; name the concept list file")
	case files.MultiLabel != "" && files.MultiLabel != "skip" && files.MultiLabel != "first":
		return fmt.Errorf(`nuswide.multi_label: %q, want "skip" or "first"`, files.MultiLabel)
	}
	return nil
}

func (task *TaskSpec) validate(sources map[string]int) error {
	if task.Name == "" {
		return errors.New("name: empty; give the task a name")
	}
	if _, ok := sources[task.Source]; !ok {
		return fmt.Errorf("source: unknown source %q; declare it under sources", task.Source)
	}
	if len(task.Classes) < 2 {
		return fmt.Errorf("classes: %d classes, but a clustering task needs at least 2",
			len(task.Classes))
	}
	if err := checkClassList(task.Classes); err != nil {
		return fmt.Errorf("classes%w", err)
	}
	if task.PerClassCap < 0 {
		return fmt.Errorf("per_class_cap: %d, want 0 (no cap) or a positive count",
			task.PerClassCap)
	}
	return nil
}

// checkClassList rejects empty and duplicate names; its errors start with the
// element index, as in "[2]: ...".
func checkClassList(classes []string) error {
	seen := make(map[string]int, len(classes))
	for i, name := range classes {
		if name == "" {
			return fmt.Errorf("[%d]: empty class name", i)
		}
		if first, dup := seen[name]; dup {
			return fmt.Errorf("[%d]: duplicate class %q, also at index %d", i, name, first)
		}
		seen[name] = i
	}
	return nil
}
