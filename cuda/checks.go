//go:build cuda || cudaemu

package cuda

import (
	"fmt"

	"github.com/dmtc-go/dmtc/nn"
)

// Shape checks of the op launchers. They run on the caller's goroutine, so a
// mismatch panics there, and their messages start with the backend name and
// the op, like the CPU backend's.

// checkShape panics unless t is a live GPU tensor of exactly the given shape.
func (g *GPU) checkShape(op, name string, t *nn.Tensor, shape ...int) {
	lenOf(t)
	if !nn.SameShape(t.Shape, shape) {
		panic(fmt.Sprintf("%s: %s: %s has shape %v, want %v", g.name, op, name, t, fmtShape(shape)))
	}
}

// checkRank panics unless t is a live GPU tensor with rank dimensions.
func (g *GPU) checkRank(op, name string, t *nn.Tensor, rank int) {
	lenOf(t)
	if len(t.Shape) != rank {
		panic(fmt.Sprintf("%s: %s: %s has shape %v, want %d dimensions", g.name, op, name, t, rank))
	}
}

// checkNotNil panics when a tensor the op needs is nil.
func (g *GPU) checkNotNil(op, name string, t *nn.Tensor) {
	if t == nil {
		panic(fmt.Sprintf("%s: %s: %s is nil", g.name, op, name))
	}
}

// matrixDims checks that t is a live (rows, cols) matrix and returns its
// sizes.
func (g *GPU) matrixDims(op, name string, t *nn.Tensor) (rows, cols int) {
	g.checkRank(op, name, t, 2)
	return t.Shape[0], t.Shape[1]
}

func fmtShape(shape []int) string {
	return (&nn.Tensor{Shape: shape}).String()
}

// blocksFor returns ⌈n/block⌉.
func blocksFor(n, block int) int { return (n + block - 1) / block }
