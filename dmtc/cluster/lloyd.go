package cluster

import "math"

// dimensionBlock is the number of columns per task when centers are
// recomputed. Each task sums its columns over all rows in row order, so the
// sums do not depend on the partition.
const dimensionBlock = 64

// lloyd runs Lloyd iterations from the given k×d centers, which it updates
// in place, and returns the resulting clustering.
func lloyd(m matrix, centers []float32, k, maxIter int) Result {
	labels := make([]int, m.n)
	for i := range labels {
		labels[i] = -1
	}
	// dist[i] is the squared distance of row i to the center it was last
	// assigned to.
	dist := make([]float64, m.n)
	sums := make([]float64, k*m.d)
	counts := make([]int, k)

	iterations, converged := 0, false
	for iterations < maxIter {
		changed := assign(m, centers, k, labels, dist)
		iterations++
		if changed == 0 {
			converged = true
			break
		}
		updateCenters(m, centers, k, labels, dist, sums, counts)
	}
	if !converged {
		// The last update moved the centers after the last assignment: make
		// the labels match the returned centers.
		assign(m, centers, k, labels, dist)
	}
	return Result{
		Labels:     labels,
		Centers:    centers,
		Inertia:    inertia(m, centers, labels),
		Iterations: iterations,
		Converged:  converged,
	}
}

// assign moves every row to its nearest center, storing the squared distance
// in dist, and returns the number of rows whose label changed. A row keeps
// its current label when that center is among the nearest, and otherwise
// takes the lowest-numbered nearest center.
func assign(m matrix, centers []float32, k int, labels []int, dist []float64) int {
	changedPerChunk := make([]int, m.chunks())
	parallelFor(m.chunks(), m.threads, func(c int) {
		lo, hi := m.chunkRange(c)
		changed := 0
		for i := lo; i < hi; i++ {
			row := m.row(i)
			current := labels[i]
			best, bestDist, currentDist := -1, math.Inf(1), math.Inf(1)
			for j := range k {
				dj := squaredDistance(row, centers[j*m.d:(j+1)*m.d])
				if dj < bestDist {
					best, bestDist = j, dj
				}
				if j == current {
					currentDist = dj
				}
			}
			if current >= 0 && currentDist == bestDist {
				best = current
			}
			if best != current {
				changed++
			}
			labels[i] = best
			dist[i] = bestDist
		}
		changedPerChunk[c] = changed
	})
	total := 0
	for _, changed := range changedPerChunk {
		total += changed
	}
	return total
}

// updateCenters sets each center to the mean of its rows. Each empty cluster,
// in increasing order, takes the row farthest from its center (by dist, ties
// to the lowest row) among clusters that keep at least one row, and that row
// moves to it. sums and counts are scratch space of k×d and k entries.
func updateCenters(m matrix, centers []float32, k int, labels []int, dist, sums []float64, counts []int) {
	clear(sums)
	clear(counts)
	for _, label := range labels {
		counts[label]++
	}
	blocks := (m.d + dimensionBlock - 1) / dimensionBlock
	parallelFor(blocks, m.threads, func(b int) {
		lo, hi := b*dimensionBlock, min((b+1)*dimensionBlock, m.d)
		for i, label := range labels {
			src := m.x[i*m.d+lo : i*m.d+hi]
			dst := sums[label*m.d+lo : label*m.d+hi]
			for j, v := range src {
				dst[j] += float64(v)
			}
		}
	})

	for empty := range k {
		if counts[empty] != 0 {
			continue
		}
		// k ≤ n, so while a cluster is empty another has two or more rows.
		farthest := -1
		for i, label := range labels {
			if counts[label] > 1 && (farthest < 0 || dist[i] > dist[farthest]) {
				farthest = i
			}
		}
		donor := labels[farthest]
		row := m.row(farthest)
		for j, v := range row {
			sums[donor*m.d+j] -= float64(v)
			sums[empty*m.d+j] = float64(v)
		}
		counts[donor]--
		counts[empty] = 1
		labels[farthest] = empty
		dist[farthest] = 0
	}

	for c := range k {
		count := float64(counts[c])
		for j := range m.d {
			centers[c*m.d+j] = float32(sums[c*m.d+j] / count)
		}
	}
}

// inertia returns the sum of squared distances of the rows to their centers,
// added up per chunk and then in chunk order.
func inertia(m matrix, centers []float32, labels []int) float64 {
	partial := make([]float64, m.chunks())
	parallelFor(m.chunks(), m.threads, func(c int) {
		lo, hi := m.chunkRange(c)
		sum := 0.0
		for i := lo; i < hi; i++ {
			label := labels[i]
			sum += squaredDistance(m.row(i), centers[label*m.d:(label+1)*m.d])
		}
		partial[c] = sum
	})
	total := 0.0
	for _, p := range partial {
		total += p
	}
	return total
}
