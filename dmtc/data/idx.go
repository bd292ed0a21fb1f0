package data

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// Sentinel errors of the IDX and CIFAR-100 readers. Each fault of a file wraps
// exactly one of them, together with the file name where one is known, so
// callers can tell faults apart with errors.Is.
var (
	// ErrGzip: the gzip stream is corrupt or truncated, or it decompresses to
	// another gzip stream (a file compressed twice).
	ErrGzip = errors.New("corrupt gzip stream")
	// ErrHTML: the file is an HTML page, typically a failed download.
	ErrHTML = errors.New("file is an HTML page, not data")
	// ErrTruncatedHeader: the file ends inside its header.
	ErrTruncatedHeader = errors.New("header truncated")
	// ErrIDXMagic: the magic number is not that of the expected IDX kind
	// (0x00000803 for images, 0x00000801 for labels).
	ErrIDXMagic = errors.New("invalid IDX magic number")
	// ErrIDXType: the IDX element type is not unsigned byte (0x08).
	ErrIDXType = errors.New("unsupported IDX element type")
	// ErrIDXDims: a dimension is zero or the promised size is too large.
	ErrIDXDims = errors.New("invalid IDX dimensions")
	// ErrTruncatedData: the file holds less data than its header promises.
	ErrTruncatedData = errors.New("data truncated")
	// ErrTrailingBytes: the file holds more data than its header promises.
	ErrTrailingBytes = errors.New("trailing bytes after data")
	// ErrLabelCount: an images file and its labels file differ in length.
	ErrLabelCount = errors.New("label count differs from image count")
	// ErrLabelRange: a label is not a valid class index.
	ErrLabelRange = errors.New("label out of range")
	// ErrRecordLength: a CIFAR-100 file is not a whole number of records.
	ErrRecordLength = errors.New("file length is not a whole number of records")
)

const (
	idxMagicImages = 0x00000803 // unsigned bytes, 3 dimensions (N, H, W)
	idxMagicLabels = 0x00000801 // unsigned bytes, 1 dimension (N)
	idxTypeUint8   = 0x08

	// maxIDXBytes bounds the data size a header may promise (2 GiB), so a
	// corrupt header cannot make a reader allocate without bound. MNIST's
	// training images are 47 MB.
	maxIDXBytes = 1 << 31
	// maxTrailingScan bounds how many trailing bytes are counted.
	maxTrailingScan = 1 << 20
	// maxCorruptionScan bounds how much of a gzip stream is decompressed
	// after a parse error to check the stream itself.
	maxCorruptionScan = 64 << 20
	// sniffLen is how many leading bytes are inspected for HTML and gzip.
	sniffLen = 512
)

var gzipMagic = []byte{0x1f, 0x8b}

// IDXImages is the content of an IDX image file: N grey images of H×W bytes,
// each row-major, stored one after the other in Pix.
type IDXImages struct {
	N, H, W int
	Pix     []uint8
}

// ReadIDXImages reads an IDX image file (magic 0x00000803), raw or
// gzip-compressed; the gzip magic bytes decide which. It returns an error
// wrapping one of the package's sentinel errors, and no data, unless the
// whole file is valid and its length matches the header exactly.
func ReadIDXImages(r io.Reader) (*IDXImages, error) {
	images, err := readIDXImages(r)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	return images, nil
}

// ReadIDXLabels reads an IDX label file (magic 0x00000801), raw or
// gzip-compressed, with the same checks as ReadIDXImages.
func ReadIDXLabels(r io.Reader) ([]uint8, error) {
	labels, err := readIDXLabels(r)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	return labels, nil
}

// ReadIDXImagesFile reads the IDX image file at path; see ReadIDXImages.
func ReadIDXImagesFile(path string) (*IDXImages, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	defer f.Close()
	images, err := readIDXImages(f)
	if err != nil {
		return nil, fmt.Errorf("data: %s: %w", path, err)
	}
	return images, nil
}

// ReadIDXLabelsFile reads the IDX label file at path; see ReadIDXLabels.
func ReadIDXLabelsFile(path string) ([]uint8, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	defer f.Close()
	labels, err := readIDXLabels(f)
	if err != nil {
		return nil, fmt.Errorf("data: %s: %w", path, err)
	}
	return labels, nil
}

func readIDXImages(r io.Reader) (*IDXImages, error) {
	return parseDataStream(r, func(body io.Reader) (*IDXImages, error) {
		dims, err := readIDXHeader(body, idxMagicImages, 3)
		if err != nil {
			return nil, err
		}
		n, h, w := dims[0], dims[1], dims[2]
		pix, err := readExact(body, int64(n)*int64(h)*int64(w),
			fmt.Sprintf("%d images of %d×%d", n, h, w))
		if err != nil {
			return nil, err
		}
		return &IDXImages{N: n, H: h, W: w, Pix: pix}, nil
	})
}

func readIDXLabels(r io.Reader) ([]uint8, error) {
	return parseDataStream(r, func(body io.Reader) ([]uint8, error) {
		dims, err := readIDXHeader(body, idxMagicLabels, 1)
		if err != nil {
			return nil, err
		}
		return readExact(body, int64(dims[0]), fmt.Sprintf("%d labels", dims[0]))
	})
}

// parseDataStream runs parse on the content of r (see openDataStream). When
// parse fails on a gzip stream, the rest of the stream is decompressed, up to
// maxCorruptionScan bytes, because a corrupt stream can yield a plausible
// but wrong header or length, and the real fault is then the gzip error.
func parseDataStream[T any](r io.Reader, parse func(io.Reader) (T, error)) (T, error) {
	var zero T
	body, compressed, err := openDataStream(r)
	if err != nil {
		return zero, err
	}
	v, err := parse(body)
	if err == nil {
		return v, nil
	}
	if compressed && !errors.Is(err, ErrGzip) {
		_, scanErr := io.Copy(io.Discard, io.LimitReader(body, maxCorruptionScan))
		if errors.Is(scanErr, ErrGzip) {
			return zero, scanErr
		}
	}
	return zero, err
}

// openDataStream rejects HTML pages and returns r itself or, when r starts
// with the gzip magic bytes, its decompressed content and true. Errors of the
// gzip stream that show up later, including a failed checksum at its end,
// come back from the returned reader wrapping ErrGzip.
func openDataStream(r io.Reader) (io.Reader, bool, error) {
	raw := bufio.NewReaderSize(r, sniffLen)
	head, _ := raw.Peek(sniffLen) // a short file has fewer bytes; reads report its error
	if looksLikeHTML(head) {
		return nil, false, htmlError(head)
	}
	if !bytes.HasPrefix(head, gzipMagic) {
		return raw, false, nil
	}
	zr, err := gzip.NewReader(raw)
	if err != nil {
		return nil, false, fmt.Errorf("%w: %v; download the file again", ErrGzip, err)
	}
	inner := bufio.NewReaderSize(gzipErrorReader{zr}, sniffLen)
	head, _ = inner.Peek(sniffLen)
	if bytes.HasPrefix(head, gzipMagic) {
		return nil, false, fmt.Errorf("%w: the decompressed data is gzip-compressed again; "+
			"decompress the file once with gunzip", ErrGzip)
	}
	if looksLikeHTML(head) {
		return nil, false, htmlError(head)
	}
	return inner, true, nil
}

// gzipErrorReader wraps every error of a gzip stream except io.EOF in ErrGzip,
// so a truncated stream is not mistaken for a truncated IDX file.
type gzipErrorReader struct{ r io.Reader }

func (g gzipErrorReader) Read(p []byte) (int, error) {
	n, err := g.r.Read(p)
	if err != nil && err != io.EOF {
		err = fmt.Errorf("%w: %v; download the file again", ErrGzip, err)
	}
	return n, err
}

// looksLikeHTML reports whether head, after leading white space and a UTF-8
// byte order mark, starts with an HTML doctype or an <html> tag.
func looksLikeHTML(head []byte) bool {
	head = bytes.TrimPrefix(head, []byte("\xef\xbb\xbf"))
	head = bytes.TrimLeft(head, " \t\r\n")
	for _, prefix := range []string{"<!doctype html", "<html"} {
		if len(head) >= len(prefix) && bytes.EqualFold(head[:len(prefix)], []byte(prefix)) {
			return true
		}
	}
	return false
}

func htmlError(head []byte) error {
	const show = 32
	if len(head) > show {
		head = head[:show]
	}
	return fmt.Errorf("%w: it starts with %q; the download probably failed, fetch the file again",
		ErrHTML, head)
}

// readIDXHeader reads the magic number and ndims big-endian uint32 dimensions.
func readIDXHeader(r io.Reader, magic uint32, ndims int) ([]int, error) {
	var word [4]byte
	if n, err := io.ReadFull(r, word[:]); err != nil {
		return nil, headerReadError(err, n, 4+4*ndims)
	}
	got := binary.BigEndian.Uint32(word[:])
	kind := map[uint32]string{idxMagicImages: "images", idxMagicLabels: "labels"}[magic]
	switch {
	case word[0] != 0 || word[1] != 0:
		return nil, fmt.Errorf("%w: %#08x, want %#08x for IDX %s; is this an IDX file?",
			ErrIDXMagic, got, magic, kind)
	case word[2] != idxTypeUint8:
		return nil, fmt.Errorf("%w: type byte %#02x in magic %#08x, want %#02x (unsigned byte)",
			ErrIDXType, word[2], got, idxTypeUint8)
	case got != magic:
		return nil, fmt.Errorf("%w: %#08x (%d dimensions), want %#08x for IDX %s "+
			"(%d dimensions); are the images and labels files swapped?",
			ErrIDXMagic, got, word[3], magic, kind, ndims)
	}
	raw := make([]byte, 4*ndims)
	if n, err := io.ReadFull(r, raw); err != nil {
		return nil, headerReadError(err, 4+n, 4+4*ndims)
	}
	dims := make([]int, ndims)
	total := int64(1)
	for i := range dims {
		d := binary.BigEndian.Uint32(raw[4*i:])
		if d == 0 {
			return nil, fmt.Errorf("%w: dimension %d of %v is 0", ErrIDXDims, i, rawDims(raw))
		}
		total *= int64(d)
		if total > maxIDXBytes {
			return nil, fmt.Errorf("%w: %v promises more than %d bytes", ErrIDXDims,
				rawDims(raw), int64(maxIDXBytes))
		}
		dims[i] = int(d)
	}
	return dims, nil
}

func rawDims(raw []byte) []uint32 {
	dims := make([]uint32, len(raw)/4)
	for i := range dims {
		dims[i] = binary.BigEndian.Uint32(raw[4*i:])
	}
	return dims
}

func headerReadError(err error, got, want int) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return fmt.Errorf("%w: the file ends after %d of %d header bytes; download it again",
			ErrTruncatedHeader, got, want)
	}
	return err
}

// readExact reads exactly size bytes of data, then checks that r is at its
// end; what names the promised content in messages.
func readExact(r io.Reader, size int64, what string) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(int(min(size, 1<<20))) // the header may lie, so grow as data arrives
	n, err := buf.ReadFrom(io.LimitReader(r, size))
	if err != nil {
		return nil, err
	}
	if n < size {
		return nil, fmt.Errorf("%w: the header promises %s (%d bytes of data) but the file "+
			"holds %d; download the file again", ErrTruncatedData, what, size, n)
	}
	// Reading to the end also makes the gzip reader verify its checksum.
	extra, err := io.Copy(io.Discard, io.LimitReader(r, maxTrailingScan))
	if err != nil {
		return nil, err
	}
	if extra > 0 {
		amount := fmt.Sprint(extra)
		if extra == maxTrailingScan {
			amount = fmt.Sprintf("at least %d", extra)
		}
		return nil, fmt.Errorf("%w: %s bytes follow the %s that the header promises; "+
			"the file is corrupt or its header is wrong", ErrTrailingBytes, amount, what)
	}
	return buf.Bytes(), nil
}
