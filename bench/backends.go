package bench

import (
	"runtime"

	"github.com/dmtc-go/dmtc/nn"
)

// namedBackend is a backend under benchmark with its label.
type namedBackend struct {
	name string
	b    nn.Backend
}

// extraBackends is filled by build-tagged files with the GPU backend.
var extraBackends []func() (namedBackend, error)

// backends returns the CPU backend with every core, then any GPU backend.
func backends() ([]namedBackend, []error) {
	list := []namedBackend{{name: "cpu", b: nn.NewCPU(runtime.GOMAXPROCS(0))}}
	var errs []error
	for _, f := range extraBackends {
		nb, err := f()
		if err != nil {
			errs = append(errs, err)
			continue
		}
		list = append(list, nb)
	}
	return list, errs
}
