package nn

import (
	"sync"
	"sync/atomic"
)

// parallelFor calls body(worker, i) once for every i in [0, n) on up to
// c.threads goroutines, worker being in [0, c.threads). Items are handed out
// dynamically, so body must produce the same result whichever worker runs an
// item: a worker index may only select scratch memory that body overwrites
// before reading.
func (c *CPU) parallelFor(n int, body func(worker, i int)) {
	workers := min(c.threads, n)
	if workers <= 1 {
		for i := 0; i < n; i++ {
			body(0, i)
		}
		return
	}
	var next atomic.Int64
	run := func(worker int) {
		for {
			i := int(next.Add(1) - 1)
			if i >= n {
				return
			}
			body(worker, i)
		}
	}
	var wg sync.WaitGroup
	wg.Add(workers - 1)
	for w := 1; w < workers; w++ {
		go func() {
			defer wg.Done()
			run(w)
		}()
	}
	run(0)
	wg.Wait()
}

// parallelRange splits [0, n) into chunks of grain elements and calls
// body(lo, hi) for each chunk on up to c.threads goroutines. It runs on the
// calling goroutine alone when n <= grain.
func (c *CPU) parallelRange(n, grain int, body func(lo, hi int)) {
	if n <= grain || c.threads == 1 {
		if n > 0 {
			body(0, n)
		}
		return
	}
	chunks := (n + grain - 1) / grain
	c.parallelFor(chunks, func(_, i int) {
		lo := i * grain
		body(lo, min(lo+grain, n))
	})
}

// scratchBuf returns worker w's scratch buffer with at least n elements. Its
// contents are undefined. The caller must hold c.mu.
func (c *CPU) scratchBuf(w, n int) []float32 {
	if cap(c.scratch[w]) < n {
		c.scratch[w] = make([]float32, n)
	}
	return c.scratch[w][:n]
}

// partialBuf returns reduction slot s's buffer with at least n elements. Its
// contents are undefined. The caller must hold c.mu.
func (c *CPU) partialBuf(s, n int) []float32 {
	if cap(c.partials[s]) < n {
		c.partials[s] = make([]float32, n)
	}
	return c.partials[s][:n]
}

// sharedBuf returns the shared scratch buffer with at least n elements. Its
// contents are undefined. The caller must hold c.mu.
func (c *CPU) sharedBuf(n int) []float32 {
	if cap(c.shared) < n {
		c.shared = make([]float32, n)
	}
	return c.shared[:n]
}
