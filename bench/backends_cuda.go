//go:build cuda || cudaemu

package bench

import "github.com/dmtc-go/dmtc/cuda"

func init() {
	extraBackends = append(extraBackends, func() (namedBackend, error) {
		gpu, err := cuda.New(0)
		if err != nil {
			return namedBackend{}, err
		}
		return namedBackend{name: gpu.Name(), b: gpu}, nil
	})
}
