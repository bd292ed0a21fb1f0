package data

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Skip reasons of the Pascal VOC reader.
const (
	ReasonMissingAnnotation = "missing annotation"     // no Annotations/<id>.xml
	ReasonInvalidAnnotation = "invalid annotation"     // unparseable XML or field
	ReasonNoObjects         = "no objects"             // the annotation lists no object
	ReasonOnlyDifficult     = "only difficult objects" // every listed-class object is difficult
	ReasonNoListedClass     = "no listed class"        // no object belongs to VOCOptions.Classes
)

// VOCClasses returns the 20 Pascal VOC object classes in the standard order
// of the VOC2007 and VOC2012 development kits.
func VOCClasses() []string {
	return []string{
		"aeroplane", "bicycle", "bird", "boat", "bottle",
		"bus", "car", "cat", "chair", "cow",
		"diningtable", "dog", "horse", "motorbike", "person",
		"pottedplant", "sheep", "sofa", "train", "tvmonitor",
	}
}

// VOCOptions configures LoadVOC.
type VOCOptions struct {
	// Name identifies the source in messages. Empty means the root's base
	// name, such as "VOC2007".
	Name string
	// ImageSet names a list in ImageSets/Main, such as "trainval" or
	// "test", whose first column gives the image ids. Class lists such as
	// "dog_trainval" also work, but their ±1 column is ignored. Empty means
	// every id that has an annotation or an image.
	ImageSet string
	// Classes is the label vocabulary, in the order that labels index.
	// Objects of other classes are ignored. Empty means VOCClasses().
	Classes []string
	// HeaderOnly, MaxPixels and Workers work as in FolderOptions.
	HeaderOnly bool
	MaxPixels  int
	Workers    int
}

// VOCSource is a Pascal VOC collection (JPEGImages/<id>.jpg with
// Annotations/<id>.xml) with one label per image.
//
// The label of an image is the class of its largest non-difficult object
// among the listed classes, by bounding-box area (xmax − xmin)·(ymax − ymin).
// On a tie the object that comes first in the file wins. An image whose
// listed-class objects are all marked difficult is skipped with
// ReasonOnlyDifficult, because VOC itself leaves difficult objects out of
// evaluation and they are often too small or occluded to name the image.
type VOCSource struct {
	name      string
	classes   []string
	ids       []string
	paths     []string
	labels    []int
	maxPixels int
	report    LoadReport
}

// LoadVOC indexes the VOC collection at root (the folder that contains
// JPEGImages and Annotations, such as VOCdevkit/VOC2007), parses every
// annotation and checks every image. Images that cannot be used are
// skipped and listed in Report. LoadVOC fails only when root or the image
// set cannot be read or no image is usable.
func LoadVOC(root string, opt VOCOptions) (*VOCSource, error) {
	name := opt.Name
	if name == "" {
		name = filepath.Base(filepath.Clean(root))
	}
	classes := opt.Classes
	if len(classes) == 0 {
		classes = VOCClasses()
	}
	if dup := firstDuplicate(classes); dup != "" {
		return nil, fmt.Errorf("data: VOC %s: class %q listed twice in Classes", name, dup)
	}
	classIndex := make(map[string]int, len(classes))
	for i, c := range classes {
		classIndex[c] = i
	}

	ids, err := vocIDs(root, opt.ImageSet)
	if err != nil {
		return nil, fmt.Errorf("data: VOC %s: %w", name, err)
	}

	var skips []Skip
	var candidates []string // image paths whose annotation gave a label
	var candidateIDs []string
	var candidateLabels []int
	for _, id := range ids {
		annPath := filepath.Join(root, "Annotations", id+".xml")
		raw, err := os.ReadFile(annPath)
		if errors.Is(err, os.ErrNotExist) {
			skips = append(skips, Skip{Path: annPath, Reason: ReasonMissingAnnotation, Err: err.Error()})
			continue
		}
		if err != nil {
			skips = append(skips, Skip{Path: annPath, Reason: ReasonUnreadable, Err: err.Error()})
			continue
		}
		ann, err := parseVOCAnnotation(raw)
		if err != nil {
			skips = append(skips, Skip{Path: annPath, Reason: ReasonInvalidAnnotation, Err: err.Error()})
			continue
		}
		label, reason, detail := ann.label(classIndex)
		if reason != "" {
			skips = append(skips, Skip{Path: annPath, Reason: reason, Err: detail})
			continue
		}
		candidates = append(candidates, vocImagePath(root, id, ann.Filename))
		candidateIDs = append(candidateIDs, id)
		candidateLabels = append(candidateLabels, label)
	}

	src := &VOCSource{name: name, classes: classes, maxPixels: opt.MaxPixels}
	fileSkips := checkImageFiles(candidates, opt.HeaderOnly, opt.MaxPixels, opt.Workers)
	for i, s := range fileSkips {
		if s != nil {
			skips = append(skips, *s)
			continue
		}
		src.ids = append(src.ids, candidateIDs[i])
		src.paths = append(src.paths, candidates[i])
		src.labels = append(src.labels, candidateLabels[i])
	}
	if len(src.paths) == 0 {
		return nil, fmt.Errorf("data: VOC %s: no usable images under %s (%d ids, %d skipped)",
			name, root, len(ids), len(skips))
	}
	src.report = LoadReport{Source: name, Loaded: len(src.paths), Skipped: skips}
	return src, nil
}

// vocIDs returns the image ids of an image set, or, when set is empty, the
// sorted union of the ids in Annotations and JPEGImages.
func vocIDs(root, set string) ([]string, error) {
	if set != "" {
		return readVOCImageSet(filepath.Join(root, "ImageSets", "Main", set+".txt"))
	}
	seen := map[string]bool{}
	for _, sub := range []struct{ dir, ext string }{{"Annotations", ".xml"}, {"JPEGImages", ".jpg"}} {
		entries, err := os.ReadDir(filepath.Join(root, sub.dir))
		if err != nil {
			return nil, fmt.Errorf("%w; expected a VOC folder with Annotations and JPEGImages", err)
		}
		for _, e := range entries {
			n := e.Name()
			if isHidden(n) || e.IsDir() || !strings.EqualFold(filepath.Ext(n), sub.ext) {
				continue
			}
			seen[strings.TrimSuffix(n, filepath.Ext(n))] = true
		}
	}
	ids := make([]string, 0, len(seen))
	for id := range seen {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids, nil
}

// readVOCImageSet reads the first column of an ImageSets/Main list.
func readVOCImageSet(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("image set: %w", err)
	}
	defer f.Close()
	var ids []string
	seen := map[string]int{}
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 {
			continue
		}
		id := fields[0]
		if id != filepath.Base(id) || id == "." || id == ".." {
			return nil, fmt.Errorf("image set %s line %d: invalid id %q; want a file name without folders",
				path, line, id)
		}
		if first, ok := seen[id]; ok {
			return nil, fmt.Errorf("image set %s line %d: id %q already listed on line %d", path, line, id, first)
		}
		seen[id] = line
		ids = append(ids, id)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("image set %s: %w", path, err)
	}
	return ids, nil
}

// vocImagePath returns JPEGImages/<id>.jpg, or the annotation's <filename>
// when only that file exists.
func vocImagePath(root, id, filename string) string {
	path := filepath.Join(root, "JPEGImages", id+".jpg")
	if filename == "" || filename == id+".jpg" {
		return path
	}
	if _, err := os.Stat(path); err == nil {
		return path
	}
	alt := filepath.Join(root, "JPEGImages", filepath.Base(filename))
	if _, err := os.Stat(alt); err == nil {
		return alt
	}
	return path
}

// vocAnnotation is the part of a VOC annotation file that the reader uses.
// Unknown elements, including the <annotation> element that VOC nests
// inside <source>, are ignored.
type vocAnnotation struct {
	XMLName  xml.Name       `xml:"annotation"`
	Filename string         `xml:"filename"`
	Objects  []vocObjectXML `xml:"object"`
}

type vocObjectXML struct {
	Name      string `xml:"name"`
	Difficult string `xml:"difficult"`
	Box       *struct {
		XMin string `xml:"xmin"`
		YMin string `xml:"ymin"`
		XMax string `xml:"xmax"`
		YMax string `xml:"ymax"`
	} `xml:"bndbox"`
}

// vocObject is one parsed object.
type vocObject struct {
	Name      string
	Difficult bool
	Area      float64
}

// parsedVOC is a parsed annotation: file name and objects in file order.
type parsedVOC struct {
	Filename string
	Objects  []vocObject
}

// parseVOCAnnotation parses a VOC annotation. Coordinates may be
// fractional ("12.5"), a missing <difficult> means not difficult, and
// <pose> and <truncated> are not read. Non-numeric or non-finite
// coordinates, an unparseable <difficult> and an object without <bndbox>
// are errors.
func parseVOCAnnotation(raw []byte) (parsedVOC, error) {
	var a vocAnnotation
	dec := xml.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&a); err != nil {
		return parsedVOC{}, fmt.Errorf("data: parse VOC annotation: %w", err)
	}
	out := parsedVOC{Filename: strings.TrimSpace(a.Filename), Objects: make([]vocObject, 0, len(a.Objects))}
	for i, o := range a.Objects {
		obj := vocObject{Name: strings.TrimSpace(o.Name)}
		if d := strings.TrimSpace(o.Difficult); d != "" {
			v, err := strconv.ParseBool(d)
			if err != nil {
				return parsedVOC{}, fmt.Errorf("data: VOC object %d (%q): invalid <difficult> %q; want 0 or 1",
					i, obj.Name, o.Difficult)
			}
			obj.Difficult = v
		}
		if o.Box == nil {
			return parsedVOC{}, fmt.Errorf("data: VOC object %d (%q) has no <bndbox>", i, obj.Name)
		}
		var coord [4]float64
		for j, field := range [4]struct{ tag, text string }{
			{"xmin", o.Box.XMin}, {"ymin", o.Box.YMin}, {"xmax", o.Box.XMax}, {"ymax", o.Box.YMax},
		} {
			v, err := strconv.ParseFloat(strings.TrimSpace(field.text), 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
				return parsedVOC{}, fmt.Errorf("data: VOC object %d (%q): invalid <%s> %q; want a finite number",
					i, obj.Name, field.tag, field.text)
			}
			coord[j] = v
		}
		// A reversed box has no area rather than a negative one. The width
		// of finite coordinates can overflow to +Inf, and +Inf·0 would be
		// NaN, so an empty side short-circuits to area 0.
		width, height := max(coord[2]-coord[0], 0), max(coord[3]-coord[1], 0)
		if width > 0 && height > 0 {
			obj.Area = width * height
		}
		out.Objects = append(out.Objects, obj)
	}
	return out, nil
}

// label applies the VOCSource labelling rule. It returns the class index,
// or a skip reason with a detail message.
func (a parsedVOC) label(classIndex map[string]int) (label int, reason, detail string) {
	if len(a.Objects) == 0 {
		return -1, ReasonNoObjects, "the annotation has no <object>"
	}
	best, bestArea := -1, -1.0
	listed, difficult := 0, 0
	var others []string
	for _, o := range a.Objects {
		k, ok := classIndex[o.Name]
		if !ok {
			others = append(others, o.Name)
			continue
		}
		listed++
		if o.Difficult {
			difficult++
			continue
		}
		if o.Area > bestArea { // strict, so the first of equal areas wins
			best, bestArea = k, o.Area
		}
	}
	switch {
	case listed == 0:
		return -1, ReasonNoListedClass, fmt.Sprintf("object classes %q are not in the class list", others)
	case best < 0:
		return -1, ReasonOnlyDifficult, fmt.Sprintf("all %d objects of listed classes are difficult", difficult)
	}
	return best, "", ""
}

// Name returns the source name.
func (s *VOCSource) Name() string { return s.name }

// Classes returns the class vocabulary, which labels index.
func (s *VOCSource) Classes() []string { return s.classes }

// Len returns the number of usable images.
func (s *VOCSource) Len() int { return len(s.paths) }

// Label returns the class index of image i.
func (s *VOCSource) Label(i int) int { return s.labels[i] }

// ID returns the VOC image id of image i, such as "000005".
func (s *VOCSource) ID(i int) string { return s.ids[i] }

// Path returns the file path of image i.
func (s *VOCSource) Path(i int) string { return s.paths[i] }

// Image reads and decodes image i.
func (s *VOCSource) Image(i int) (Image, error) {
	if i < 0 || i >= len(s.paths) {
		return Image{}, fmt.Errorf("data: %s: image index %d out of range [0, %d)", s.name, i, len(s.paths))
	}
	return decodeImageFile(s.paths[i], s.maxPixels)
}

// Report returns what was skipped while loading.
func (s *VOCSource) Report() LoadReport { return s.report }

var _ Source = (*VOCSource)(nil)
