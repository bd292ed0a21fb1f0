// Package cluster implements k-means with k-means++ seeding, the pixel-space
// baseline that DMTC results are compared against.
//
// Results depend only on the data, k and Options.Seed, never on
// Options.Threads: every parallel loop works on a fixed partition of the
// data and combines partial results in a fixed order.
package cluster

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
)

// Default option values, used when the corresponding Options field is 0.
const (
	DefaultRestarts = 5
	DefaultMaxIter  = 300
)

// Options configures KMeans. The zero value selects the defaults.
type Options struct {
	// Seed selects the random stream of the k-means++ seeding. Restart r
	// draws from a PCG generator seeded with (Seed, r).
	Seed uint64
	// Restarts is the number of independent runs, each with its own
	// seeding. The run with the lowest inertia is returned. 0 means
	// DefaultRestarts.
	Restarts int
	// MaxIter is the maximum number of Lloyd iterations per run. 0 means
	// DefaultMaxIter.
	MaxIter int
	// Threads is the number of goroutines for the distance and center
	// computations. 0 means runtime.GOMAXPROCS(0). It does not change the
	// result.
	Threads int
}

// Result is the outcome of the best k-means run.
type Result struct {
	// Labels[i] is the cluster of row i, in [0, k). Every cluster is
	// non-empty when the run converged. A run stopped by MaxIter ends with
	// a plain nearest-center assignment, which can leave a cluster empty.
	Labels []int
	// Centers holds the k cluster centers as a k×d row-major matrix.
	Centers []float32
	// Inertia is the sum over rows of the squared Euclidean distance to the
	// center of their cluster, computed in float64.
	Inertia float64
	// Iterations is the number of Lloyd iterations of the best run.
	Iterations int
	// Converged is true when the best run stopped because no assignment
	// changed, and false when it reached MaxIter.
	Converged bool
}

// KMeans clusters the n rows of the n×d row-major matrix x into k clusters
// by Lloyd's algorithm from greedy k-means++ seeds, and returns the run with
// the lowest inertia out of opt.Restarts.
//
// Each run iterates until no assignment changes or opt.MaxIter iterations
// have run. A cluster that becomes empty is reseeded with the row farthest
// from the center of its cluster, among clusters with two or more rows. A
// row at equal distance from several centers keeps its current cluster if
// that is one of them, and otherwise goes to the lowest-numbered one.
//
// KMeans returns an error when k < 1, k > n, d < 1, len(x) != n·d, x
// contains NaN or ±Inf, or an option is negative.
func KMeans(x []float32, n, d, k int, opt Options) (Result, error) {
	if err := validate(x, n, d, k, opt); err != nil {
		return Result{}, err
	}
	restarts := opt.Restarts
	if restarts == 0 {
		restarts = DefaultRestarts
	}
	maxIter := opt.MaxIter
	if maxIter == 0 {
		maxIter = DefaultMaxIter
	}
	threads := opt.Threads
	if threads == 0 {
		threads = runtime.GOMAXPROCS(0)
	}

	data := matrix{x: x, n: n, d: d, threads: threads}
	var best Result
	for r := range restarts {
		rng := rand.New(rand.NewPCG(opt.Seed, uint64(r)))
		centers := seedPlusPlus(data, k, rng)
		run := lloyd(data, centers, k, maxIter)
		// Ties keep the earlier restart, so the choice does not depend on
		// rounding in a later, equally good run.
		if r == 0 || run.Inertia < best.Inertia {
			best = run
		}
	}
	return best, nil
}

func validate(x []float32, n, d, k int, opt Options) error {
	if n < 1 {
		return fmt.Errorf("cluster: KMeans: n = %d rows; pass at least one row", n)
	}
	if d < 1 {
		return fmt.Errorf("cluster: KMeans: d = %d columns; pass at least one column", d)
	}
	if len(x)%d != 0 || len(x)/d != n {
		return fmt.Errorf("cluster: KMeans: len(x) = %d but n·d = %d·%d; "+
			"pass x as an n×d row-major matrix", len(x), n, d)
	}
	if k < 1 || k > n {
		return fmt.Errorf("cluster: KMeans: k = %d clusters is invalid for n = %d rows; "+
			"k must be in [1, n]", k, n)
	}
	if opt.Restarts < 0 || opt.MaxIter < 0 || opt.Threads < 0 {
		return fmt.Errorf("cluster: KMeans: negative option (Restarts %d, MaxIter %d, "+
			"Threads %d); use 0 for the default", opt.Restarts, opt.MaxIter, opt.Threads)
	}
	for i, v := range x {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("cluster: KMeans: x[%d] (row %d, column %d) is %v; "+
				"remove or impute non-finite values", i, i/d, i%d, v)
		}
	}
	return nil
}
