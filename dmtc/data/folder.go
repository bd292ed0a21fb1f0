package data

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// Skip reasons of the image-folder reader.
const (
	ReasonOutsideClass = "outside class folder" // a file directly under the root
	ReasonEmptyClass   = "empty class"          // a class folder without usable images
)

// FolderOptions configures LoadFolder.
type FolderOptions struct {
	// Name identifies the source in messages. Empty means the root's base
	// name.
	Name string
	// Classes lists the class folders to read, in the order that labels
	// index. Empty means every non-hidden sub-folder, sorted by name.
	Classes []string
	// HeaderOnly makes loading read only each file's header (format and
	// size) instead of decoding it fully. Loading is faster, but a file with
	// a corrupt body is then found only when Image decodes it.
	HeaderOnly bool
	// MaxPixels is the maximum image size accepted, in pixels. Zero means
	// DefaultMaxPixels.
	MaxPixels int
	// Workers is the number of goroutines that check files while loading.
	// Zero or negative means runtime.GOMAXPROCS(0).
	Workers int
}

// FolderSource is an image collection stored as root/class/image files, the
// Caltech-256 layout. The class of an image is the name of the top-level
// sub-folder that contains it, kept whole ("001.ak47"), and files in deeper
// folders belong to that same class. Names starting with "." are ignored.
type FolderSource struct {
	name      string
	classes   []string
	paths     []string
	labels    []int
	maxPixels int
	report    LoadReport
}

// LoadFolder indexes the image folder at root and checks every file (see
// FolderOptions.HeaderOnly). Files that cannot be used are skipped and
// listed in Report with ReasonUnreadable, ReasonUnsupported or
// ReasonOutsideClass. A class folder without usable images is dropped from
// Classes and reported as ReasonEmptyClass, unless opt.Classes names it,
// which is an error. LoadFolder fails when root is not a readable folder or
// has no class with usable images.
func LoadFolder(root string, opt FolderOptions) (*FolderSource, error) {
	name := opt.Name
	if name == "" {
		name = filepath.Base(filepath.Clean(root))
	}
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, fmt.Errorf("data: image folder %s: %w", name, err)
	}
	var skips []Skip
	var found []string
	for _, e := range entries {
		if isHidden(e.Name()) {
			continue
		}
		path := filepath.Join(root, e.Name())
		if isDir(path, e) {
			found = append(found, e.Name())
			continue
		}
		skips = append(skips, Skip{Path: path, Reason: ReasonOutsideClass,
			Err: "files must sit in a class sub-folder, root/class/image"})
	}
	classes := found // os.ReadDir sorts by name
	explicit := len(opt.Classes) > 0
	if explicit {
		classes = opt.Classes
		for _, c := range classes {
			if !slices.Contains(found, c) {
				return nil, fmt.Errorf("data: image folder %s: class folder %q not found in %s; "+
					"the classes present are %q", name, c, root, found)
			}
		}
		if dup := firstDuplicate(classes); dup != "" {
			return nil, fmt.Errorf("data: image folder %s: class %q listed twice in Classes", name, dup)
		}
	}
	if len(classes) == 0 {
		return nil, fmt.Errorf("data: image folder %s: no class sub-folders in %s; "+
			"expected root/class/image files", name, root)
	}

	var paths []string
	var labels []int
	for k, c := range classes {
		files, walkSkips, err := listImageFiles(filepath.Join(root, c))
		if err != nil {
			return nil, fmt.Errorf("data: image folder %s: %w", name, err)
		}
		skips = append(skips, walkSkips...)
		paths = append(paths, files...)
		for range files {
			labels = append(labels, k)
		}
	}

	fileSkips := checkImageFiles(paths, opt.HeaderOnly, opt.MaxPixels, opt.Workers)
	counts := make([]int, len(classes))
	src := &FolderSource{name: name, maxPixels: opt.MaxPixels}
	for i, s := range fileSkips {
		if s != nil {
			skips = append(skips, *s)
			continue
		}
		src.paths = append(src.paths, paths[i])
		src.labels = append(src.labels, labels[i])
		counts[labels[i]]++
	}

	// Drop classes without usable images and renumber the labels.
	newLabel := make([]int, len(classes))
	for k, c := range classes {
		if counts[k] > 0 {
			newLabel[k] = len(src.classes)
			src.classes = append(src.classes, c)
			continue
		}
		if explicit {
			return nil, fmt.Errorf("data: image folder %s: class %q has no usable images in %s",
				name, c, filepath.Join(root, c))
		}
		newLabel[k] = -1
		skips = append(skips, Skip{Path: filepath.Join(root, c), Reason: ReasonEmptyClass,
			Err: "no usable images"})
	}
	if len(src.classes) == 0 {
		return nil, fmt.Errorf("data: image folder %s: no usable images under %s (%d files skipped)",
			name, root, len(skips))
	}
	for i, l := range src.labels {
		src.labels[i] = newLabel[l]
	}
	src.report = LoadReport{Source: name, Loaded: len(src.paths), Skipped: skips}
	return src, nil
}

// listImageFiles walks one class folder and returns its non-hidden files in
// lexical order, and Skips for entries that are neither files nor folders.
func listImageFiles(dir string) ([]string, []Skip, error) {
	var files []string
	var skips []Skip
	// The trailing separator makes WalkDir's Lstat follow a class folder
	// that is a symbolic link. Links below it are not followed.
	walkRoot := dir + string(filepath.Separator)
	err := filepath.WalkDir(walkRoot, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if path == walkRoot {
			return nil
		}
		if isHidden(d.Name()) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		info, err := os.Stat(path) // follows a symbolic link to a file
		switch {
		case err != nil:
			skips = append(skips, Skip{Path: path, Reason: ReasonUnreadable, Err: err.Error()})
		case info.Mode().IsRegular():
			files = append(files, path)
		default:
			skips = append(skips, Skip{Path: path, Reason: ReasonUnsupported,
				Err: fmt.Sprintf("not a regular file (mode %v); links to folders are not followed",
					info.Mode())})
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("read class folder: %w", err)
	}
	return files, skips, nil
}

// checkImageFiles runs imageFileSkip on every path, on workers goroutines,
// and returns the Skips by path index (nil for usable files).
func checkImageFiles(paths []string, headerOnly bool, maxPixels, workers int) []*Skip {
	skips := make([]*Skip, len(paths))
	if workers < 1 {
		workers = runtime.GOMAXPROCS(0)
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(workers, len(paths)) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(paths) {
					return
				}
				skips[i] = imageFileSkip(paths[i], headerOnly, maxPixels)
			}
		})
	}
	wg.Wait()
	return skips
}

func isHidden(name string) bool { return strings.HasPrefix(name, ".") }

// isDir reports whether e is a folder, following a symbolic link.
func isDir(path string, e fs.DirEntry) bool {
	if e.IsDir() {
		return true
	}
	if e.Type()&fs.ModeSymlink == 0 {
		return false
	}
	info, err := os.Stat(path)
	return err == nil && info.IsDir()
}

func firstDuplicate(names []string) string {
	seen := make(map[string]bool, len(names))
	for _, n := range names {
		if seen[n] {
			return n
		}
		seen[n] = true
	}
	return ""
}

// Name returns the source name.
func (s *FolderSource) Name() string { return s.name }

// Classes returns the class folder names, which labels index.
func (s *FolderSource) Classes() []string { return s.classes }

// Len returns the number of usable images.
func (s *FolderSource) Len() int { return len(s.paths) }

// Label returns the class index of image i.
func (s *FolderSource) Label(i int) int { return s.labels[i] }

// Path returns the file path of image i.
func (s *FolderSource) Path(i int) string { return s.paths[i] }

// Image reads and decodes image i.
func (s *FolderSource) Image(i int) (Image, error) {
	if i < 0 || i >= len(s.paths) {
		return Image{}, fmt.Errorf("data: %s: image index %d out of range [0, %d)", s.name, i, len(s.paths))
	}
	return decodeImageFile(s.paths[i], s.maxPixels)
}

// Report returns what was skipped while loading.
func (s *FolderSource) Report() LoadReport { return s.report }

var _ Source = (*FolderSource)(nil)
