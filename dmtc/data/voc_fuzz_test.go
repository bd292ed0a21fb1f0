package data

import "testing"

// FuzzVOCAnnotation parses arbitrary bytes as a VOC annotation and applies
// the labelling rule: no input may panic, and an accepted annotation must
// give either a label that follows the rule or a skip reason.
func FuzzVOCAnnotation(f *testing.F) {
	f.Add([]byte(vocAnnotationText("000001",
		vocObjectXMLText("person", "1", vocBox("0", "0", "400", "300")),
		vocObjectXMLText("dog", "0", vocBox("12.5", "10", "112.5", "110")))))
	f.Add([]byte(vocAnnotationText("000002", vocObjectXMLText("cat", "", vocBox("0", "0", "10", "10")))))
	f.Add([]byte(vocAnnotationText("000003", vocObjectXMLText("unicorn", "0", vocBox("1", "2", "3", "4")))))
	f.Add([]byte(vocAnnotationText("000004")))
	f.Add([]byte(vocAnnotationText("x", vocObjectXMLText("cow", "0", vocBox("-1e308", "7", "1e308", "7")))))
	f.Add([]byte("<annotation><object><name>dog"))
	f.Add([]byte(`<?xml version="1.0"?><annotation><object><name>bird</name><difficult>true</difficult>` +
		`<bndbox><xmin> 1 </xmin><ymin>2</ymin><xmax>3</xmax><ymax>4</ymax></bndbox></object></annotation>`))
	f.Add([]byte{})

	classes := VOCClasses()
	index := map[string]int{}
	for i, c := range classes {
		index[c] = i
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		a, err := parseVOCAnnotation(raw)
		if err != nil {
			return
		}
		bestArea := -1.0
		hasEligible := false
		for i, o := range a.Objects {
			if !(o.Area >= 0) {
				t.Fatalf("object %d (%q): area %v, want ≥ 0", i, o.Name, o.Area)
			}
			if _, ok := index[o.Name]; ok && !o.Difficult {
				hasEligible = true
				bestArea = max(bestArea, o.Area)
			}
		}
		label, reason, detail := a.label(index)
		if reason != "" {
			if hasEligible {
				t.Fatalf("skipped with %q (%s) although a non-difficult object of a listed class exists",
					reason, detail)
			}
			if label != -1 {
				t.Fatalf("skip reason %q with label %d, want -1", reason, label)
			}
			return
		}
		if label < 0 || label >= len(classes) {
			t.Fatalf("label %d out of range [0, %d)", label, len(classes))
		}
		// The first non-difficult object of maximum area must carry the label.
		for _, o := range a.Objects {
			if k, ok := index[o.Name]; ok && !o.Difficult && o.Area == bestArea {
				if k != label {
					t.Fatalf("label %d (%s), want %d (%s): the first object of maximum area", label, classes[label],
						k, o.Name)
				}
				break
			}
		}
	})
}
