package data

import (
	"image"
	"image/color"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// skipSet returns the report's skips as "reason: path relative to root".
func skipSet(t *testing.T, root string, r LoadReport) []string {
	t.Helper()
	var out []string
	for _, s := range r.Skipped {
		rel, err := filepath.Rel(root, s.Path)
		require.NoError(t, err)
		require.NotEmpty(t, s.Err, "skip %s %s has no detail", s.Reason, s.Path)
		out = append(out, s.Reason+": "+filepath.ToSlash(rel))
	}
	sort.Strings(out)
	return out
}

// caltechTree writes a small Caltech-256-style folder with one file of each
// kind the reader must handle, and returns its root.
func caltechTree(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	greyPNG := pngOf(t, fillImage(image.NewGray(image.Rect(0, 0, 3, 2)), color.Gray{40}))
	rgbPNG := pngOf(t, uniformRGBA(2, 2, color.RGBA{10, 20, 30, 255}))
	goodGIF := gifOf(t, image.NewPaletted(image.Rect(0, 0, 2, 2), color.Palette{color.Gray{7}}))

	putTestFile(t, filepath.Join(root, "001.ak47", "001_0001.png"), greyPNG)
	putTestFile(t, filepath.Join(root, "001.ak47", "001_0002.png"), rgbPNG)
	putTestFile(t, filepath.Join(root, "001.ak47", "001_0003.jpg"), nil) // zero-byte
	putTestFile(t, filepath.Join(root, "001.ak47", "001_0004.jpg"), []byte("\xff\xd8\xff\xe0 garbage"))
	putTestFile(t, filepath.Join(root, "001.ak47", "notes.txt"), []byte("not an image"))
	putTestFile(t, filepath.Join(root, "001.ak47", ".DS_Store"), []byte("hidden"))
	putTestFile(t, filepath.Join(root, "001.ak47", "more", "001_0005.gif"), goodGIF)
	putTestFile(t, filepath.Join(root, "001.ak47", ".thumbs", "x.png"), []byte("hidden folder"))
	putTestFile(t, filepath.Join(root, "002.american-flag", "002_0001.gif"), goodGIF)
	putTestFile(t, filepath.Join(root, "003.backpack", "broken.png"), []byte("\x89PNG\r\n\x1a\nbad"))
	putTestFile(t, filepath.Join(root, "003.backpack", ".keep"), nil)
	putTestFile(t, filepath.Join(root, ".git", "config"), []byte("hidden class folder"))
	putTestFile(t, filepath.Join(root, "README.txt"), []byte("root-level file"))
	return root
}

func TestLoadFolderCaltechLayout(t *testing.T) {
	root := caltechTree(t)
	src, err := LoadFolder(root, FolderOptions{})
	require.NoError(t, err)

	assert.Equal(t, filepath.Base(root), src.Name())
	// 003.backpack has no usable image, so it is dropped and reported.
	assert.Equal(t, []string{"001.ak47", "002.american-flag"}, src.Classes())
	require.Equal(t, 4, src.Len())
	wantFiles := []string{"001.ak47/001_0001.png", "001.ak47/001_0002.png",
		"001.ak47/more/001_0005.gif", "002.american-flag/002_0001.gif"}
	wantLabels := []int{0, 0, 0, 1}
	for i := range src.Len() {
		rel, _ := filepath.Rel(root, src.Path(i))
		assert.Equal(t, wantFiles[i], filepath.ToSlash(rel), "Path(%d)", i)
		assert.Equal(t, wantLabels[i], src.Label(i), "Label(%d)", i)
	}

	r := src.Report()
	assert.Equal(t, src.Name(), r.Source)
	assert.Equal(t, 4, r.Loaded)
	assert.Equal(t, []string{
		"empty class: 003.backpack",
		"outside class folder: README.txt",
		"unreadable: 001.ak47/001_0003.jpg",
		"unreadable: 001.ak47/001_0004.jpg",
		"unreadable: 003.backpack/broken.png",
		"unsupported: 001.ak47/notes.txt",
	}, skipSet(t, root, r))

	img, err := src.Image(0)
	require.NoError(t, err)
	requireImageNear(t, "folder grey PNG", img, uniformPixels(2, 3, 40), 0)
	img, err = src.Image(1)
	require.NoError(t, err)
	requireImageNear(t, "folder RGB PNG", img, uniformPixels(2, 2, 10, 20, 30), 0)
	img, err = src.Image(3)
	require.NoError(t, err)
	requireImageNear(t, "folder GIF", img, uniformPixels(2, 2, 7, 7, 7), 0)

	_, err = src.Image(4)
	require.ErrorContains(t, err, "out of range")
}

func TestLoadFolderWorkersSameResult(t *testing.T) {
	root := caltechTree(t)
	single, err := LoadFolder(root, FolderOptions{Workers: 1})
	require.NoError(t, err)
	for _, workers := range []int{2, 7} {
		many, err := LoadFolder(root, FolderOptions{Workers: workers})
		require.NoError(t, err)
		assert.Equal(t, single.Report(), many.Report(), "workers=%d", workers)
		assert.Equal(t, single.paths, many.paths, "workers=%d", workers)
	}
}

func TestLoadFolderExplicitClasses(t *testing.T) {
	root := caltechTree(t)
	src, err := LoadFolder(root, FolderOptions{Name: "caltech", Classes: []string{"002.american-flag", "001.ak47"}})
	require.NoError(t, err)
	assert.Equal(t, "caltech", src.Name())
	assert.Equal(t, []string{"002.american-flag", "001.ak47"}, src.Classes())
	require.Equal(t, 4, src.Len())
	assert.Equal(t, 0, src.Label(0), "the flag image comes first and takes label 0")
	assert.Equal(t, 1, src.Label(1))

	_, err = LoadFolder(root, FolderOptions{Classes: []string{"001.ak47", "999.missing"}})
	require.ErrorContains(t, err, `class folder "999.missing" not found`)

	_, err = LoadFolder(root, FolderOptions{Classes: []string{"003.backpack"}})
	require.ErrorContains(t, err, `class "003.backpack" has no usable images`)

	_, err = LoadFolder(root, FolderOptions{Classes: []string{"001.ak47", "001.ak47"}})
	require.ErrorContains(t, err, "listed twice")
}

func TestLoadFolderHeaderOnly(t *testing.T) {
	root := t.TempDir()
	good := buildPNG(0, 8, 4, 4, [][]byte{{1, 2, 3, 4}, {1, 2, 3, 4}, {1, 2, 3, 4}, {1, 2, 3, 4}})
	putTestFile(t, filepath.Join(root, "a", "good.png"), good)
	putTestFile(t, filepath.Join(root, "a", "cut.png"), good[:len(good)-20]) // header intact

	full, err := LoadFolder(root, FolderOptions{})
	require.NoError(t, err)
	assert.Equal(t, 1, full.Len(), "full decoding finds the cut file")

	fast, err := LoadFolder(root, FolderOptions{HeaderOnly: true})
	require.NoError(t, err)
	require.Equal(t, 2, fast.Len(), "a header check lets the cut file through")
	assert.Empty(t, fast.Report().Skipped)
	_, err = fast.Image(0) // cut.png sorts first
	require.Error(t, err)
	assert.Contains(t, err.Error(), "cut.png")
}

func TestLoadFolderMaxPixels(t *testing.T) {
	root := t.TempDir()
	putTestFile(t, filepath.Join(root, "a", "big.png"), pngOf(t, image.NewGray(image.Rect(0, 0, 10, 10))))
	putTestFile(t, filepath.Join(root, "a", "small.png"), pngOf(t, image.NewGray(image.Rect(0, 0, 5, 5))))
	src, err := LoadFolder(root, FolderOptions{MaxPixels: 99})
	require.NoError(t, err)
	require.Equal(t, 1, src.Len())
	require.Len(t, src.Report().Skipped, 1)
	s := src.Report().Skipped[0]
	assert.Equal(t, ReasonUnreadable, s.Reason)
	assert.Contains(t, s.Err, "over the limit of 99 pixels")
}

func TestLoadFolderBadRoot(t *testing.T) {
	_, err := LoadFolder(filepath.Join(t.TempDir(), "absent"), FolderOptions{})
	require.ErrorContains(t, err, "no such file")

	empty := t.TempDir()
	_, err = LoadFolder(empty, FolderOptions{})
	require.ErrorContains(t, err, "no class sub-folders")

	flat := t.TempDir()
	putTestFile(t, filepath.Join(flat, "x.png"), pngOf(t, image.NewGray(image.Rect(0, 0, 1, 1))))
	_, err = LoadFolder(flat, FolderOptions{})
	require.ErrorContains(t, err, "no class sub-folders")

	allBad := t.TempDir()
	putTestFile(t, filepath.Join(allBad, "a", "x.png"), nil)
	_, err = LoadFolder(allBad, FolderOptions{})
	require.ErrorContains(t, err, "no usable images")
}

func TestLoadFolderSymlinks(t *testing.T) {
	root := t.TempDir()
	other := t.TempDir()
	putTestFile(t, filepath.Join(other, "elsewhere.png"), pngOf(t, image.NewGray(image.Rect(0, 0, 1, 1))))
	putTestFile(t, filepath.Join(root, "a", "real.png"), pngOf(t, image.NewGray(image.Rect(0, 0, 1, 1))))
	require.NoError(t, os.Symlink(filepath.Join(other, "elsewhere.png"), filepath.Join(root, "a", "link.png")))
	require.NoError(t, os.Symlink(other, filepath.Join(root, "a", "linkdir")))
	require.NoError(t, os.Symlink(filepath.Join(other, "absent.png"), filepath.Join(root, "a", "dangling.png")))
	require.NoError(t, os.Symlink(other, filepath.Join(root, "b")))

	src, err := LoadFolder(root, FolderOptions{})
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "b"}, src.Classes(), "a link to a folder counts as a class folder")
	assert.Equal(t, 3, src.Len(), "a/link.png, a/real.png and b/elsewhere.png")
	assert.Equal(t, []string{
		"unreadable: a/dangling.png",
		"unsupported: a/linkdir",
	}, skipSet(t, root, src.Report()))
}
