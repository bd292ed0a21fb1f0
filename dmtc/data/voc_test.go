package data

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// vocObjectXMLText returns one <object> element. An empty difficult leaves
// the field out, as do the pose and truncated fields.
func vocObjectXMLText(name, difficult string, box [4]string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "<object><name>%s</name>", name)
	if difficult != "" {
		fmt.Fprintf(&b, "<difficult>%s</difficult>", difficult)
	}
	fmt.Fprintf(&b, "<bndbox><xmin>%s</xmin><ymin>%s</ymin><xmax>%s</xmax><ymax>%s</ymax></bndbox></object>",
		box[0], box[1], box[2], box[3])
	return b.String()
}

// vocAnnotationText wraps objects in an annotation shaped like VOC2012's,
// with the nested <annotation> inside <source>.
func vocAnnotationText(id string, objects ...string) string {
	return `<annotation><folder>VOC2012</folder><filename>` + id + `.jpg</filename>
<source><database>The VOC2007 Database</database><annotation>PASCAL VOC2007</annotation>
<image>flickr</image></source><size><width>500</width><height>375</height><depth>3</depth></size>
<segmented>0</segmented>` + strings.Join(objects, "\n") + "</annotation>\n"
}

func vocBox(x0, y0, x1, y1 string) [4]string { return [4]string{x0, y0, x1, y1} }

func TestParseVOCAnnotationFields(t *testing.T) {
	const tol = 1e-12
	raw := vocAnnotationText("000001",
		`<object><name> dog </name><pose>Left</pose><truncated>1</truncated><difficult>0</difficult>`+
			`<bndbox><xmin>12.5</xmin><ymin>10</ymin><xmax>22.75</xmax><ymax>30.5</ymax></bndbox>`+
			`<part><name>head</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>2</xmax><ymax>2</ymax></bndbox></part>`+
			`</object>`,
		vocObjectXMLText("person", "1", vocBox("0", "0", "100", "100")),
		vocObjectXMLText("cat", "", vocBox("5", "5", "3", "9")), // reversed x: no area
		// The width overflows to +Inf and the height is 0.
		vocObjectXMLText("cow", "0", vocBox("-1e308", "7", "1e308", "7")),
		vocObjectXMLText("sheep", "0", vocBox("-1e308", "0", "1e308", "1")),
	)
	a, err := parseVOCAnnotation([]byte(raw))
	require.NoError(t, err)
	assert.Equal(t, "000001.jpg", a.Filename)
	require.Len(t, a.Objects, 5)

	assert.Equal(t, "dog", a.Objects[0].Name, "the <part> name must not replace the object name")
	assert.False(t, a.Objects[0].Difficult)
	assert.InDelta(t, (22.75-12.5)*(30.5-10), a.Objects[0].Area, tol, "float box area")

	assert.True(t, a.Objects[1].Difficult)
	assert.InDelta(t, 10000.0, a.Objects[1].Area, tol)

	assert.False(t, a.Objects[2].Difficult, "missing <difficult> means not difficult")
	assert.Zero(t, a.Objects[2].Area, "reversed box")

	assert.Zero(t, a.Objects[3].Area, "infinite width, zero height")
	assert.True(t, math.IsInf(a.Objects[4].Area, 1), "infinite width, height 1: got %v", a.Objects[4].Area)
}

func TestParseVOCAnnotationInvalid(t *testing.T) {
	cases := []struct{ name, raw, want string }{
		{"not XML", "<annotation><object>", "parse VOC annotation"},
		{"wrong root", "<voc></voc>", "expected element type <annotation>"},
		{"text coordinate", vocAnnotationText("x", vocObjectXMLText("dog", "0", vocBox("a", "0", "1", "1"))),
			`invalid <xmin> "a"`},
		{"NaN coordinate", vocAnnotationText("x", vocObjectXMLText("dog", "0", vocBox("0", "NaN", "1", "1"))),
			`invalid <ymin> "NaN"`},
		{"infinite coordinate", vocAnnotationText("x", vocObjectXMLText("dog", "0", vocBox("0", "0", "+Inf", "1"))),
			`invalid <xmax> "+Inf"`},
		{"empty coordinate", vocAnnotationText("x", vocObjectXMLText("dog", "0", vocBox("0", "0", "1", ""))),
			`invalid <ymax> ""`},
		{"bad difficult", vocAnnotationText("x", vocObjectXMLText("dog", "maybe", vocBox("0", "0", "1", "1"))),
			`invalid <difficult> "maybe"`},
		{"no bndbox", vocAnnotationText("x", "<object><name>dog</name></object>"), "has no <bndbox>"},
	}
	for _, tc := range cases {
		_, err := parseVOCAnnotation([]byte(tc.raw))
		require.Error(t, err, tc.name)
		assert.Contains(t, err.Error(), tc.want, tc.name)
	}
}

func TestVOCLabelRule(t *testing.T) {
	classes := VOCClasses()
	index := map[string]int{}
	for i, c := range classes {
		index[c] = i
	}
	obj := func(name string, difficult bool, area float64) vocObject {
		return vocObject{Name: name, Difficult: difficult, Area: area}
	}
	cases := []struct {
		name    string
		objects []vocObject
		want    string // class name or skip reason
	}{
		{"largest wins", []vocObject{obj("cat", false, 10), obj("dog", false, 30), obj("bird", false, 20)}, "dog"},
		{"difficult ignored", []vocObject{obj("person", true, 900), obj("dog", false, 30)}, "dog"},
		{"tie goes to first", []vocObject{obj("cat", false, 100), obj("dog", false, 100)}, "cat"},
		{"zero areas tie", []vocObject{obj("sheep", false, 0), obj("cow", false, 0)}, "sheep"},
		{"unknown class ignored", []vocObject{obj("unicorn", false, 999), obj("horse", false, 1)}, "horse"},
		{"only difficult", []vocObject{obj("cat", true, 10), obj("dog", true, 30)}, ReasonOnlyDifficult},
		{"only unknown", []vocObject{obj("unicorn", false, 10)}, ReasonNoListedClass},
		{"no objects", nil, ReasonNoObjects},
	}
	for _, tc := range cases {
		label, reason, detail := parsedVOC{Objects: tc.objects}.label(index)
		if reason != "" {
			assert.Equal(t, tc.want, reason, "%s: detail %q", tc.name, detail)
			assert.Equal(t, -1, label, tc.name)
			continue
		}
		require.GreaterOrEqual(t, label, 0, tc.name)
		assert.Equal(t, tc.want, classes[label], tc.name)
	}
}

func TestVOCClassesOrder(t *testing.T) {
	c := VOCClasses()
	require.Len(t, c, 20)
	assert.Equal(t, "aeroplane", c[0])
	assert.Equal(t, "person", c[14])
	assert.Equal(t, "tvmonitor", c[19])
	c[0] = "changed"
	assert.Equal(t, "aeroplane", VOCClasses()[0], "VOCClasses returns a fresh slice")
}

// vocTree writes a small VOC2007-style folder covering every skip reason.
func vocTree(t *testing.T) string {
	t.Helper()
	root := filepath.Join(t.TempDir(), "VOC2007")
	jpg := jpegOf(t, uniformRGBA(8, 8, color.RGBA{50, 100, 150, 255}))
	ann := func(id string, objects ...string) {
		putTestFile(t, filepath.Join(root, "Annotations", id+".xml"), []byte(vocAnnotationText(id, objects...)))
	}
	img := func(id string, content []byte) {
		putTestFile(t, filepath.Join(root, "JPEGImages", id+".jpg"), content)
	}
	// 000001: dog is the largest non-difficult object; a bigger person is difficult.
	ann("000001", vocObjectXMLText("person", "1", vocBox("0", "0", "400", "300")),
		vocObjectXMLText("dog", "0", vocBox("12.5", "10", "112.5", "110")),
		vocObjectXMLText("cat", "0", vocBox("0", "0", "10", "10")))
	img("000001", jpg)
	// 000002: equal areas, cat comes first; no difficult fields.
	ann("000002", vocObjectXMLText("cat", "", vocBox("0", "0", "10", "10")),
		vocObjectXMLText("dog", "", vocBox("20", "20", "30", "30")))
	img("000002", jpg)
	ann("000003", vocObjectXMLText("cat", "1", vocBox("0", "0", "10", "10")))
	img("000003", jpg)
	ann("000004")
	img("000004", jpg)
	putTestFile(t, filepath.Join(root, "Annotations", "000005.xml"), []byte("<annotation><object><name>dog"))
	img("000005", jpg)
	ann("000006", vocObjectXMLText("bird", "0", vocBox("0", "0", "5", "5"))) // image missing
	img("000007", jpg)                                                       // annotation missing
	ann("000008", vocObjectXMLText("bird", "0", vocBox("0", "0", "5", "5")))
	img("000008", nil) // zero-byte
	ann("000009", vocObjectXMLText("unicorn", "0", vocBox("0", "0", "5", "5")))
	img("000009", jpg)
	ann("000010", vocObjectXMLText("cow", "0", vocBox("0", "0", "abc", "5")))
	img("000010", jpg)
	// 000011: the largest object comes last.
	ann("000011", vocObjectXMLText("sheep", "0", vocBox("0", "0", "5", "5")),
		vocObjectXMLText("horse", "0", vocBox("0", "0", "50", "5")))
	img("000011", jpg)
	putTestFile(t, filepath.Join(root, "JPEGImages", ".hidden.jpg"), nil)
	putTestFile(t, filepath.Join(root, "ImageSets", "Main", "trainval.txt"),
		[]byte("000002\n000011\n\n000999\n"))
	putTestFile(t, filepath.Join(root, "ImageSets", "Main", "dog_trainval.txt"),
		[]byte("000001  1\n000002 -1\n"))
	return root
}

func TestLoadVOCAllIDs(t *testing.T) {
	root := vocTree(t)
	src, err := LoadVOC(root, VOCOptions{})
	require.NoError(t, err)
	assert.Equal(t, "VOC2007", src.Name())
	assert.Equal(t, VOCClasses(), src.Classes())

	wantIDs := []string{"000001", "000002", "000011"}
	wantClasses := []string{"dog", "cat", "horse"}
	require.Equal(t, len(wantIDs), src.Len())
	for i := range wantIDs {
		assert.Equal(t, wantIDs[i], src.ID(i), "ID(%d)", i)
		assert.Equal(t, wantClasses[i], src.Classes()[src.Label(i)], "class of %s", wantIDs[i])
		assert.Equal(t, filepath.Join(root, "JPEGImages", wantIDs[i]+".jpg"), src.Path(i))
	}

	r := src.Report()
	assert.Equal(t, 3, r.Loaded)
	assert.Equal(t, []string{
		"invalid annotation: Annotations/000005.xml",
		"invalid annotation: Annotations/000010.xml",
		"missing annotation: Annotations/000007.xml",
		"missing: JPEGImages/000006.jpg",
		"no listed class: Annotations/000009.xml",
		"no objects: Annotations/000004.xml",
		"only difficult objects: Annotations/000003.xml",
		"unreadable: JPEGImages/000008.jpg",
	}, skipSet(t, root, r))

	img, err := src.Image(0)
	require.NoError(t, err)
	requireImageNear(t, "VOC JPEG", img, uniformPixels(8, 8, 50, 100, 150), 3)
}

func TestLoadVOCImageSet(t *testing.T) {
	root := vocTree(t)
	src, err := LoadVOC(root, VOCOptions{ImageSet: "trainval", Name: "voc07-trainval"})
	require.NoError(t, err)
	assert.Equal(t, "voc07-trainval", src.Name())
	require.Equal(t, 2, src.Len())
	assert.Equal(t, "000002", src.ID(0))
	assert.Equal(t, "000011", src.ID(1))
	assert.Equal(t, []string{"missing annotation: Annotations/000999.xml"}, skipSet(t, root, src.Report()))

	// A class list: the first column is used and the ±1 flag ignored.
	src, err = LoadVOC(root, VOCOptions{ImageSet: "dog_trainval"})
	require.NoError(t, err)
	require.Equal(t, 2, src.Len())
	assert.Equal(t, "000001", src.ID(0))

	_, err = LoadVOC(root, VOCOptions{ImageSet: "absent"})
	require.ErrorContains(t, err, "absent.txt")

	putTestFile(t, filepath.Join(root, "ImageSets", "Main", "dup.txt"), []byte("000001\n000001\n"))
	_, err = LoadVOC(root, VOCOptions{ImageSet: "dup"})
	require.ErrorContains(t, err, `id "000001" already listed on line 1`)

	putTestFile(t, filepath.Join(root, "ImageSets", "Main", "escape.txt"), []byte("../../etc/passwd\n"))
	_, err = LoadVOC(root, VOCOptions{ImageSet: "escape"})
	require.ErrorContains(t, err, "invalid id")
}

func TestLoadVOCClassSubset(t *testing.T) {
	root := vocTree(t)
	// Without "dog", 000001's label falls to the cat; 000002 keeps the cat;
	// 000011 has neither class.
	src, err := LoadVOC(root, VOCOptions{Classes: []string{"bird", "cat"}})
	require.NoError(t, err)
	require.Equal(t, 2, src.Len())
	assert.Equal(t, "000001", src.ID(0))
	assert.Equal(t, 1, src.Label(0))
	assert.Equal(t, "000002", src.ID(1))
	assert.Equal(t, 1, src.Label(1))
	assert.Contains(t, skipSet(t, root, src.Report()), "no listed class: Annotations/000011.xml")

	_, err = LoadVOC(root, VOCOptions{Classes: []string{"cat", "cat"}})
	require.ErrorContains(t, err, "listed twice")
}

func TestLoadVOCFilenameFallback(t *testing.T) {
	root := t.TempDir()
	putTestFile(t, filepath.Join(root, "Annotations", "a.xml"), []byte(
		`<annotation><filename>a-renamed.jpg</filename>`+vocObjectXMLText("cat", "0", vocBox("0", "0", "1", "1"))+
			`</annotation>`))
	putTestFile(t, filepath.Join(root, "JPEGImages", "a-renamed.jpg"),
		jpegOf(t, fillImage(image.NewGray(image.Rect(0, 0, 8, 8)), color.Gray{9})))
	src, err := LoadVOC(root, VOCOptions{})
	require.NoError(t, err)
	require.Equal(t, 1, src.Len(), "report: %+v", src.Report())
	assert.Equal(t, filepath.Join(root, "JPEGImages", "a-renamed.jpg"), src.Path(0))
	// The renamed image also appears as an id of its own, without an annotation.
	assert.Equal(t, []string{"missing annotation: Annotations/a-renamed.xml"}, skipSet(t, root, src.Report()))
}

func TestLoadVOCBadRoot(t *testing.T) {
	_, err := LoadVOC(t.TempDir(), VOCOptions{})
	require.ErrorContains(t, err, "expected a VOC folder")

	root := t.TempDir()
	putTestFile(t, filepath.Join(root, "Annotations", "a.xml"), []byte(vocAnnotationText("a")))
	putTestFile(t, filepath.Join(root, "JPEGImages", "a.jpg"), nil)
	_, err = LoadVOC(root, VOCOptions{})
	require.ErrorContains(t, err, "no usable images")
}
