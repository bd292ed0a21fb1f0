package cluster

import (
	"math"
	"math/rand/v2"
)

// seedPlusPlus returns k initial centers (k×d) chosen by greedy k-means++.
// The first center is a uniformly random row. Each further center is drawn
// 2+⌊ln k⌋ times, with probability proportional to the squared distance of a
// row to its nearest center so far, and the candidate that leaves the lowest
// potential (the sum of those squared distances) is kept. scikit-learn's
// kmeans_plusplus documents the same default of 2+log(k) local trials; with
// one trial this is plain k-means++.
func seedPlusPlus(m matrix, k int, rng *rand.Rand) []float32 {
	centers := make([]float32, k*m.d)
	first := rng.IntN(m.n)
	copy(centers[:m.d], m.row(first))

	// closest[i] is the squared distance of row i to its nearest center.
	closest := make([]float64, m.n)
	potential := distancesTo(m, m.row(first), nil, closest)
	if k == 1 {
		return centers
	}

	trials := 2 + int(math.Log(float64(k)))
	candidates := make([][]float64, trials)
	for t := range candidates {
		candidates[t] = make([]float64, m.n)
	}
	for c := 1; c < k; c++ {
		bestTrial, bestRow, bestPotential := -1, -1, math.Inf(1)
		for t := range trials {
			row := sampleByWeight(closest, potential, rng)
			p := distancesTo(m, m.row(row), closest, candidates[t])
			if p < bestPotential {
				bestTrial, bestRow, bestPotential = t, row, p
			}
		}
		copy(closest, candidates[bestTrial])
		potential = bestPotential
		copy(centers[c*m.d:(c+1)*m.d], m.row(bestRow))
	}
	return centers
}

// distancesTo stores in out[i] the squared distance from row i to center,
// or the smaller of that and bound[i] when bound is not nil, and returns the
// sum of out, added up per chunk and then in chunk order.
func distancesTo(m matrix, center []float32, bound, out []float64) float64 {
	partial := make([]float64, m.chunks())
	parallelFor(m.chunks(), m.threads, func(c int) {
		lo, hi := m.chunkRange(c)
		sum := 0.0
		for i := lo; i < hi; i++ {
			dist := squaredDistance(m.row(i), center)
			if bound != nil {
				dist = min(dist, bound[i])
			}
			out[i] = dist
			sum += dist
		}
		partial[c] = sum
	})
	total := 0.0
	for _, p := range partial {
		total += p
	}
	return total
}

// sampleByWeight draws an index with probability weights[i]/total. When total
// is 0 (every row coincides with a center) the draw is uniform.
func sampleByWeight(weights []float64, total float64, rng *rand.Rand) int {
	if total <= 0 {
		return rng.IntN(len(weights))
	}
	target := rng.Float64() * total
	cumulative := 0.0
	last := 0
	for i, w := range weights {
		if w <= 0 {
			continue
		}
		cumulative += w
		last = i
		if cumulative > target {
			return i
		}
	}
	// total was summed in a different order, so rounding can leave target
	// just past the sequential sum. Take the last row of non-zero weight.
	return last
}
