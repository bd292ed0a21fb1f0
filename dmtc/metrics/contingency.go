package metrics

import (
	"fmt"
	"slices"
	"sort"
)

// labelIndex maps arbitrary int label values onto 0..len(values)-1 in
// ascending order of value.
type labelIndex struct {
	values []int // distinct label values, ascending
	codes  []int // codes[i] is the index into values of sample i's label
}

// denseLookupFactor bounds the lookup table that indexLabels allocates when
// the label range is small: up to denseLookupFactor·n+1024 entries. Wider
// ranges (large or negative label values spread far apart) use a map.
const denseLookupFactor = 4

// indexLabels encodes labels as 0-based codes of their sorted distinct values.
func indexLabels(labels []int) labelIndex {
	n := len(labels)
	lo, hi := slices.Min(labels), slices.Max(labels)
	codes := make([]int, n)

	// hi-lo can overflow int when the labels span most of its range, so the
	// width is compared in uint64.
	width := uint64(hi) - uint64(lo)
	if width < uint64(denseLookupFactor*n+1024) {
		lookup := make([]int, width+1)
		for _, v := range labels {
			lookup[v-lo] = 1
		}
		values := make([]int, 0)
		for offset, seen := range lookup {
			if seen != 0 {
				lookup[offset] = len(values)
				values = append(values, lo+offset)
			}
		}
		for i, v := range labels {
			codes[i] = lookup[v-lo]
		}
		return labelIndex{values: values, codes: codes}
	}

	seen := make(map[int]int)
	for _, v := range labels {
		seen[v] = 0
	}
	values := make([]int, 0, len(seen))
	for v := range seen {
		values = append(values, v)
	}
	sort.Ints(values)
	for code, v := range values {
		seen[v] = code
	}
	for i, v := range labels {
		codes[i] = seen[v]
	}
	return labelIndex{values: values, codes: codes}
}

// cell is one non-zero entry of a contingency table.
type cell struct {
	row, col int
	count    int
}

// contingency is the sparse contingency table of two labelings: rows are the
// true classes, columns the predicted clusters.
type contingency struct {
	classes  labelIndex
	clusters labelIndex
	rowSums  []int // samples per class
	colSums  []int // samples per cluster
	cells    []cell
	n        int
}

// denseCellFactor bounds the dense count array that buildContingency uses:
// up to denseCellFactor·n+4096 cells. More classes × clusters than that (for
// example one cluster per sample) are counted by sorting the cell keys.
const denseCellFactor = 2

// validateLabels returns an error naming op when the labelings differ in
// length or are empty.
func validateLabels(op string, yTrue, yPred []int) error {
	if len(yTrue) != len(yPred) {
		return fmt.Errorf("metrics: %s: yTrue has %d labels but yPred has %d; "+
			"pass one predicted label per sample", op, len(yTrue), len(yPred))
	}
	if len(yTrue) == 0 {
		return fmt.Errorf("metrics: %s: yTrue and yPred are empty (0 labels); "+
			"pass at least one sample", op)
	}
	return nil
}

// buildContingency counts the samples in each (class, cluster) pair. The
// labelings must have equal, non-zero length.
func buildContingency(yTrue, yPred []int) contingency {
	t := contingency{
		classes:  indexLabels(yTrue),
		clusters: indexLabels(yPred),
		n:        len(yTrue),
	}
	rows, cols := len(t.classes.values), len(t.clusters.values)
	t.rowSums = make([]int, rows)
	t.colSums = make([]int, cols)
	for i := range t.n {
		t.rowSums[t.classes.codes[i]]++
		t.colSums[t.clusters.codes[i]]++
	}

	// rows and cols are at most n each, so rows·cols fits in int64.
	if int64(rows)*int64(cols) <= int64(denseCellFactor*t.n+4096) {
		t.cells = countCellsDense(t.classes.codes, t.clusters.codes, rows, cols)
	} else {
		t.cells = countCellsSorted(t.classes.codes, t.clusters.codes, cols)
	}
	return t
}

// countCellsDense returns the non-zero cells in row-major order, counted in
// a rows×cols array.
func countCellsDense(rowCodes, colCodes []int, rows, cols int) []cell {
	counts := make([]int, rows*cols)
	for i, r := range rowCodes {
		counts[r*cols+colCodes[i]]++
	}
	var cells []cell
	for key, count := range counts {
		if count != 0 {
			cells = append(cells, cell{row: key / cols, col: key % cols, count: count})
		}
	}
	return cells
}

// countCellsSorted returns the non-zero cells in row-major order, counted by
// sorting the cell key of every sample. It needs O(n) memory whatever the
// number of rows and columns.
func countCellsSorted(rowCodes, colCodes []int, cols int) []cell {
	keys := make([]int64, len(rowCodes))
	for i, r := range rowCodes {
		keys[i] = int64(r)*int64(cols) + int64(colCodes[i])
	}
	slices.Sort(keys)
	var cells []cell
	for start := 0; start < len(keys); {
		end := start + 1
		for end < len(keys) && keys[end] == keys[start] {
			end++
		}
		cells = append(cells, cell{
			row:   int(keys[start] / int64(cols)),
			col:   int(keys[start] % int64(cols)),
			count: end - start,
		})
		start = end
	}
	return cells
}
