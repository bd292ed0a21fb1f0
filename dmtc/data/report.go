package data

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"unicode/utf8"
)

// Skip reasons that the IDX and CIFAR-100 loaders put in LoadReport, beside
// ReasonMissing and ReasonUnreadable.
const (
	ReasonHTML          = "html page"
	ReasonCorruptGzip   = "corrupt gzip"
	ReasonTruncated     = "truncated"
	ReasonTrailingBytes = "trailing bytes"
	ReasonInvalidHeader = "invalid header"
	ReasonLabelCount    = "label count mismatch"
	ReasonLabelRange    = "label out of range"
	ReasonInvalidLength = "invalid length"
)

// skipReason maps a loader error to the short category of a Skip.
func skipReason(err error) string {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return ReasonMissing
	case errors.Is(err, ErrHTML):
		return ReasonHTML
	case errors.Is(err, ErrGzip):
		return ReasonCorruptGzip
	case errors.Is(err, ErrTruncatedHeader), errors.Is(err, ErrTruncatedData):
		return ReasonTruncated
	case errors.Is(err, ErrTrailingBytes):
		return ReasonTrailingBytes
	case errors.Is(err, ErrIDXMagic), errors.Is(err, ErrIDXType), errors.Is(err, ErrIDXDims):
		return ReasonInvalidHeader
	case errors.Is(err, ErrLabelCount):
		return ReasonLabelCount
	case errors.Is(err, ErrLabelRange):
		return ReasonLabelRange
	case errors.Is(err, ErrRecordLength):
		return ReasonInvalidLength
	}
	return ReasonUnreadable
}

// LoadSummary formats what a loaded suite holds, for printing before
// training: images per task and class, then per source the images loaded and
// the skipped files counted by reason, with the first file of each reason.
func LoadSummary(s *Suite) string {
	var b strings.Builder
	total := 0
	for _, t := range s.Tasks {
		total += t.N()
	}
	fmt.Fprintf(&b, "suite %s: %d tasks, %d images", s.Name, len(s.Tasks), total)
	if len(s.Tasks) > 0 {
		t := s.Tasks[0]
		fmt.Fprintf(&b, " of %d×%d×%d (C×H×W)", t.C, t.H, t.W)
	}
	b.WriteString("\n")
	for _, t := range s.Tasks {
		fmt.Fprintf(&b, "  task %s: %d images, %d classes\n", t.Name, t.N(), t.K())
		counts := make([]int, t.K())
		for _, label := range t.Labels {
			counts[label]++
		}
		width := 0
		for _, name := range t.Classes {
			width = max(width, utf8.RuneCountInString(name))
		}
		for k, name := range t.Classes {
			fmt.Fprintf(&b, "    %-*s %6d\n", width, name, counts[k])
		}
	}
	for _, r := range s.Reports {
		fmt.Fprintf(&b, "  source %s: %d images loaded, %d files skipped\n", r.Source, r.Loaded,
			len(r.Skipped))
		for _, g := range groupSkips(r.Skipped) {
			fmt.Fprintf(&b, "    %s: %d, first %s: %s\n", g.reason, g.count, g.first.Path,
				g.first.Err)
		}
	}
	return b.String()
}

type skipGroup struct {
	reason string
	count  int
	first  Skip
}

// groupSkips counts skips by reason, in order of each reason's first skip.
func groupSkips(skips []Skip) []skipGroup {
	var groups []skipGroup
	index := make(map[string]int)
	for _, s := range skips {
		i, ok := index[s.Reason]
		if !ok {
			i = len(groups)
			index[s.Reason] = i
			groups = append(groups, skipGroup{reason: s.Reason, first: s})
		}
		groups[i].count++
	}
	return groups
}
