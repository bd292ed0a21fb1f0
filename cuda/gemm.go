//go:build cuda || cudaemu

package cuda

import (
	"fmt"

	"github.com/dmtc-go/dmtc/nn"
)

// Launch geometry of kernels/gemm.cu (checked by TestKernelConstantsMatch):
// each block of gemmThreads × gemmThreads threads computes a
// gemmTile × gemmTile tile of C.
const (
	gemmTile    = 64
	gemmDepth   = 16
	gemmThreads = 16
)

// Gemm computes C = alpha·op(A)·op(B) + beta·C for row-major matrices; see
// nn.Backend. With beta = 0, C is not read.
func (g *GPU) Gemm(transA, transB bool, alpha float32, a, b *nn.Tensor, beta float32, c *nn.Tensor) {
	lenOf(a)
	lenOf(b)
	lenOf(c)
	m, k := a.Rows(), a.Cols()
	if transA {
		m, k = k, m
	}
	kb, n := b.Rows(), b.Cols()
	if transB {
		kb, n = n, kb
	}
	if kb != k || c.Rows() != m || c.Cols() != n {
		panic(fmt.Sprintf("%s: Gemm: op(A) %d×%d (A %v, transA %t) · op(B) %d×%d (B %v, transB %t) "+
			"does not fit C %v", g.name, m, k, a, transA, kb, n, b, transB, c))
	}
	if bufferOf(c) == bufferOf(a) || bufferOf(c) == bufferOf(b) {
		panic(fmt.Sprintf("%s: Gemm: C %v shares its buffer with an input", g.name, c))
	}
	if m == 0 || n == 0 {
		return
	}
	grid := dim3{(n + gemmTile - 1) / gemmTile, (m + gemmTile - 1) / gemmTile, 1}
	block := dim3{gemmThreads, gemmThreads, 1}
	g.run("Gemm", func(x *exec) error {
		return x.launch("dmtc_gemm_sgemm", grid, block, 0,
			argBool(transA), argBool(transB), argInt(m), argInt(n), argInt(k),
			argFloat(alpha), argPtr(a), argInt(a.Cols()), argPtr(b), argInt(b.Cols()),
			argFloat(beta), argPtr(c), argInt(n))
	})
}

// argBool passes v as a long long 0 or 1.
func argBool(v bool) kernelArg {
	if v {
		return 1
	}
	return 0
}
