package data

import (
	"fmt"
	"testing"
)

// FuzzNUSWIDELabels parses arbitrary bytes as a label matrix and as an
// image list and applies the labelling rule to every row: no input may
// panic, and each label must follow the rule.
func FuzzNUSWIDELabels(f *testing.F) {
	f.Add([]byte("1 0 0\n0 1 0\n0 1 0\n0 0 0\n0 0 1\n"), uint8(3), false)
	f.Add([]byte("1 0 1 0\r\n0 1 1 0\r\n0 0 0 1\r\n"), uint8(4), true)
	f.Add([]byte("0 1\t1\r\n1 0 0  \n\n\n"), uint8(3), false)
	f.Add([]byte("1 0 2\n"), uint8(3), false)
	f.Add([]byte("actor\\0001_2124494179.jpg\nC:\\ImageData\\Flickr\\x.jpg\n\n"), uint8(1), false)
	f.Add([]byte(""), uint8(0), true)

	f.Fuzz(func(t *testing.T, raw []byte, width uint8, first bool) {
		// The list parser must not panic on any input.
		if paths, err := parseNUSWIDEList(raw, `C:\ImageData\`); err == nil {
			for i, p := range paths {
				if p == "" {
					t.Fatalf("list line %d parsed to an empty path", i+1)
				}
			}
		}

		w := int(width % 100)
		m, err := parseNUSWIDELabels(raw, w)
		if err != nil {
			return
		}
		if len(m.bits) != m.rows*w {
			t.Fatalf("matrix %d rows × %d columns holds %d values", m.rows, w, len(m.bits))
		}
		// Classes: every other concept, in reverse order, so that columns
		// and class indices differ.
		var columns []int
		var classes []string
		for j := w - 1; j >= 0; j -= 2 {
			columns = append(columns, j)
			classes = append(classes, fmt.Sprintf("concept%d", j))
		}
		rule := NUSWIDESkipAmbiguous
		if first {
			rule = NUSWIDEFirstConcept
		}
		for i := range m.rows {
			row := m.row(i)
			set := 0
			firstSet := -1
			for k, j := range columns {
				if row[j] {
					set++
					if firstSet < 0 {
						firstSet = k
					}
				}
			}
			label, reason, _ := nuswideLabel(row, columns, classes, rule)
			var want string
			switch {
			case set == 0:
				want = ReasonNoLabel
			case set > 1 && !first:
				want = ReasonAmbiguous
			}
			if reason != want {
				t.Fatalf("row %d with %d listed concepts set, first=%v: reason %q, want %q", i+1, set, first,
					reason, want)
			}
			if want == "" && label != firstSet {
				t.Fatalf("row %d: label %d, want %d", i+1, label, firstSet)
			}
		}
	})
}
