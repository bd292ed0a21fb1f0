package data

import (
	"bytes"
	"testing"
)

// FuzzIDX feeds arbitrary bytes to both IDX readers: they must not panic,
// and they must return either an error and no data or data whose size
// matches the header exactly.
func FuzzIDX(f *testing.F) {
	images := idxImagesBytes(2, 3, 2, ramp(12))
	labels := idxLabelsBytes(3, []byte{0, 9, 4})
	f.Add(images)
	f.Add(labels)
	f.Add(gzipBytes(f, images))
	f.Add(gzipBytes(f, labels))
	f.Add(gzipBytes(f, gzipBytes(f, labels)))
	f.Add(images[:10])
	f.Add(append(bytes.Clone(labels), 1))
	f.Add([]byte("<!DOCTYPE html>"))
	f.Add(idxImagesBytes(1<<16, 1<<8, 1<<8, nil))

	f.Fuzz(func(t *testing.T, data []byte) {
		img, err := ReadIDXImages(bytes.NewReader(data))
		if err != nil {
			if img != nil {
				t.Fatalf("ReadIDXImages returned data with error %v", err)
			}
		} else {
			if img.N <= 0 || img.H <= 0 || img.W <= 0 {
				t.Fatalf("ReadIDXImages: invalid dims %d×%d×%d", img.N, img.H, img.W)
			}
			if len(img.Pix) != img.N*img.H*img.W {
				t.Fatalf("ReadIDXImages: %d bytes for %d×%d×%d", len(img.Pix), img.N, img.H, img.W)
			}
			// A raw file is header plus pixels, byte for byte.
			if !bytes.HasPrefix(data, gzipMagic) && !bytes.Equal(data[16:], img.Pix) {
				t.Fatalf("ReadIDXImages: pixels differ from the file's data")
			}
		}

		lab, err := ReadIDXLabels(bytes.NewReader(data))
		if err != nil {
			if lab != nil {
				t.Fatalf("ReadIDXLabels returned data with error %v", err)
			}
		} else {
			if len(lab) == 0 {
				t.Fatalf("ReadIDXLabels: no labels and no error")
			}
			if !bytes.HasPrefix(data, gzipMagic) && !bytes.Equal(data[8:], lab) {
				t.Fatalf("ReadIDXLabels: labels differ from the file's data")
			}
		}
	})
}
