//go:build cuda || cudaemu

package cuda

import (
	"fmt"

	"github.com/dmtc-go/dmtc/nn"
)

// Launch geometry of kernels/memory.cu; memoryBlock matches kMemoryBlock
// there (checked by TestKernelConstantsMatch).
const (
	memoryBlock = 256
	// memoryMaxBlocks caps the grid of the grid-stride loops: 4096 blocks of
	// 256 threads keep every SM of an H100 busy, and more only add
	// scheduling overhead.
	memoryMaxBlocks = 4096
)

// Fill sets every element of t to v.
func (g *GPU) Fill(t *nn.Tensor, v float32) {
	n := lenOf(t)
	g.run("Fill", func(x *exec) error {
		return x.launch1D("dmtc_memory_fill", n, memoryBlock, memoryMaxBlocks,
			argPtr(t), argInt(n), argFloat(v))
	})
}

// Copy copies src into dst, which must have the same element count.
func (g *GPU) Copy(dst, src *nn.Tensor) {
	n := g.sameLen("Copy", dst, src)
	if bufferOf(dst) == bufferOf(src) {
		return
	}
	g.run("Copy", func(x *exec) error {
		return x.launch1D("dmtc_memory_copy", n, memoryBlock, memoryMaxBlocks,
			argPtr(dst), argPtr(src), argInt(n))
	})
}

// Axpy computes y += alpha·x element-wise.
func (g *GPU) Axpy(alpha float32, x, y *nn.Tensor) {
	n := g.sameLen("Axpy", x, y)
	g.run("Axpy", func(e *exec) error {
		return e.launch1D("dmtc_memory_axpy", n, memoryBlock, memoryMaxBlocks,
			argFloat(alpha), argPtr(x), argPtr(y), argInt(n))
	})
}

// Scale computes x *= alpha element-wise.
func (g *GPU) Scale(alpha float32, x *nn.Tensor) {
	n := lenOf(x)
	g.run("Scale", func(e *exec) error {
		return e.launch1D("dmtc_memory_scale", n, memoryBlock, memoryMaxBlocks,
			argFloat(alpha), argPtr(x), argInt(n))
	})
}

// sameLen returns the common element count of a and b, and panics when they
// differ.
func (g *GPU) sameLen(op string, a, b *nn.Tensor) int {
	na, nb := lenOf(a), lenOf(b)
	if na != nb {
		panic(fmt.Sprintf("%s: %s: tensors %v and %v differ in element count (%d and %d)",
			g.name, op, a, b, na, nb))
	}
	return na
}

// lenOf returns t's element count after checking that t is a live GPU tensor,
// so that a bad tensor panics on the caller's goroutine.
func lenOf(t *nn.Tensor) int {
	bufferOf(t)
	return t.Len()
}
