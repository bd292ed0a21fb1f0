//go:build cuda || cudaemu

package cuda

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

// A failed launch is recorded: Sync returns it, later ops do nothing, and
// Download fills its destination with NaN.
func TestLaunchErrorIsSticky(t *testing.T) {
	g := newTestGPU(t)
	x := g.Alloc(3)
	g.run("Test", func(e *exec) error {
		return e.launch("dmtc_no_such_kernel", dim3{1, 1, 1}, dim3{1, 1, 1}, 0)
	})
	err := g.Sync()
	require.Error(t, err, "Sync after a failed launch")
	require.Contains(t, err.Error(), "dmtc_no_such_kernel", "error names the kernel")
	g.Fill(x, 1)
	host := []float32{5, 5, 5}
	g.Download(host, x)
	for i, v := range host {
		require.Truef(t, math.IsNaN(float64(v)), "Download after error: index %d got %g want NaN", i, v)
	}
	require.Equal(t, err, g.Sync(), "the first error stays")
}
