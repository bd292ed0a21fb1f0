package data

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// The CIFAR-100 binary format stores each image as one record: the coarse
// label byte, the fine label byte, then the red, green and blue planes of
// 32×32 bytes each, rows top to bottom.
const (
	CIFARRecordSize  = 2 + 3*cifarSide*cifarSide // 3074 bytes
	cifarSide        = 32
	cifarFineCount   = 100
	cifarCoarseCount = 20
)

// CIFAR100FineClasses returns the standard 100 fine class names of CIFAR-100
// in label order, as in fine_label_names.txt of the binary version.
func CIFAR100FineClasses() []string {
	return []string{
		"apple", "aquarium_fish", "baby", "bear", "beaver", "bed", "bee", "beetle",
		"bicycle", "bottle", "bowl", "boy", "bridge", "bus", "butterfly", "camel",
		"can", "castle", "caterpillar", "cattle", "chair", "chimpanzee", "clock",
		"cloud", "cockroach", "couch", "crab", "crocodile", "cup", "dinosaur",
		"dolphin", "elephant", "flatfish", "forest", "fox", "girl", "hamster",
		"house", "kangaroo", "keyboard", "lamp", "lawn_mower", "leopard", "lion",
		"lizard", "lobster", "man", "maple_tree", "motorcycle", "mountain", "mouse",
		"mushroom", "oak_tree", "orange", "orchid", "otter", "palm_tree", "pear",
		"pickup_truck", "pine_tree", "plain", "plate", "poppy", "porcupine",
		"possum", "rabbit", "raccoon", "ray", "road", "rocket", "rose", "sea",
		"seal", "shark", "shrew", "skunk", "skyscraper", "snail", "snake",
		"spider", "squirrel", "streetcar", "sunflower", "sweet_pepper", "table",
		"tank", "telephone", "television", "tiger", "tractor", "train", "trout",
		"tulip", "turtle", "wardrobe", "whale", "willow_tree", "wolf", "woman",
		"worm",
	}
}

// CIFAR100CoarseClasses returns the standard 20 coarse class names of
// CIFAR-100 in label order, as in coarse_label_names.txt.
func CIFAR100CoarseClasses() []string {
	return []string{
		"aquatic_mammals", "fish", "flowers", "food_containers",
		"fruit_and_vegetables", "household_electrical_devices",
		"household_furniture", "insects", "large_carnivores",
		"large_man-made_outdoor_things", "large_natural_outdoor_scenes",
		"large_omnivores_and_herbivores", "medium_mammals",
		"non-insect_invertebrates", "people", "reptiles", "small_mammals",
		"trees", "vehicles_1", "vehicles_2",
	}
}

// CIFAR100Records is the content of one CIFAR-100 binary file.
type CIFAR100Records struct {
	// Data holds the records unchanged, CIFARRecordSize bytes each.
	Data []byte
}

// Len returns the number of records.
func (r *CIFAR100Records) Len() int { return len(r.Data) / CIFARRecordSize }

// Coarse returns the coarse label of record i.
func (r *CIFAR100Records) Coarse(i int) int { return int(r.Data[i*CIFARRecordSize]) }

// Fine returns the fine label of record i.
func (r *CIFAR100Records) Fine(i int) int { return int(r.Data[i*CIFARRecordSize+1]) }

// Pix returns the three 32×32 planes (red, green, blue) of record i. The
// slice aliases Data.
func (r *CIFAR100Records) Pix(i int) []byte {
	return r.Data[i*CIFARRecordSize+2 : (i+1)*CIFARRecordSize]
}

// DecodeCIFAR100 checks the content of a CIFAR-100 binary file: a positive
// whole number of records, fine labels below 100 and coarse labels below 20.
// It returns an error wrapping ErrHTML, ErrGzip (a compressed archive),
// ErrRecordLength or ErrLabelRange, and no records, on any fault. The records
// alias data.
func DecodeCIFAR100(data []byte) (*CIFAR100Records, error) {
	records, err := decodeCIFAR100(data)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	return records, nil
}

func decodeCIFAR100(data []byte) (*CIFAR100Records, error) {
	head := data[:min(len(data), sniffLen)]
	if looksLikeHTML(head) {
		return nil, htmlError(head)
	}
	// A record cannot start with the gzip magic, because 0x8b (139) is not a
	// valid fine label.
	if bytes.HasPrefix(head, gzipMagic) {
		return nil, fmt.Errorf("%w: the file is gzip-compressed, not a CIFAR-100 binary file; "+
			"extract cifar-100-binary.tar.gz with tar -xzf and use train.bin or test.bin", ErrGzip)
	}
	if err := checkCIFARLength(int64(len(data))); err != nil {
		return nil, err
	}
	records := &CIFAR100Records{Data: data}
	for i := range records.Len() {
		if fine := records.Fine(i); fine >= cifarFineCount {
			return nil, fmt.Errorf("%w: record %d has fine label %d, want 0..%d",
				ErrLabelRange, i, fine, cifarFineCount-1)
		}
		if coarse := records.Coarse(i); coarse >= cifarCoarseCount {
			return nil, fmt.Errorf("%w: record %d has coarse label %d, want 0..%d",
				ErrLabelRange, i, coarse, cifarCoarseCount-1)
		}
	}
	return records, nil
}

func checkCIFARLength(length int64) error {
	if length == 0 || length%CIFARRecordSize != 0 {
		return fmt.Errorf("%w: length %d is not a positive multiple of the record size %d "+
			"(%d whole records and %d bytes over); the file is truncated or not CIFAR-100",
			ErrRecordLength, length, CIFARRecordSize, length/CIFARRecordSize,
			length%CIFARRecordSize)
	}
	return nil
}

// ReadCIFAR100File reads and checks the CIFAR-100 binary file at path; see
// DecodeCIFAR100. The length is checked before the file is read.
func ReadCIFAR100File(path string) (*CIFAR100Records, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("data: %s is not a regular file", path)
	}
	if err := checkCIFARLength(info.Size()); err != nil {
		// An HTML page or a compressed archive fails the length check too;
		// name that fault instead.
		head, headErr := readHead(path)
		if headErr == nil {
			_, headErr = decodeCIFAR100(head)
			if headErr != nil && !errors.Is(headErr, ErrRecordLength) {
				return nil, fmt.Errorf("data: %s: %w", path, headErr)
			}
		}
		return nil, fmt.Errorf("data: %s: %w", path, err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	records, err := decodeCIFAR100(data)
	if err != nil {
		return nil, fmt.Errorf("data: %s: %w", path, err)
	}
	return records, nil
}

// readHead returns the first sniffLen bytes of the file at path.
func readHead(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	head := make([]byte, sniffLen)
	n, err := f.Read(head)
	if n == 0 && err != nil {
		return nil, err
	}
	return head[:n], nil
}

// CIFAR100Source is a Source of 3×32×32 RGB images read from CIFAR-100 binary
// files. Labels are fine labels; CoarseLabel gives the coarse one.
type CIFAR100Source struct {
	name          string
	fine, coarse  []string
	records       []byte
	report        LoadReport
	namesFallback bool
}

// cifarSplitFiles lists the files of the CIFAR-100 binary version.
var cifarSplitFiles = []struct{ split, file string }{
	{SplitTrain, "train.bin"},
	{SplitTest, "test.bin"},
}

// LoadCIFAR100Dir loads the CIFAR-100 binary version from dir, or from
// dir/cifar-100-binary when dir holds neither train.bin nor test.bin:
// train.bin (50,000 images) for SplitTrain, test.bin (10,000) for SplitTest,
// both in that order for SplitAll. Class names come from
// fine_label_names.txt and coarse_label_names.txt when present, else from
// the standard lists compiled in. A missing or invalid .bin file is reported
// in the source's Report and the load goes on. It is an error only when no
// file loads. An invalid class-name file is always an error.
func LoadCIFAR100Dir(dir, split string) (*CIFAR100Source, error) {
	if split != SplitAll && split != SplitTrain && split != SplitTest {
		return nil, fmt.Errorf("data: invalid CIFAR-100 split %q, want %q, %q or \"\" (both)",
			split, SplitTrain, SplitTest)
	}
	dir = cifarBinaryDir(dir)
	name := "cifar100"
	if split != SplitAll {
		name += "-" + split
	}
	src := &CIFAR100Source{name: name, report: LoadReport{Source: name}}
	var err error
	var fineFound, coarseFound bool
	src.fine, fineFound, err = readClassNames(filepath.Join(dir, "fine_label_names.txt"),
		CIFAR100FineClasses())
	if err != nil {
		return nil, err
	}
	src.coarse, coarseFound, err = readClassNames(filepath.Join(dir, "coarse_label_names.txt"),
		CIFAR100CoarseClasses())
	if err != nil {
		return nil, err
	}
	src.namesFallback = !fineFound || !coarseFound
	var failures []string
	for _, f := range cifarSplitFiles {
		if split != SplitAll && split != f.split {
			continue
		}
		path := filepath.Join(dir, f.file)
		records, err := ReadCIFAR100File(path)
		if err != nil {
			src.report.Skipped = append(src.report.Skipped,
				Skip{Path: path, Reason: skipReason(err), Err: err.Error()})
			failures = append(failures, err.Error())
			continue
		}
		src.records = append(src.records, records.Data...)
	}
	if len(src.records) == 0 {
		return nil, fmt.Errorf("data: no usable CIFAR-100 files in %s: %s", dir,
			strings.Join(failures, "; "))
	}
	src.report.Loaded = src.Len()
	return src, nil
}

func cifarBinaryDir(dir string) string {
	for _, f := range cifarSplitFiles {
		if _, err := os.Stat(filepath.Join(dir, f.file)); err == nil {
			return dir
		}
	}
	nested := filepath.Join(dir, "cifar-100-binary")
	if info, err := os.Stat(nested); err == nil && info.IsDir() {
		return nested
	}
	return dir
}

// readClassNames reads one class name a line, ignoring surrounding white
// space and trailing empty lines. It returns fallback and false when the file
// does not exist, and an error when it exists but does not list
// len(fallback) distinct, non-empty names.
func readClassNames(path string, fallback []string) ([]string, bool, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return fallback, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("data: %w", err)
	}
	lines := strings.Split(strings.TrimRight(string(data), " \t\r\n"), "\n")
	seen := make(map[string]int, len(lines))
	names := make([]string, len(lines))
	for i, line := range lines {
		name := strings.TrimSpace(line)
		if name == "" {
			return nil, false, fmt.Errorf("data: %s: line %d is empty; the file needs one "+
				"class name a line", path, i+1)
		}
		if first, dup := seen[name]; dup {
			return nil, false, fmt.Errorf("data: %s: duplicate class %q on lines %d and %d", path, name,
				first+1, i+1)
		}
		seen[name] = i
		names[i] = name
	}
	if len(names) != len(fallback) {
		return nil, false, fmt.Errorf("data: %s lists %d class names, want %d; delete it to "+
			"use the standard names", path, len(names), len(fallback))
	}
	return names, true, nil
}

// Name returns the source name, "cifar100" or "cifar100-" and the split.
func (s *CIFAR100Source) Name() string { return s.name }

// Classes returns a copy of the fine class names.
func (s *CIFAR100Source) Classes() []string { return append([]string(nil), s.fine...) }

// CoarseClasses returns a copy of the coarse class names.
func (s *CIFAR100Source) CoarseClasses() []string { return append([]string(nil), s.coarse...) }

// Len returns the number of images.
func (s *CIFAR100Source) Len() int { return len(s.records) / CIFARRecordSize }

// Label returns the fine label of image i.
func (s *CIFAR100Source) Label(i int) int { return int(s.records[i*CIFARRecordSize+1]) }

// CoarseLabel returns the coarse label of image i.
func (s *CIFAR100Source) CoarseLabel(i int) int { return int(s.records[i*CIFARRecordSize]) }

// Image returns a copy of image i as a 3×32×32 RGB image.
func (s *CIFAR100Source) Image(i int) (Image, error) {
	if i < 0 || i >= s.Len() {
		return Image{}, fmt.Errorf("data: %s: image index %d out of range [0, %d)", s.name, i,
			s.Len())
	}
	pix := append([]uint8(nil), s.records[i*CIFARRecordSize+2:(i+1)*CIFARRecordSize]...)
	return Image{C: 3, H: cifarSide, W: cifarSide, Pix: pix}, nil
}

// Report returns what was loaded and skipped.
func (s *CIFAR100Source) Report() LoadReport {
	report := s.report
	report.Skipped = append([]Skip(nil), s.report.Skipped...)
	return report
}

// UsesStandardNames reports whether a class-name file was missing, so the
// compiled-in standard names were used.
func (s *CIFAR100Source) UsesStandardNames() bool { return s.namesFallback }

var _ Source = (*CIFAR100Source)(nil)
