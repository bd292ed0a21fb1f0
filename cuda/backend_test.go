//go:build cuda || cudaemu

package cuda

import (
	"testing"

	"github.com/dmtc-go/dmtc/nn/backendtest"
)

// TestSharedSuite runs the nn.Backend suite, which compares every op with the
// CPU reference backend and float64 loops and checks gradients by finite
// differences.
func TestSharedSuite(t *testing.T) {
	backendtest.Run(t, newTestGPU(t))
}
