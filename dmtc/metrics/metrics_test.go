package metrics

import (
	"math"
	"math/big"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// labelsFromTable expands a contingency table into labelings: table[i][j]
// samples get true label classes[i] and predicted label clusters[j].
func labelsFromTable(table [][]int, classes, clusters []int) (yTrue, yPred []int) {
	for i, row := range table {
		for j, count := range row {
			for range count {
				yTrue = append(yTrue, classes[i])
				yPred = append(yPred, clusters[j])
			}
		}
	}
	return yTrue, yPred
}

func iota(n int) []int {
	values := make([]int, n)
	for i := range values {
		values[i] = i
	}
	return values
}

// TestReferenceCases checks ACC, NMI and ARI against values computed
// independently by testdata/reference.py (python3, standard library only:
// ACC by trying every injective map, NMI as H(T)+H(P)−H(T,P), ARI with exact
// fractions). The first case and the 10⁶-sample ARI 0.63999964 were also
// worked by hand: ARI = 36/43 and NMI = 2/(4.25/2) = 16/17 in bits for the
// first.
func TestReferenceCases(t *testing.T) {
	const tol = 1e-6
	million := [][]int{{450000, 50000}, {50000, 450000}}
	millionTrue, millionPred := labelsFromTable(million, iota(2), iota(2))
	cases := []struct {
		name         string
		yTrue, yPred []int
		acc, nmi     float64
		ari          float64
	}{
		{
			name:  "one class split in two",
			yTrue: []int{0, 0, 1, 1, 2, 2, 3, 3},
			yPred: []int{0, 0, 1, 1, 2, 2, 3, 4},
			acc:   0.875, nmi: 0.9411764706, ari: 36.0 / 43.0,
		},
		{
			name:  "two blocks of 10^6 samples",
			yTrue: millionTrue, yPred: millionPred,
			acc: 0.9, nmi: 0.5310044064, ari: 0.63999964,
		},
		{
			name:  "more clusters than classes",
			yTrue: []int{0, 0, 0, 0, 1, 1, 1, 2, 2, 2, 2, 2},
			yPred: []int{3, 3, 1, 1, 0, 0, 4, 2, 2, 2, 5, 1},
			acc:   0.5833333333, nmi: 0.6602388262, ari: 244.0 / 739.0,
		},
		{
			name:  "more classes than clusters",
			yTrue: []int{0, 0, 1, 1, 1, 2, 2, 3, 3, 3, 4},
			yPred: []int{0, 0, 0, 1, 1, 1, 1, 0, 1, 1, 0},
			acc:   0.3636363636, nmi: 0.3057957421, ari: 8.0 / 283.0,
		},
		{
			name:  "sparse label values",
			yTrue: []int{-5, -5, -5, 1000, 1000, 7, 7, 7, 7},
			yPred: []int{7, 7, 1000, -5, -5, 1000, 1000, 1000, 7},
			acc:   0.7777777778, nmi: 0.5644105253, ari: 4.0 / 13.0,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			acc, err := ACC(tc.yTrue, tc.yPred)
			require.NoError(t, err)
			assert.InDelta(t, tc.acc, acc, tol, "ACC n=%d", len(tc.yTrue))

			nmi, err := NMI(tc.yTrue, tc.yPred)
			require.NoError(t, err)
			assert.InDelta(t, tc.nmi, nmi, tol, "NMI n=%d", len(tc.yTrue))

			ari, err := ARI(tc.yTrue, tc.yPred)
			require.NoError(t, err)
			assert.InDelta(t, tc.ari, ari, tol, "ARI n=%d", len(tc.yTrue))
		})
	}
}

func TestConstantPrediction(t *testing.T) {
	const tol = 1e-6
	// 601 samples of class 0 and 399 of class 1, all predicted as cluster 4.
	yTrue, yPred := labelsFromTable([][]int{{601}, {399}}, []int{0, 1}, []int{4})

	acc, err := ACC(yTrue, yPred)
	require.NoError(t, err)
	assert.InDelta(t, 0.601, acc, tol, "ACC constant prediction")

	nmi, err := NMI(yTrue, yPred)
	require.NoError(t, err)
	assert.Equal(t, 0.0, nmi, "NMI constant prediction must be exactly 0")
	nmi, err = NMI(yPred, yTrue)
	require.NoError(t, err)
	assert.Equal(t, 0.0, nmi, "NMI constant truth must be exactly 0")

	ari, err := ARI(yTrue, yPred)
	require.NoError(t, err)
	assert.InDelta(t, 0.0, ari, tol, "ARI constant prediction")
}

func TestConstantLabelings(t *testing.T) {
	for _, n := range []int{1, 2, 5, 1000} {
		same := make([]int, n)
		other := make([]int, n)
		for i := range other {
			other[i] = 9
		}
		for _, pred := range [][]int{same, other} {
			nmi, err := NMI(same, pred)
			require.NoError(t, err)
			assert.Equal(t, 1.0, nmi, "NMI of two constant labelings, n=%d, pred=%d", n, pred[0])

			ari, err := ARI(same, pred)
			require.NoError(t, err)
			assert.Equal(t, 1.0, ari, "ARI of two constant labelings, n=%d, pred=%d", n, pred[0])

			acc, err := ACC(same, pred)
			require.NoError(t, err)
			assert.Equal(t, 1.0, acc, "ACC of two constant labelings, n=%d, pred=%d", n, pred[0])
		}
	}
}

func TestIdenticalLabelingsExactlyOne(t *testing.T) {
	const tol = 1e-12
	const n = 1_000_000
	for _, classes := range []int{2, 10, 1000} {
		rng := rand.New(rand.NewPCG(1, uint64(classes)))
		labels := make([]int, n)
		for i := range labels {
			labels[i] = rng.IntN(classes)
		}
		ari, err := ARI(labels, labels)
		require.NoError(t, err)
		assert.Equal(t, 1.0, ari, "ARI identical, n=%d, classes=%d", n, classes)

		nmi, err := NMI(labels, labels)
		require.NoError(t, err)
		assert.InDelta(t, 1.0, nmi, tol, "NMI identical, n=%d, classes=%d", n, classes)
	}
}

// TestOneClusterPerSample takes the path that counts contingency cells by
// sorting (10 classes × 10000 clusters is more than 2n+4096 cells). With
// every prediction a singleton, MI = H(true) = ln 10 and H(pred) = ln n, so
// NMI = ln 10 / ((ln 10 + ln n)/2). No pair shares a cluster, so the Rand
// index equals its expectation and ARI is exactly 0.
func TestOneClusterPerSample(t *testing.T) {
	const tol = 1e-12
	const n = 10000
	yTrue := make([]int, n)
	yPred := make([]int, n)
	for i := range yTrue {
		yTrue[i] = i % 10
		yPred[i] = n - i
	}
	nmi, err := NMI(yTrue, yPred)
	require.NoError(t, err)
	want := math.Log(10) / ((math.Log(10) + math.Log(n)) / 2)
	assert.InDelta(t, want, nmi, tol, "NMI singletons")

	ari, err := ARI(yTrue, yPred)
	require.NoError(t, err)
	assert.Equal(t, 0.0, ari, "ARI singletons")

	acc, err := ACC(yTrue, yPred)
	require.NoError(t, err)
	assert.InDelta(t, 10.0/n, acc, tol, "ACC singletons")

	// Both labelings all singletons: the ARI denominator is 0, which
	// scikit-learn scores as 1.
	ari, err = ARI(yPred, yPred)
	require.NoError(t, err)
	assert.Equal(t, 1.0, ari, "ARI of two all-singleton labelings")
}

func TestExtremeLabelValues(t *testing.T) {
	const tol = 1e-12
	yTrue := []int{math.MinInt, math.MinInt, 0, 0, math.MaxInt, math.MaxInt}
	yPred := []int{math.MaxInt, math.MaxInt, math.MinInt, math.MinInt, -1, 7}
	a, err := Match(yTrue, yPred)
	require.NoError(t, err)
	assert.Equal(t, []int{math.MinInt, 0, math.MaxInt}, a.Classes)
	assert.Equal(t, []int{math.MinInt, -1, 7, math.MaxInt}, a.Clusters)
	assert.Equal(t, 5, a.Correct, "Match correct with extreme labels")
	class, ok := a.ClassOf(math.MaxInt)
	assert.True(t, ok)
	assert.Equal(t, math.MinInt, class, "ClassOf(MaxInt)")

	nmi, err := NMI(yTrue, yPred)
	require.NoError(t, err)
	// The class counts are (2,2,2) and the cluster counts (2,2,1,1). Every
	// cluster lies inside one class, so MI = H(true) = ln 3.
	hTrue := math.Log(3)
	hPred := -(2*(1.0/3)*math.Log(1.0/3) + 2*(1.0/6)*math.Log(1.0/6))
	assert.InDelta(t, hTrue/((hTrue+hPred)/2), nmi, tol, "NMI extreme labels")
}

func TestMatchTable(t *testing.T) {
	yTrue := []int{-5, -5, -5, 1000, 1000, 7, 7, 7, 7}
	yPred := []int{7, 7, 1000, -5, -5, 1000, 1000, 1000, 7}
	a, err := Match(yTrue, yPred)
	require.NoError(t, err)
	assert.Equal(t, []int{-5, 7, 1000}, a.Classes)
	assert.Equal(t, []int{-5, 7, 1000}, a.Clusters)
	// Rows: classes -5, 7, 1000. Columns: clusters -5, 7, 1000.
	assert.Equal(t, [][]int{{0, 2, 1}, {0, 1, 3}, {2, 0, 0}}, a.Table)
	// The best map is 7→-5, 1000→7, -5→1000: 2+3+2 = 7 of 9.
	assert.Equal(t, []int{2, 0, 1}, a.ClassOfCluster)
	assert.Equal(t, 7, a.Correct)
	assert.Equal(t, 9, a.Total)
	assert.InDelta(t, 7.0/9.0, a.Accuracy(), 1e-15)

	for cluster, want := range map[int]int{-5: 1000, 7: -5, 1000: 7} {
		got, ok := a.ClassOf(cluster)
		assert.True(t, ok, "ClassOf(%d) ok", cluster)
		assert.Equal(t, want, got, "ClassOf(%d)", cluster)
	}
	_, ok := a.ClassOf(3)
	assert.False(t, ok, "ClassOf of a label that was never predicted")
}

func TestMatchUnmatchedClusters(t *testing.T) {
	// Four clusters, two classes: the two largest cells win, clusters 1 and
	// 3 stay unmatched.
	yTrue := []int{0, 0, 0, 0, 0, 1, 1, 1, 1, 1}
	yPred := []int{2, 2, 2, 1, 3, 0, 0, 0, 0, 3}
	a, err := Match(yTrue, yPred)
	require.NoError(t, err)
	assert.Equal(t, []int{1, -1, 0, -1}, a.ClassOfCluster)
	assert.Equal(t, 7, a.Correct)
	_, ok := a.ClassOf(1)
	assert.False(t, ok, "ClassOf of an unmatched cluster")
}

func TestInvariance(t *testing.T) {
	const tol = 1e-12
	rng := rand.New(rand.NewPCG(7, 11))
	const n = 503
	yTrue := make([]int, n)
	yPred := make([]int, n)
	for i := range yTrue {
		yTrue[i] = rng.IntN(5)
		// Mostly agree with the truth, with noise and one extra cluster.
		yPred[i] = yTrue[i]
		if rng.Float64() < 0.3 {
			yPred[i] = rng.IntN(6)
		}
	}
	acc0, err := ACC(yTrue, yPred)
	require.NoError(t, err)
	nmi0, err := NMI(yTrue, yPred)
	require.NoError(t, err)
	ari0, err := ARI(yTrue, yPred)
	require.NoError(t, err)

	// Rename clusters by a permutation onto arbitrary values.
	names := []int{-40, 1 << 40, 3, -1, 999, 12}
	rng.Shuffle(len(names), func(i, j int) { names[i], names[j] = names[j], names[i] })
	renamed := make([]int, n)
	for i, p := range yPred {
		renamed[i] = names[p]
	}
	// Shuffle the sample order of both labelings together.
	order := rng.Perm(n)
	shuffledTrue := make([]int, n)
	shuffledPred := make([]int, n)
	for i, j := range order {
		shuffledTrue[i] = yTrue[j]
		shuffledPred[i] = renamed[j]
	}

	variants := []struct {
		name         string
		yTrue, yPred []int
	}{
		{"renamed clusters", yTrue, renamed},
		{"shuffled samples", shuffledTrue, shuffledPred},
		{"swapped roles", yPred, yTrue},
	}
	for _, v := range variants {
		acc, err := ACC(v.yTrue, v.yPred)
		require.NoError(t, err)
		assert.Equal(t, acc0, acc, "ACC %s", v.name)
		nmi, err := NMI(v.yTrue, v.yPred)
		require.NoError(t, err)
		assert.InDelta(t, nmi0, nmi, tol, "NMI %s", v.name)
		ari, err := ARI(v.yTrue, v.yPred)
		require.NoError(t, err)
		assert.Equal(t, ari0, ari, "ARI %s", v.name)
	}
}

func TestInputErrors(t *testing.T) {
	funcs := map[string]func(a, b []int) error{
		"ACC":   func(a, b []int) error { _, err := ACC(a, b); return err },
		"Match": func(a, b []int) error { _, err := Match(a, b); return err },
		"NMI":   func(a, b []int) error { _, err := NMI(a, b); return err },
		"ARI":   func(a, b []int) error { _, err := ARI(a, b); return err },
	}
	for name, f := range funcs {
		err := f(make([]int, 8), make([]int, 7))
		require.Error(t, err, "%s length mismatch", name)
		assert.Contains(t, err.Error(), "metrics: "+name+": yTrue has 8 labels but yPred has 7")

		err = f(nil, []int{})
		require.Error(t, err, "%s empty input", name)
		assert.Contains(t, err.Error(), "metrics: "+name+": yTrue and yPred are empty")
	}
}

func TestMatchTooManyLabels(t *testing.T) {
	// 4097 × 4097 distinct labels exceed the 2²⁴-cell table limit.
	const n = 4097
	yTrue := iota(n)
	yPred := iota(n)
	slices.Reverse(yPred)
	_, err := ACC(yTrue, yPred)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "metrics: ACC: 4097 classes × 4097 clusters")
}

func TestPairs(t *testing.T) {
	for _, x := range []int{0, 1, 2, 3, 1_000_000, 1<<32 + 1, math.MaxInt} {
		want := new(big.Int).Mul(big.NewInt(int64(x)), big.NewInt(int64(x)-1))
		want.Rsh(want, 1)
		if x < 2 {
			want.SetInt64(0)
		}
		got := pairs(x).big()
		assert.Zero(t, want.Cmp(got), "pairs(%d): got %v, want %v", x, got, want)
	}

	var sum uint128
	want := new(big.Int)
	for range 4 {
		sum.add(pairs(math.MaxInt))
		want.Add(want, pairs(math.MaxInt).big())
	}
	assert.Zero(t, want.Cmp(sum.big()), "uint128 sum with carry: got %v, want %v", sum.big(), want)
}

func TestCellCountingPathsAgree(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	for _, size := range []struct{ n, rows, cols int }{{1, 1, 1}, {17, 3, 5}, {1000, 31, 33}} {
		rowCodes := make([]int, size.n)
		colCodes := make([]int, size.n)
		for i := range rowCodes {
			rowCodes[i] = rng.IntN(size.rows)
			colCodes[i] = rng.IntN(size.cols)
		}
		dense := countCellsDense(rowCodes, colCodes, size.rows, size.cols)
		sorted := countCellsSorted(rowCodes, colCodes, size.cols)
		assert.Equal(t, dense, sorted, "cells n=%d rows=%d cols=%d", size.n, size.rows, size.cols)
	}
}
