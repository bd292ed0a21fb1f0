//go:build !cuda && !cudaemu

package cuda

import (
	"errors"

	"github.com/dmtc-go/dmtc/nn"
)

// ErrNotBuilt is returned by New in builds without the cuda or cudaemu tag.
var ErrNotBuilt = errors.New("cuda: dmtc was built without GPU support; " +
	"rebuild with -tags cuda (see kernels/README.md)")

// GPU is the GPU backend. In this build it cannot be created: New always
// fails. The embedded interface lets callers write the same code for every
// build.
type GPU struct {
	nn.Backend
}

// New returns ErrNotBuilt.
func New(ordinal int) (*GPU, error) {
	return nil, ErrNotBuilt
}

// Close does nothing in this build.
func (g *GPU) Close() error { return nil }
