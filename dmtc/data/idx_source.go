package data

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Splits of the IDX and CIFAR-100 folder loaders.
const (
	SplitAll   = ""      // the training set followed by the test set
	SplitTrain = "train" // the training set only
	SplitTest  = "test"  // the test set only
)

// IDXSource is a Source of grey images read from a pair of IDX files (images
// and labels), or from several pairs loaded one after the other.
type IDXSource struct {
	name    string
	classes []string
	h, w    int
	pix     []uint8
	labels  []uint8
	report  LoadReport
}

// NewIDXSource pairs images with labels. It returns an error wrapping
// ErrLabelCount when their counts differ and ErrLabelRange when a label is
// not an index into classes.
func NewIDXSource(name string, images *IDXImages, labels []uint8, classes []string) (*IDXSource, error) {
	if err := checkIDXPair(images, labels, len(classes)); err != nil {
		return nil, fmt.Errorf("data: source %q: %w", name, err)
	}
	return &IDXSource{
		name:    name,
		classes: append([]string(nil), classes...),
		h:       images.H,
		w:       images.W,
		pix:     images.Pix,
		labels:  labels,
		report:  LoadReport{Source: name, Loaded: images.N},
	}, nil
}

func checkIDXPair(images *IDXImages, labels []uint8, numClasses int) error {
	if len(labels) != images.N {
		return fmt.Errorf("%w: %d labels for %d images; the two files come from different sets",
			ErrLabelCount, len(labels), images.N)
	}
	for i, label := range labels {
		if int(label) >= numClasses {
			return fmt.Errorf("%w: label %d of image %d, want 0..%d (%d classes)",
				ErrLabelRange, label, i, numClasses-1, numClasses)
		}
	}
	return nil
}

// LoadIDXFiles reads an images file and a labels file (each raw or gzip) into
// a Source; classes names the labels 0..len(classes)-1.
func LoadIDXFiles(name, imagesPath, labelsPath string, classes []string) (*IDXSource, error) {
	images, err := ReadIDXImagesFile(imagesPath)
	if err != nil {
		return nil, err
	}
	labels, err := ReadIDXLabelsFile(labelsPath)
	if err != nil {
		return nil, err
	}
	if err := checkIDXPair(images, labels, len(classes)); err != nil {
		return nil, fmt.Errorf("data: %s: %w (images: %s)", labelsPath, err, imagesPath)
	}
	return NewIDXSource(name, images, labels, classes)
}

// idxSplitFiles lists the standard file names of MNIST and Fashion-MNIST.
var idxSplitFiles = []struct {
	split          string
	images, labels string
}{
	{SplitTrain, "train-images-idx3-ubyte", "train-labels-idx1-ubyte"},
	{SplitTest, "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"},
}

// LoadIDXDir loads the IDX files with the standard MNIST names from dir:
// train-images-idx3-ubyte and train-labels-idx1-ubyte for SplitTrain,
// t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte for SplitTest, each with
// or without a .gz suffix (the uncompressed file wins when both exist).
// SplitAll loads the training set followed by the test set. A missing or
// invalid pair is reported in the source's Report and the load goes on; it is
// an error only when no pair loads.
func LoadIDXDir(dir, split string, classes []string) (*IDXSource, error) {
	if split != SplitAll && split != SplitTrain && split != SplitTest {
		return nil, fmt.Errorf("data: invalid IDX split %q, want %q, %q or \"\" (both)",
			split, SplitTrain, SplitTest)
	}
	name := "idx:" + filepath.Base(dir)
	if split != SplitAll {
		name += "-" + split
	}
	src := &IDXSource{name: name, classes: append([]string(nil), classes...)}
	src.report.Source = name
	var failures []string
	for _, files := range idxSplitFiles {
		if split != SplitAll && split != files.split {
			continue
		}
		skip := src.loadSplit(dir, files.images, files.labels)
		if skip != nil {
			src.report.Skipped = append(src.report.Skipped, *skip)
			failures = append(failures, skip.Err)
		}
	}
	if len(src.labels) == 0 {
		return nil, fmt.Errorf("data: no usable IDX files in %s: %s", dir,
			strings.Join(failures, "; "))
	}
	src.report.Loaded = len(src.labels)
	return src, nil
}

// loadSplit appends one images/labels pair from dir to s, or returns why it
// could not.
func (s *IDXSource) loadSplit(dir, imagesName, labelsName string) *Skip {
	imagesPath, err := findIDXFile(dir, imagesName)
	if err != nil {
		return &Skip{Path: filepath.Join(dir, imagesName), Reason: skipReason(err), Err: err.Error()}
	}
	labelsPath, err := findIDXFile(dir, labelsName)
	if err != nil {
		return &Skip{Path: filepath.Join(dir, labelsName), Reason: skipReason(err), Err: err.Error()}
	}
	images, err := ReadIDXImagesFile(imagesPath)
	if err != nil {
		return &Skip{Path: imagesPath, Reason: skipReason(err), Err: err.Error()}
	}
	labels, err := ReadIDXLabelsFile(labelsPath)
	if err == nil {
		err = checkIDXPair(images, labels, len(s.classes))
		if err != nil {
			err = fmt.Errorf("data: %s: %w (images: %s)", labelsPath, err, imagesPath)
		}
	}
	if err != nil {
		return &Skip{Path: labelsPath, Reason: skipReason(err), Err: err.Error()}
	}
	if len(s.labels) > 0 && (images.H != s.h || images.W != s.w) {
		err := fmt.Errorf("data: %s: %w: images are %d×%d but the files loaded before "+
			"hold %d×%d images", imagesPath, ErrIDXDims, images.H, images.W, s.h, s.w)
		return &Skip{Path: imagesPath, Reason: skipReason(err), Err: err.Error()}
	}
	s.h, s.w = images.H, images.W
	s.pix = append(s.pix, images.Pix...)
	s.labels = append(s.labels, labels...)
	return nil
}

// findIDXFile returns dir/name if it exists, else dir/name.gz.
func findIDXFile(dir, name string) (string, error) {
	for _, candidate := range []string{name, name + ".gz"} {
		path := filepath.Join(dir, candidate)
		info, err := os.Stat(path)
		if err == nil && info.Mode().IsRegular() {
			return path, nil
		}
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("data: %w", err)
		}
	}
	return "", fmt.Errorf("data: %w: neither %s nor %s.gz is in %s", fs.ErrNotExist, name,
		name, dir)
}

// Name returns the source name given at load time.
func (s *IDXSource) Name() string { return s.name }

// Classes returns a copy of the class names.
func (s *IDXSource) Classes() []string { return append([]string(nil), s.classes...) }

// Len returns the number of images.
func (s *IDXSource) Len() int { return len(s.labels) }

// Label returns the class index of image i.
func (s *IDXSource) Label(i int) int { return int(s.labels[i]) }

// Image returns a copy of image i as a 1×H×W grey image.
func (s *IDXSource) Image(i int) (Image, error) {
	if i < 0 || i >= len(s.labels) {
		return Image{}, fmt.Errorf("data: %s: image index %d out of range [0, %d)", s.name, i,
			len(s.labels))
	}
	size := s.h * s.w
	pix := append([]uint8(nil), s.pix[i*size:(i+1)*size]...)
	return Image{C: 1, H: s.h, W: s.w, Pix: pix}, nil
}

// Report returns what was loaded and skipped.
func (s *IDXSource) Report() LoadReport {
	report := s.report
	report.Skipped = append([]Skip(nil), s.report.Skipped...)
	return report
}

// MNISTClasses returns the MNIST class names, the digits "0" to "9".
func MNISTClasses() []string {
	return []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}
}

var _ Source = (*IDXSource)(nil)
