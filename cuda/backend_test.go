//go:build cuda || cudaemu

package cuda

import (
	"reflect"
	"strings"
	"testing"

	"github.com/dmtc-go/dmtc/nn"
	"github.com/dmtc-go/dmtc/nn/backendtest"
)

// missingBackendMethods lists the nn.Backend methods that *GPU lacks.
func missingBackendMethods() []string {
	iface := reflect.TypeOf((*nn.Backend)(nil)).Elem()
	gpu := reflect.TypeOf((*GPU)(nil))
	var missing []string
	for i := 0; i < iface.NumMethod(); i++ {
		name := iface.Method(i).Name
		if _, ok := gpu.MethodByName(name); !ok {
			missing = append(missing, name)
		}
	}
	return missing
}

// TestSharedSuite runs the nn.Backend suite, which compares every op with the
// CPU reference backend and float64 loops and checks gradients by finite
// differences.
func TestSharedSuite(t *testing.T) {
	g := newTestGPU(t)
	// NOTE: a runtime assertion, so that this file compiles while op families
	// are still being added to *GPU.
	b, ok := any(g).(nn.Backend)
	if !ok {
		t.Skipf("*GPU does not implement nn.Backend yet; missing %s",
			strings.Join(missingBackendMethods(), ", "))
	}
	backendtest.Run(t, b)
}
