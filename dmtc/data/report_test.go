package data

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestLoadSummaryFormat(t *testing.T) {
	suite := &Suite{
		Name: "demo",
		Tasks: []Task{
			{Name: "shoes", Classes: []string{"Sandal", "Ankle boot"}, C: 1, H: 28, W: 28,
				Labels: []int{0, 1, 1}},
			{Name: "tops", Classes: []string{"T-shirt/top", "Coat"}, C: 1, H: 28, W: 28,
				Labels: []int{1}},
		},
		Reports: []LoadReport{
			{Source: "clean", Loaded: 4},
			{Source: "web", Loaded: 7, Skipped: []Skip{
				{Path: "a.gz", Reason: ReasonTruncated, Err: "short"},
				{Path: "b.html", Reason: ReasonHTML, Err: "page"},
				{Path: "c.gz", Reason: ReasonTruncated, Err: "shorter"},
			}},
		},
	}
	want := "suite demo: 2 tasks, 4 images of 1×28×28 (C×H×W)\n" +
		"  task shoes: 3 images, 2 classes\n" +
		"    Sandal          1\n" +
		"    Ankle boot      2\n" +
		"  task tops: 1 images, 2 classes\n" +
		"    T-shirt/top      0\n" +
		"    Coat             1\n" +
		"  source clean: 4 images loaded, 0 files skipped\n" +
		"  source web: 7 images loaded, 3 files skipped\n" +
		"    truncated: 2, first a.gz: short\n" +
		"    html page: 1, first b.html: page\n"
	assert.Equal(t, want, LoadSummary(suite))
}

func TestLoadSummaryEmptySuite(t *testing.T) {
	assert.Equal(t, "suite none: 0 tasks, 0 images\n", LoadSummary(&Suite{Name: "none"}))
}
