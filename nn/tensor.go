// Package nn is a small deep-learning engine: float32 NCHW tensors whose
// storage belongs to a Backend, a CPU backend that is also the numerical
// reference for other backends, a tape autograd at layer granularity, layers,
// losses, optimisers and initialisers.
//
// Code above the Backend interface never touches tensor storage directly. It
// reads and writes values only through Backend.Upload and Backend.Download,
// so that a GPU backend drops in without changes to layers or training code.
package nn

import (
	"fmt"
	"strings"
)

// Buffer is a backend's storage for one tensor: a host slice on the CPU, a
// device allocation on a GPU. Only the backend that allocated a buffer may
// read it.
type Buffer interface {
	// Len is the number of float32 elements.
	Len() int
}

// Tensor is a dense row-major float32 tensor. Image tensors are NCHW:
// (N, C, H, W). Matrices are (rows, cols). Integer data such as class labels
// and indices are stored as exactly representable float32 values (|v| < 2²⁴).
type Tensor struct {
	Shape []int
	Buf   Buffer
}

// Numel returns the number of elements the shape describes.
func Numel(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// Len returns the number of elements of t.
func (t *Tensor) Len() int { return Numel(t.Shape) }

// Dim returns size of dimension i; negative i counts from the end.
func (t *Tensor) Dim(i int) int {
	if i < 0 {
		i += len(t.Shape)
	}
	return t.Shape[i]
}

// Rows returns the size of the first dimension and Cols the product of the rest,
// the matrix view that GEMM-based ops use.
func (t *Tensor) Rows() int { return t.Shape[0] }

// Cols returns the product of every dimension after the first.
func (t *Tensor) Cols() int { return Numel(t.Shape[1:]) }

// Reshape returns a tensor that shares t's buffer under a new shape with the
// same number of elements. It panics on a size mismatch.
func (t *Tensor) Reshape(shape ...int) *Tensor {
	if Numel(shape) != t.Len() {
		panic(fmt.Sprintf("nn: reshape %v to %v changes the element count", t.Shape, shape))
	}
	return &Tensor{Shape: append([]int(nil), shape...), Buf: t.Buf}
}

func (t *Tensor) String() string {
	parts := make([]string, len(t.Shape))
	for i, d := range t.Shape {
		parts[i] = fmt.Sprint(d)
	}
	return "(" + strings.Join(parts, ",") + ")"
}

// SameShape reports whether a and b have identical shapes.
func SameShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
