package data

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Skip reasons of the NUS-WIDE reader.
const (
	ReasonNoLabel   = "no label"  // no listed concept is set for the image
	ReasonAmbiguous = "ambiguous" // several listed concepts are set (NUSWIDESkipAmbiguous)
)

// NUSWIDEMultiLabel selects what LoadNUSWIDE does with an image that has
// several of the listed concepts.
type NUSWIDEMultiLabel int

const (
	// NUSWIDESkipAmbiguous skips the image with ReasonAmbiguous, so every
	// kept image has exactly one listed concept and its ground truth is
	// unambiguous. It is the default.
	NUSWIDESkipAmbiguous NUSWIDEMultiLabel = iota
	// NUSWIDEFirstConcept labels the image with its first set concept in
	// class order, keeping more images at the cost of noisier labels.
	NUSWIDEFirstConcept
)

// NUSWIDEOptions configures LoadNUSWIDE. ImageList, Labels and one of
// ConceptsFile or Concepts are required.
type NUSWIDEOptions struct {
	// Name identifies the source in messages. Empty means "nus-wide".
	Name string
	// ImageList is a file with one image path per line, as in NUS-WIDE's
	// Imagelist.txt. Backslashes become slashes, TrimPrefix is removed, and
	// relative paths are joined to ImageRoot.
	ImageList string
	// ImageRoot is the folder that relative list paths start from.
	ImageRoot string
	// TrimPrefix is removed from the start of each list path after the
	// backslash conversion, for lists of Windows paths such as
	// "C:/ImageData/Flickr/actor/0001_2124494179.jpg".
	TrimPrefix string
	// Labels is the label matrix: one row per list line, in the same
	// order, of space-separated 0/1 columns, one column per concept.
	Labels string
	// ConceptsFile is the concept list, one name per line (Concepts81.txt
	// for the 81 concepts, or a 21-line file for NUS-WIDE-21).
	ConceptsFile string
	// Concepts gives the concept list directly, in place of ConceptsFile.
	Concepts []string
	// Classes is the label vocabulary, a subset of the concepts in the
	// order that labels index. Columns of other concepts are ignored.
	// Empty means all concepts.
	Classes []string
	// MultiLabel selects the rule for images with several listed concepts.
	MultiLabel NUSWIDEMultiLabel
	// HeaderOnly, MaxPixels and Workers work as in FolderOptions.
	HeaderOnly bool
	MaxPixels  int
	Workers    int
}

// NUSWIDESource is a NUS-WIDE collection: an image list and a 0/1 label
// matrix with one label kept per image.
//
// An image is labelled by the listed concepts (NUSWIDEOptions.Classes) set
// in its row. Exactly one gives the label. None skips the image with
// ReasonNoLabel. Several skip it with ReasonAmbiguous, or, with
// NUSWIDEFirstConcept, give the first in class order. Images are checked
// for a label before their file is read, so an unlabelled image is reported
// as ReasonNoLabel even when its file is missing.
type NUSWIDESource struct {
	name      string
	classes   []string
	paths     []string
	labels    []int
	maxPixels int
	report    LoadReport
}

// LoadNUSWIDE reads the image list, label matrix and concept list, labels
// each image and checks its file. The label matrix must have one row per
// list line and one column per concept in every row. A mismatch, a value
// other than 0 or 1, or an unreadable list is an error, because the rows
// could no longer be matched to images. Missing, unreadable, unlabelled and
// ambiguous images are skipped and listed in Report.
func LoadNUSWIDE(opt NUSWIDEOptions) (*NUSWIDESource, error) {
	name := opt.Name
	if name == "" {
		name = "nus-wide"
	}
	fail := func(format string, args ...any) error {
		return fmt.Errorf("data: NUS-WIDE %s: "+format, append([]any{name}, args...)...)
	}

	concepts, err := nuswideConcepts(opt)
	if err != nil {
		return nil, fail("%w", err)
	}
	classes := opt.Classes
	if len(classes) == 0 {
		classes = concepts
	}
	columns, err := classColumns(classes, concepts)
	if err != nil {
		return nil, fail("%w", err)
	}

	listData, err := os.ReadFile(opt.ImageList)
	if err != nil {
		return nil, fail("image list: %w", err)
	}
	paths, err := parseNUSWIDEList(listData, opt.TrimPrefix)
	if err != nil {
		return nil, fail("image list %s: %w", opt.ImageList, err)
	}
	labelData, err := os.ReadFile(opt.Labels)
	if err != nil {
		return nil, fail("label matrix: %w", err)
	}
	matrix, err := parseNUSWIDELabels(labelData, len(concepts))
	if err != nil {
		return nil, fail("label matrix %s: %w", opt.Labels, err)
	}
	if matrix.rows != len(paths) {
		return nil, fail("label matrix %s has %d rows but image list %s has %d lines; "+
			"they must describe the same images in the same order",
			opt.Labels, matrix.rows, opt.ImageList, len(paths))
	}

	var skips []Skip
	var candidates []string
	var candidateLabels []int
	for i, p := range paths {
		if !filepath.IsAbs(p) {
			p = filepath.Join(opt.ImageRoot, p)
		}
		label, reason, detail := nuswideLabel(matrix.row(i), columns, classes, opt.MultiLabel)
		if reason != "" {
			skips = append(skips, Skip{Path: p, Reason: reason, Err: detail})
			continue
		}
		candidates = append(candidates, p)
		candidateLabels = append(candidateLabels, label)
	}

	src := &NUSWIDESource{name: name, classes: classes, maxPixels: opt.MaxPixels}
	for i, s := range checkImageFiles(candidates, opt.HeaderOnly, opt.MaxPixels, opt.Workers) {
		if s != nil {
			skips = append(skips, *s)
			continue
		}
		src.paths = append(src.paths, candidates[i])
		src.labels = append(src.labels, candidateLabels[i])
	}
	if len(src.paths) == 0 {
		return nil, fail("no usable images among %d listed (%d skipped)", len(paths), len(skips))
	}
	src.report = LoadReport{Source: name, Loaded: len(src.paths), Skipped: skips}
	return src, nil
}

// nuswideConcepts returns the concept list from opt.Concepts or
// opt.ConceptsFile.
func nuswideConcepts(opt NUSWIDEOptions) ([]string, error) {
	concepts := opt.Concepts
	switch {
	case len(concepts) > 0 && opt.ConceptsFile != "":
		return nil, fmt.Errorf("both Concepts and ConceptsFile are set; set one")
	case len(concepts) == 0 && opt.ConceptsFile == "":
		return nil, fmt.Errorf("no concept list; set ConceptsFile (such as Concepts81.txt) or Concepts")
	case opt.ConceptsFile != "":
		raw, err := os.ReadFile(opt.ConceptsFile)
		if err != nil {
			return nil, fmt.Errorf("concept list: %w", err)
		}
		lines := splitLines(raw)
		for i, l := range lines {
			l = strings.TrimSpace(l)
			if l == "" {
				return nil, fmt.Errorf("concept list %s line %d is empty", opt.ConceptsFile, i+1)
			}
			concepts = append(concepts, l)
		}
	}
	if len(concepts) == 0 {
		return nil, fmt.Errorf("concept list %s is empty", opt.ConceptsFile)
	}
	if dup := firstDuplicate(concepts); dup != "" {
		return nil, fmt.Errorf("concept %q listed twice", dup)
	}
	return concepts, nil
}

// classColumns maps each class to its concept column.
func classColumns(classes, concepts []string) ([]int, error) {
	if dup := firstDuplicate(classes); dup != "" {
		return nil, fmt.Errorf("class %q listed twice in Classes", dup)
	}
	column := make(map[string]int, len(concepts))
	for i, c := range concepts {
		column[c] = i
	}
	columns := make([]int, len(classes))
	for i, c := range classes {
		j, ok := column[c]
		if !ok {
			return nil, fmt.Errorf("class %q is not in the concept list (%d concepts, first %q)",
				c, len(concepts), concepts[0])
		}
		columns[i] = j
	}
	return columns, nil
}

// splitLines splits text into lines, accepting LF or CRLF endings and
// dropping trailing empty lines.
func splitLines(raw []byte) []string {
	text := strings.ReplaceAll(string(raw), "\r\n", "\n")
	text = strings.TrimRight(text, "\r\n \t")
	if text == "" {
		return nil
	}
	return strings.Split(text, "\n")
}

// parseNUSWIDEList parses an image list: backslashes become slashes and
// trimPrefix is removed. An empty line before the last path is an error,
// because it would shift every later label row by one.
func parseNUSWIDEList(raw []byte, trimPrefix string) ([]string, error) {
	trimPrefix = strings.ReplaceAll(trimPrefix, `\`, "/")
	lines := splitLines(raw)
	paths := make([]string, len(lines))
	for i, l := range lines {
		p := strings.ReplaceAll(strings.TrimSpace(l), `\`, "/")
		p = strings.TrimPrefix(p, trimPrefix)
		if p == "" {
			return nil, fmt.Errorf("line %d is empty; remove it or put the missing image path there", i+1)
		}
		if len(p) >= 2 && p[1] == ':' && isASCIILetter(p[0]) {
			return nil, fmt.Errorf("line %d: %q is a Windows drive path; set TrimPrefix (trim_prefix in a suite file) to the part "+
				"before the image folders, such as %q", i+1, p, "C:/ImageData/Flickr/")
		}
		paths[i] = filepath.FromSlash(p)
	}
	return paths, nil
}

func isASCIILetter(b byte) bool { return 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' }

// labelMatrix is a rows×width 0/1 matrix, row-major.
type labelMatrix struct {
	rows, width int
	bits        []bool
}

func (m labelMatrix) row(i int) []bool { return m.bits[i*m.width : (i+1)*m.width] }

// parseNUSWIDELabels parses a label matrix of whitespace-separated 0/1
// values, width per row.
func parseNUSWIDELabels(raw []byte, width int) (labelMatrix, error) {
	lines := splitLines(raw)
	m := labelMatrix{rows: len(lines), width: width, bits: make([]bool, 0, len(lines)*width)}
	for i, l := range lines {
		fields := bytes.Fields([]byte(l))
		if len(fields) != width {
			return labelMatrix{}, fmt.Errorf("row %d has %d columns but the concept list has %d concepts",
				i+1, len(fields), width)
		}
		for j, f := range fields {
			switch string(f) {
			case "0":
				m.bits = append(m.bits, false)
			case "1":
				m.bits = append(m.bits, true)
			default:
				return labelMatrix{}, fmt.Errorf("row %d column %d: invalid value %q; want 0 or 1", i+1, j+1, f)
			}
		}
	}
	return m, nil
}

// nuswideLabel applies the NUSWIDESource labelling rule to one row.
func nuswideLabel(row []bool, columns []int, classes []string,
	rule NUSWIDEMultiLabel) (label int, reason, detail string) {
	label = -1
	var set []string
	for k, j := range columns {
		if !row[j] {
			continue
		}
		if label < 0 {
			label = k
		}
		set = append(set, classes[k])
	}
	switch {
	case len(set) == 0:
		return -1, ReasonNoLabel, "no listed concept is set in the label row"
	case len(set) > 1 && rule != NUSWIDEFirstConcept:
		return -1, ReasonAmbiguous, fmt.Sprintf("concepts %q are all set; "+
			"NUSWIDEFirstConcept would pick %q", set, set[0])
	}
	return label, "", ""
}

// Name returns the source name.
func (s *NUSWIDESource) Name() string { return s.name }

// Classes returns the class vocabulary, which labels index.
func (s *NUSWIDESource) Classes() []string { return s.classes }

// Len returns the number of usable images.
func (s *NUSWIDESource) Len() int { return len(s.paths) }

// Label returns the class index of image i.
func (s *NUSWIDESource) Label(i int) int { return s.labels[i] }

// Path returns the file path of image i.
func (s *NUSWIDESource) Path(i int) string { return s.paths[i] }

// Image reads and decodes image i.
func (s *NUSWIDESource) Image(i int) (Image, error) {
	if i < 0 || i >= len(s.paths) {
		return Image{}, fmt.Errorf("data: %s: image index %d out of range [0, %d)", s.name, i, len(s.paths))
	}
	return decodeImageFile(s.paths[i], s.maxPixels)
}

// Report returns what was skipped while loading.
func (s *NUSWIDESource) Report() LoadReport { return s.report }

var _ Source = (*NUSWIDESource)(nil)
