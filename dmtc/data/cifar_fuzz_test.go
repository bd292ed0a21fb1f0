package data

import (
	"bytes"
	"testing"
)

// FuzzCIFAR feeds arbitrary bytes to the CIFAR-100 decoder: no panic, and
// either an error and no records or whole records with valid labels.
func FuzzCIFAR(f *testing.F) {
	rec := cifarRecord(11, 19, 0x10, 0x40, 0x80)
	f.Add(rec)
	f.Add(append(bytes.Clone(rec), rec...))
	f.Add(rec[:100])
	f.Add(cifarRecord(20, 100, 0, 0, 0))
	f.Add([]byte("<html>"))
	f.Add(gzipBytes(f, rec))

	f.Fuzz(func(t *testing.T, data []byte) {
		records, err := DecodeCIFAR100(data)
		if err != nil {
			if records != nil {
				t.Fatalf("DecodeCIFAR100 returned records with error %v", err)
			}
			return
		}
		if len(data) == 0 || len(data)%CIFARRecordSize != 0 {
			t.Fatalf("DecodeCIFAR100 accepted %d bytes", len(data))
		}
		for i := range records.Len() {
			if records.Fine(i) >= 100 || records.Coarse(i) >= 20 {
				t.Fatalf("record %d: labels %d/%d accepted", i, records.Coarse(i), records.Fine(i))
			}
			if len(records.Pix(i)) != 3*32*32 {
				t.Fatalf("record %d: %d pixel bytes", i, len(records.Pix(i)))
			}
		}
	})
}
