//go:build !linux

package nn_test

import "time"

// processCPUTime returns 0: the benchmarks report CPU-time metrics on Linux
// only.
func processCPUTime() time.Duration { return 0 }
