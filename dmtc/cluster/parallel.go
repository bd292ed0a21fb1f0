package cluster

import (
	"sync"
	"sync/atomic"
)

// chunkRows is the number of rows per task of the parallel loops. The
// partition into chunks is fixed, whatever the thread count, and partial
// sums are combined in chunk order, so results do not depend on Threads.
const chunkRows = 256

// matrix is an n×d row-major float32 matrix and the thread count used to
// process it.
type matrix struct {
	x       []float32
	n, d    int
	threads int
}

func (m matrix) row(i int) []float32 {
	return m.x[i*m.d : (i+1)*m.d]
}

// chunks returns the number of chunkRows-row tasks covering the rows.
func (m matrix) chunks() int {
	return (m.n + chunkRows - 1) / chunkRows
}

// chunkRange returns the rows [lo, hi) of chunk c.
func (m matrix) chunkRange(c int) (lo, hi int) {
	return c * chunkRows, min((c+1)*chunkRows, m.n)
}

// parallelFor calls fn(task) for every task in [0, tasks) on up to threads
// goroutines. Tasks must write to disjoint memory.
func parallelFor(tasks, threads int, fn func(task int)) {
	if threads <= 1 || tasks <= 1 {
		for task := range tasks {
			fn(task)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(threads, tasks) {
		wg.Go(func() {
			for {
				task := int(next.Add(1) - 1)
				if task >= tasks {
					return
				}
				fn(task)
			}
		})
	}
	wg.Wait()
}

// squaredDistance returns the squared Euclidean distance between a and b,
// which must have the same length, accumulated in float64.
func squaredDistance(a, b []float32) float64 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(a); i += 4 {
		d0 := float64(a[i]) - float64(b[i])
		d1 := float64(a[i+1]) - float64(b[i+1])
		d2 := float64(a[i+2]) - float64(b[i+2])
		d3 := float64(a[i+3]) - float64(b[i+3])
		s0 += d0 * d0
		s1 += d1 * d1
		s2 += d2 * d2
		s3 += d3 * d3
	}
	for ; i < len(a); i++ {
		di := float64(a[i]) - float64(b[i])
		s0 += di * di
	}
	return (s0 + s1) + (s2 + s3)
}
