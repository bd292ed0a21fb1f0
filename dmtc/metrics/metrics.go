// Package metrics scores a clustering against ground-truth labels with the
// three measures used in deep-clustering papers: clustering accuracy (ACC,
// under the best one-to-one cluster↔class map), normalised mutual
// information (NMI) and the adjusted Rand index (ARI).
//
// Label values are arbitrary ints (negative and sparse values are fine), and
// the number of clusters may differ from the number of classes.
package metrics

import (
	"fmt"
	"math"
	"math/big"
	"math/bits"
)

// maxMatchCells is the largest classes × clusters table that Match builds.
// The table and its cost matrix take 8 bytes a cell each, so 256 MiB at the
// limit of 2²⁴ cells.
const maxMatchCells = 1 << 24

// Assignment is the best one-to-one map between predicted clusters and true
// classes, with the contingency table it was computed from.
type Assignment struct {
	// Classes lists the distinct true labels in ascending order, which is
	// the row order of Table.
	Classes []int
	// Clusters lists the distinct predicted labels in ascending order,
	// which is the column order of Table.
	Clusters []int
	// Table[i][j] is the number of samples of class Classes[i] that were
	// put in cluster Clusters[j].
	Table [][]int
	// ClassOfCluster[j] is the row index in Classes of the class matched to
	// cluster Clusters[j], or -1 when the cluster is unmatched because there
	// are more clusters than classes.
	ClassOfCluster []int
	// Correct is the number of samples whose cluster is matched to their
	// class: the sum of Table over the matched cells.
	Correct int
	// Total is the number of samples.
	Total int
}

// Accuracy returns Correct/Total, the clustering accuracy (ACC).
func (a Assignment) Accuracy() float64 {
	return float64(a.Correct) / float64(a.Total)
}

// ClassOf returns the true label matched to the predicted label cluster. ok
// is false when cluster does not occur in the predictions or is unmatched.
func (a Assignment) ClassOf(cluster int) (class int, ok bool) {
	lo, hi := 0, len(a.Clusters)
	for lo < hi {
		mid := (lo + hi) / 2
		if a.Clusters[mid] < cluster {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	if lo == len(a.Clusters) || a.Clusters[lo] != cluster || a.ClassOfCluster[lo] < 0 {
		return 0, false
	}
	return a.Classes[a.ClassOfCluster[lo]], true
}

// Match finds the one-to-one map between predicted clusters and true classes
// that puts the most samples on matched pairs, with the Hungarian algorithm
// on the classes × clusters contingency table. With more clusters than
// classes some clusters stay unmatched; with more classes than clusters some
// classes do. Time is O(m²·M) for m = min and M = max of the numbers of
// classes and clusters.
//
// Match returns an error when the labelings differ in length, are empty, or
// when classes × clusters exceeds 2²⁴ table cells.
func Match(yTrue, yPred []int) (Assignment, error) {
	return match("Match", yTrue, yPred)
}

// match implements Match. op names the exported function in errors.
func match(op string, yTrue, yPred []int) (Assignment, error) {
	if err := validateLabels(op, yTrue, yPred); err != nil {
		return Assignment{}, err
	}
	classes := indexLabels(yTrue)
	clusters := indexLabels(yPred)
	rows, cols := len(classes.values), len(clusters.values)
	if int64(rows)*int64(cols) > maxMatchCells {
		return Assignment{}, fmt.Errorf("metrics: %s: %d classes × %d clusters = %d "+
			"contingency cells exceeds the limit of %d; reduce the number of distinct labels",
			op, rows, cols, int64(rows)*int64(cols), maxMatchCells)
	}

	table := make([][]int, rows)
	for i := range table {
		table[i] = make([]int, cols)
	}
	for s := range yTrue {
		table[classes.codes[s]][clusters.codes[s]]++
	}

	// Maximising matched counts is minimising their negation. Counts are
	// integers below 2⁵³, so the float64 costs and sums are exact.
	cost := make([][]float64, rows)
	for i := range cost {
		cost[i] = make([]float64, cols)
		for j, count := range table[i] {
			cost[i][j] = -float64(count)
		}
	}
	rowToCol, err := Hungarian(cost)
	if err != nil {
		// Unreachable: cost is rectangular and finite by construction.
		panic(err)
	}

	a := Assignment{
		Classes:        classes.values,
		Clusters:       clusters.values,
		Table:          table,
		ClassOfCluster: make([]int, cols),
		Total:          len(yTrue),
	}
	for j := range a.ClassOfCluster {
		a.ClassOfCluster[j] = -1
	}
	for i, j := range rowToCol {
		if j >= 0 {
			a.ClassOfCluster[j] = i
			a.Correct += table[i][j]
		}
	}
	return a, nil
}

// ACC returns the clustering accuracy: the share of samples whose cluster is
// mapped to their true class under the best one-to-one map (see Match).
func ACC(yTrue, yPred []int) (float64, error) {
	a, err := match("ACC", yTrue, yPred)
	if err != nil {
		return 0, err
	}
	return a.Accuracy(), nil
}

// NMI returns the normalised mutual information of two labelings with the
// arithmetic-mean normalisation, MI / ((H(yTrue) + H(yPred)) / 2), which is
// the default of scikit-learn's normalized_mutual_info_score. Entropies use
// natural logarithms, which cancel in the ratio.
//
// Edge cases follow scikit-learn: when both labelings are constant (both
// entropies are 0) NMI is 1; when exactly one is constant it is exactly 0.
// The result is clamped to [0, 1] against rounding.
func NMI(yTrue, yPred []int) (float64, error) {
	if err := validateLabels("NMI", yTrue, yPred); err != nil {
		return 0, err
	}
	t := buildContingency(yTrue, yPred)
	constTrue := len(t.rowSums) == 1
	constPred := len(t.colSums) == 1
	if constTrue && constPred {
		return 1, nil
	}
	if constTrue || constPred {
		return 0, nil
	}

	n := float64(t.n)
	logN := math.Log(n)
	// MI = Σ p_ij·log(p_ij / (p_i·p_j)) with p = count / n.
	mi := 0.0
	for _, c := range t.cells {
		count := float64(c.count)
		a := float64(t.rowSums[c.row])
		b := float64(t.colSums[c.col])
		mi += count / n * (math.Log(count) + logN - math.Log(a) - math.Log(b))
	}
	mi = max(mi, 0)
	mean := (entropy(t.rowSums, t.n) + entropy(t.colSums, t.n)) / 2
	return min(mi/mean, 1), nil
}

// entropy returns the Shannon entropy, in nats, of the distribution given by
// counts summing to n.
func entropy(counts []int, n int) float64 {
	h := 0.0
	for _, count := range counts {
		p := float64(count) / float64(n)
		h -= p * math.Log(p)
	}
	return max(h, 0)
}

// ARI returns the adjusted Rand index of two labelings:
//
//	ARI = (Σ_ij C(n_ij,2) − E) / ((Σ_i C(a_i,2) + Σ_j C(b_j,2))/2 − E),
//	E   = Σ_i C(a_i,2) · Σ_j C(b_j,2) / C(n,2),
//
// with n_ij the contingency counts and a_i, b_j its row and column sums. The
// pair counts and the ratio are computed exactly in integers (128-bit sums,
// then math/big), so there is no overflow at any n, and the result is the
// correctly rounded float64 of the exact value. Identical labelings give
// exactly 1. When the denominator is 0 (both labelings constant, both all
// singletons, or one sample) ARI is 1, as in scikit-learn.
func ARI(yTrue, yPred []int) (float64, error) {
	if err := validateLabels("ARI", yTrue, yPred); err != nil {
		return 0, err
	}
	t := buildContingency(yTrue, yPred)

	var index, sumRows, sumCols uint128
	for _, c := range t.cells {
		index.add(pairs(c.count))
	}
	for _, a := range t.rowSums {
		sumRows.add(pairs(a))
	}
	for _, b := range t.colSums {
		sumCols.add(pairs(b))
	}
	total := pairs(t.n)

	// Multiply numerator and denominator by 2·C(n,2) to clear fractions:
	//   num = 2·index·C(n,2) − 2·sumRows·sumCols
	//   den = (sumRows + sumCols)·C(n,2) − 2·sumRows·sumCols
	bigIndex, bigRows, bigCols, bigTotal := index.big(), sumRows.big(), sumCols.big(), total.big()
	product := new(big.Int).Mul(bigRows, bigCols)
	product.Lsh(product, 1)
	num := new(big.Int).Mul(bigIndex, bigTotal)
	num.Lsh(num, 1)
	num.Sub(num, product)
	den := new(big.Int).Add(bigRows, bigCols)
	den.Mul(den, bigTotal)
	den.Sub(den, product)
	if den.Sign() == 0 {
		return 1, nil
	}
	ari, _ := new(big.Rat).SetFrac(num, den).Float64()
	return ari, nil
}

// uint128 is an unsigned 128-bit integer, enough for any sum of pair counts
// C(x,2) with x < 2⁶³.
type uint128 struct{ hi, lo uint64 }

// pairs returns C(x, 2) = x(x−1)/2 for x ≥ 0.
func pairs(x int) uint128 {
	if x < 2 {
		return uint128{}
	}
	hi, lo := bits.Mul64(uint64(x), uint64(x-1))
	// Halve the 128-bit product: x(x−1) is even.
	return uint128{hi: hi >> 1, lo: lo>>1 | hi<<63}
}

func (u *uint128) add(v uint128) {
	var carry uint64
	u.lo, carry = bits.Add64(u.lo, v.lo, 0)
	u.hi, _ = bits.Add64(u.hi, v.hi, carry)
}

func (u uint128) big() *big.Int {
	b := new(big.Int).SetUint64(u.hi)
	b.Lsh(b, 64)
	return b.Or(b, new(big.Int).SetUint64(u.lo))
}
