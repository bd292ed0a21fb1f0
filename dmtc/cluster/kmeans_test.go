package cluster

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// blobs returns n rows of d columns drawn from k Gaussian blobs with unit
// standard deviation, and the blob of each row. Center coordinates are
// uniform in [0, spacing), and blob b is shifted by b·spacing along axis 0,
// so any two centers are at least spacing apart. Blob sizes differ: blob b
// gets about n·(b+1)/(k(k+1)/2) rows.
func blobs(rng *rand.Rand, n, d, k int, spacing float64) ([]float32, []int) {
	blobCenters := make([]float64, k*d)
	for i := range blobCenters {
		blobCenters[i] = rng.Float64() * spacing
	}
	for b := range k {
		blobCenters[b*d] += float64(b) * spacing
	}
	x := make([]float32, n*d)
	truth := make([]int, n)
	weightSum := k * (k + 1) / 2
	for i := range n {
		// Weighted round robin: row i goes to blob b for b+1 of every
		// k(k+1)/2 rows.
		r := i % weightSum
		b := 0
		for r >= b+1 {
			r -= b + 1
			b++
		}
		truth[i] = b
		for j := range d {
			x[i*d+j] = float32(blobCenters[b*d+j] + rng.NormFloat64())
		}
	}
	return x, truth
}

// samePartition reports whether labels equal truth up to a renaming of the
// clusters, and the first row that breaks it.
func samePartition(labels, truth []int) (bool, int) {
	forward := map[int]int{}
	backward := map[int]int{}
	for i := range labels {
		if l, ok := forward[truth[i]]; ok && l != labels[i] {
			return false, i
		}
		if t, ok := backward[labels[i]]; ok && t != truth[i] {
			return false, i
		}
		forward[truth[i]] = labels[i]
		backward[labels[i]] = truth[i]
	}
	return true, -1
}

// naiveInertia recomputes the inertia with a plain float64 loop.
func naiveInertia(x []float32, n, d int, centers []float32, labels []int) float64 {
	total := 0.0
	for i := range n {
		for j := range d {
			diff := float64(x[i*d+j]) - float64(centers[labels[i]*d+j])
			total += diff * diff
		}
	}
	return total
}

// naiveDistance returns the squared distance of row i to center c.
func naiveDistance(x []float32, d, i int, centers []float32, c int) float64 {
	total := 0.0
	for j := range d {
		diff := float64(x[i*d+j]) - float64(centers[c*d+j])
		total += diff * diff
	}
	return total
}

func TestKMeansSeparatedBlobs(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, shape := range []struct{ n, d, k int }{{151, 5, 4}, {600, 2, 3}, {257, 33, 6}} {
		x, truth := blobs(rng, shape.n, shape.d, shape.k, 100)
		for seed := range uint64(5) {
			res, err := KMeans(x, shape.n, shape.d, shape.k, Options{Seed: seed})
			require.NoError(t, err)
			ok, row := samePartition(res.Labels, truth)
			assert.True(t, ok, "KMeans n=%d d=%d k=%d seed=%d: blobs not recovered, first wrong row %d",
				shape.n, shape.d, shape.k, seed, row)
			assert.True(t, res.Converged, "KMeans n=%d d=%d k=%d seed=%d converged", shape.n, shape.d, shape.k, seed)
		}
	}
}

func TestKMeansOneCluster(t *testing.T) {
	// Centers are float32 means of float32 data: relative rounding 2⁻²⁴.
	const tol = 1e-6
	rng := rand.New(rand.NewPCG(3, 4))
	const n, d = 77, 9
	x := make([]float32, n*d)
	for i := range x {
		x[i] = float32(rng.NormFloat64()*3 + 1)
	}
	res, err := KMeans(x, n, d, 1, Options{Seed: 1})
	require.NoError(t, err)
	for i, label := range res.Labels {
		require.Equal(t, 0, label, "KMeans k=1 label of row %d", i)
	}
	for j := range d {
		mean := 0.0
		for i := range n {
			mean += float64(x[i*d+j])
		}
		mean /= n
		assert.InDelta(t, mean, float64(res.Centers[j]), tol*(1+math.Abs(mean)),
			"KMeans k=1 center column %d", j)
	}
	want := naiveInertia(x, n, d, res.Centers, res.Labels)
	assert.InEpsilon(t, want, res.Inertia, 1e-12, "KMeans k=1 inertia")
}

func TestKMeansEveryRowOwnCluster(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	const n, d = 23, 3
	x := make([]float32, n*d)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	res, err := KMeans(x, n, d, n, Options{Seed: 9})
	require.NoError(t, err)
	assert.Equal(t, 0.0, res.Inertia, "KMeans k=n inertia")
	sorted := slices.Clone(res.Labels)
	slices.Sort(sorted)
	for i := range n {
		require.Equal(t, i, sorted[i], "KMeans k=n: labels are not a permutation: %v", res.Labels)
	}
	for i, c := range res.Labels {
		assert.Equal(t, x[i*d:(i+1)*d], res.Centers[c*d:(c+1)*d], "KMeans k=n center of row %d", i)
	}
}

func TestKMeansDuplicateRows(t *testing.T) {
	// Three distinct points, each repeated five times, in shuffled order.
	points := [][]float32{{0, 0}, {5, 5}, {-3, 8}}
	rng := rand.New(rand.NewPCG(7, 8))
	order := rng.Perm(15)
	const d = 2
	x := make([]float32, 0, 15*d)
	truth := make([]int, 15)
	for i, p := range order {
		truth[i] = p % 3
		x = append(x, points[p%3]...)
	}

	for _, k := range []int{1, 2, 3, 5, 15} {
		res, err := KMeans(x, 15, d, k, Options{Seed: 11})
		require.NoError(t, err, "KMeans duplicates k=%d", k)
		want := naiveInertia(x, 15, d, res.Centers, res.Labels)
		assert.InEpsilon(t, want+1, res.Inertia+1, 1e-12, "KMeans duplicates k=%d inertia", k)

		counts := make([]int, k)
		for _, label := range res.Labels {
			require.GreaterOrEqual(t, label, 0, "KMeans duplicates k=%d label", k)
			require.Less(t, label, k, "KMeans duplicates k=%d label", k)
			counts[label]++
		}
		for c, count := range counts {
			assert.Positive(t, count, "KMeans duplicates k=%d: cluster %d is empty", k, c)
		}
		if k >= 3 {
			assert.Equal(t, 0.0, res.Inertia, "KMeans duplicates k=%d inertia", k)
		}
		if k == 3 {
			ok, row := samePartition(res.Labels, truth)
			assert.True(t, ok, "KMeans duplicates k=3: first wrong row %d", row)
		}
	}

	// All rows identical: every center is that row.
	same := slices.Repeat([]float32{2, -1}, 10)
	res, err := KMeans(same, 10, d, 4, Options{Seed: 3})
	require.NoError(t, err)
	assert.Equal(t, 0.0, res.Inertia, "KMeans identical rows inertia")
	assert.Equal(t, slices.Repeat([]float32{2, -1}, 4), res.Centers, "KMeans identical rows centers")
}

func TestKMeansThreadCountIndependent(t *testing.T) {
	// 1001 rows: three full chunks of 256 and a partial one. d = 130 spans
	// two full column blocks of 64 and a partial one. Overlapping blobs
	// (spacing 3) take many iterations and exercise ties in the reduction.
	rng := rand.New(rand.NewPCG(9, 10))
	const n, d, k = 1001, 130, 7
	x, _ := blobs(rng, n, d, k, 3)
	ref, err := KMeans(x, n, d, k, Options{Seed: 42, Threads: 1})
	require.NoError(t, err)
	require.Greater(t, ref.Iterations, 3, "KMeans test data should need several iterations")
	for _, threads := range []int{2, 3, 8} {
		res, err := KMeans(x, n, d, k, Options{Seed: 42, Threads: threads})
		require.NoError(t, err)
		assert.Equal(t, ref.Labels, res.Labels, "KMeans labels threads=%d vs 1", threads)
		assert.Equal(t, ref.Centers, res.Centers, "KMeans centers threads=%d vs 1", threads)
		assert.Equal(t, ref.Inertia, res.Inertia, "KMeans inertia threads=%d vs 1", threads)
		assert.Equal(t, ref.Iterations, res.Iterations, "KMeans iterations threads=%d vs 1", threads)
	}
}

func TestKMeansDeterministicForSeed(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	const n, d, k = 300, 4, 5
	x, _ := blobs(rng, n, d, k, 2)
	first, err := KMeans(x, n, d, k, Options{Seed: 7, Restarts: 3})
	require.NoError(t, err)
	second, err := KMeans(x, n, d, k, Options{Seed: 7, Restarts: 3})
	require.NoError(t, err)
	assert.Equal(t, first, second, "KMeans twice with seed 7")

	// The best of 3 restarts can be no worse than restart 0 alone, which
	// draws the same seeding stream (Seed, 0).
	single, err := KMeans(x, n, d, k, Options{Seed: 7, Restarts: 1})
	require.NoError(t, err)
	assert.LessOrEqual(t, first.Inertia, single.Inertia, "KMeans best of 3 vs restart 0")
}

func TestKMeansInertiaAndFixedPoint(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	const n, d, k = 500, 17, 6
	x, _ := blobs(rng, n, d, k, 4)
	res, err := KMeans(x, n, d, k, Options{Seed: 5})
	require.NoError(t, err)
	require.True(t, res.Converged, "KMeans converged")

	// Independent recomputation: a plain float64 loop instead of four
	// accumulators and chunked sums, so only rounding may differ.
	assert.InEpsilon(t, naiveInertia(x, n, d, res.Centers, res.Labels), res.Inertia, 1e-12,
		"KMeans inertia vs plain recomputation")

	// At convergence every row is at a nearest center, and every center is
	// the float32-rounded mean of its rows.
	const meanTol = 1e-5
	for i := range n {
		own := naiveDistance(x, d, i, res.Centers, res.Labels[i])
		for c := range k {
			other := naiveDistance(x, d, i, res.Centers, c)
			require.LessOrEqual(t, own, other*(1+1e-12),
				"KMeans row %d: center %d at %v is nearer than own center %d at %v",
				i, c, other, res.Labels[i], own)
		}
	}
	for c := range k {
		for j := range d {
			sum, count := 0.0, 0
			for i := range n {
				if res.Labels[i] == c {
					sum += float64(x[i*d+j])
					count++
				}
			}
			require.Positive(t, count, "KMeans cluster %d is empty", c)
			mean := sum / float64(count)
			assert.InDelta(t, mean, float64(res.Centers[c*d+j]), meanTol*(1+math.Abs(mean)),
				"KMeans center %d column %d", c, j)
		}
	}
}

func TestKMeansMaxIter(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	const n, d, k = 400, 3, 8
	x, _ := blobs(rng, n, d, k, 1)
	res, err := KMeans(x, n, d, k, Options{Seed: 1, Restarts: 1, MaxIter: 1})
	require.NoError(t, err)
	assert.Equal(t, 1, res.Iterations)
	assert.False(t, res.Converged, "KMeans MaxIter=1 on overlapping blobs")
	// The labels must still be nearest-center assignments for the returned
	// centers.
	for i := range n {
		own := naiveDistance(x, d, i, res.Centers, res.Labels[i])
		for c := range k {
			require.LessOrEqual(t, own, naiveDistance(x, d, i, res.Centers, c)*(1+1e-12),
				"KMeans MaxIter=1 row %d nearer to center %d than to %d", i, c, res.Labels[i])
		}
	}
}

func TestKMeansInvalidInput(t *testing.T) {
	x := make([]float32, 12)
	cases := []struct {
		name    string
		x       []float32
		n, d, k int
		opt     Options
		message string
	}{
		{"k zero", x, 4, 3, 0, Options{}, "k = 0 clusters is invalid for n = 4 rows"},
		{"k above n", x, 4, 3, 5, Options{}, "k = 5 clusters is invalid for n = 4 rows"},
		{"n zero", nil, 0, 3, 1, Options{}, "n = 0 rows"},
		{"d zero", x, 4, 0, 1, Options{}, "d = 0 columns"},
		{"length mismatch", x, 5, 3, 1, Options{}, "len(x) = 12 but n·d = 5·3"},
		{"length not a multiple", x, 2, 5, 1, Options{}, "len(x) = 12 but n·d = 2·5"},
		{"negative restarts", x, 4, 3, 1, Options{Restarts: -1}, "negative option (Restarts -1"},
		{"negative max iter", x, 4, 3, 1, Options{MaxIter: -3}, "negative option (Restarts 0, MaxIter -3"},
		{"negative threads", x, 4, 3, 1, Options{Threads: -2}, "negative option (Restarts 0, MaxIter 0, Threads -2)"},
	}
	for _, bad := range []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))} {
		y := make([]float32, 12)
		y[7] = bad
		cases = append(cases, struct {
			name    string
			x       []float32
			n, d, k int
			opt     Options
			message string
		}{fmt.Sprintf("value %v", bad), y, 4, 3, 2, Options{}, fmt.Sprintf("x[7] (row 2, column 1) is %v", bad)})
	}
	for _, tc := range cases {
		_, err := KMeans(tc.x, tc.n, tc.d, tc.k, tc.opt)
		require.Error(t, err, "KMeans %s", tc.name)
		assert.Contains(t, err.Error(), "cluster: KMeans: "+tc.message, "KMeans %s", tc.name)
	}
}

func TestLloydEmptyClusterReseeded(t *testing.T) {
	// Rows 0, 1, 10, 11 and centers 0.5 and 100: every row is nearer to
	// 0.5, so cluster 1 starts empty. It takes the row farthest from its
	// center, 11, and Lloyd then converges to {0, 1} and {10, 11}.
	m := matrix{x: []float32{0, 1, 10, 11}, n: 4, d: 1, threads: 1}
	labels := []int{-1, -1, -1, -1}
	dist := make([]float64, 4)
	centers := []float32{0.5, 100}
	changed := assign(m, centers, 2, labels, dist)
	assert.Equal(t, 4, changed)
	assert.Equal(t, []int{0, 0, 0, 0}, labels)

	updateCenters(m, centers, 2, labels, dist, make([]float64, 2), make([]int, 2))
	assert.Equal(t, []int{0, 0, 0, 1}, labels, "labels after reseeding")
	assert.Equal(t, []float32{float32(11.0 / 3.0), 11}, centers, "centers after reseeding")

	res := lloyd(m, []float32{0.5, 100}, 2, 100)
	assert.Equal(t, []int{0, 0, 1, 1}, res.Labels)
	assert.Equal(t, []float32{0.5, 10.5}, res.Centers)
	assert.Equal(t, 1.0, res.Inertia)
	assert.True(t, res.Converged)
}

func TestSeedPlusPlusOneRowPerBlob(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 18))
	const n, d, k = 300, 3, 5
	x, truth := blobs(rng, n, d, k, 1000)
	m := matrix{x: x, n: n, d: d, threads: 2}
	for seed := range uint64(20) {
		centers := seedPlusPlus(m, k, rand.New(rand.NewPCG(seed, 0)))
		seen := map[int]bool{}
		for c := range k {
			row := -1
			for i := range n {
				if slices.Equal(m.row(i), centers[c*d:(c+1)*d]) {
					row = i
					break
				}
			}
			require.GreaterOrEqual(t, row, 0, "seed %d: center %d is not a data row", seed, c)
			assert.False(t, seen[truth[row]], "seed %d: two centers in blob %d", seed, truth[row])
			seen[truth[row]] = true
		}
	}
}

func TestSampleByWeight(t *testing.T) {
	// 10⁵ draws: the standard error of a frequency is below 0.0016, so 0.01
	// is more than six standard errors.
	const draws, tol = 100000, 0.01
	weights := []float64{0, 1, 3, 0, 6}
	rng := rand.New(rand.NewPCG(19, 20))
	counts := make([]int, len(weights))
	for range draws {
		counts[sampleByWeight(weights, 10, rng)]++
	}
	assert.Zero(t, counts[0], "sampleByWeight drew a zero-weight index 0")
	assert.Zero(t, counts[3], "sampleByWeight drew a zero-weight index 3")
	for i, want := range []float64{0, 0.1, 0.3, 0, 0.6} {
		assert.InDelta(t, want, float64(counts[i])/draws, tol, "sampleByWeight frequency of %d", i)
	}

	// Total 0: uniform over all indices.
	clear(counts)
	for range draws {
		counts[sampleByWeight(make([]float64, 5), 0, rng)]++
	}
	for i := range counts {
		assert.InDelta(t, 0.2, float64(counts[i])/draws, tol, "sampleByWeight uniform frequency of %d", i)
	}
}

// BenchmarkKMeans times the pixel baseline at its intended size: 3000
// images of 28×28 in [0, 1], k = 3, 5 restarts. Each row blends two of
// three random prototypes with a uniform weight, plus noise, so the clusters
// touch and Lloyd needs more than a couple of iterations, as on real images.
func BenchmarkKMeans(b *testing.B) {
	const n, d, k = 3000, 784, 3
	rng := rand.New(rand.NewPCG(21, 22))
	prototypes := make([]float32, k*d)
	for i := range prototypes {
		prototypes[i] = rng.Float32()
	}
	x := make([]float32, n*d)
	for i := range n {
		p := prototypes[(i%k)*d : (i%k+1)*d]
		q := prototypes[((i+1)%k)*d : ((i+1)%k+1)*d]
		alpha := rng.Float32()
		for j := range d {
			v := alpha*p[j] + (1-alpha)*q[j] + float32(rng.NormFloat64()*0.2)
			x[i*d+j] = min(1, max(0, v))
		}
	}
	for _, threads := range []int{1, 2} {
		b.Run(fmt.Sprintf("n=%d,d=%d,k=%d,restarts=5,threads=%d", n, d, k, threads), func(b *testing.B) {
			iterations := 0
			for b.Loop() {
				res, err := KMeans(x, n, d, k, Options{Seed: 1, Threads: threads})
				if err != nil {
					b.Fatal(err)
				}
				iterations = res.Iterations
			}
			b.ReportMetric(float64(iterations), "iterations(best)")
		})
	}
}
