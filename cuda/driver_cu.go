//go:build cuda && !cudaemu

package cuda

import (
	"fmt"
	"path"
	"strings"
	"unsafe"

	"gorgonia.org/cu"
)

// cuDriver drives a GPU through gorgonia.org/cu's wrappers of the CUDA
// driver API, on the legacy default stream of one context.
type cuDriver struct {
	ctx     cu.CUContext
	modules map[string]cu.Module // family → module of kernels/<family>.cu
}

// openDriver creates a context on GPU ordinal and loads every embedded
// fatbin. It runs on the device goroutine, whose thread keeps the context.
func openDriver(ordinal int) (driver, error) {
	if err := initError(); err != nil {
		return nil, err
	}
	count, err := cu.NumDevices()
	if err != nil {
		return nil, fmt.Errorf("cuda: counting devices: %w", err)
	}
	if ordinal < 0 || ordinal >= count {
		return nil, fmt.Errorf("cuda: device %d does not exist; this machine has %d CUDA devices",
			ordinal, count)
	}
	dev, err := cu.GetDevice(ordinal)
	if err != nil {
		return nil, fmt.Errorf("cuda: device %d: %w", ordinal, err)
	}
	ctx, err := dev.MakeContext(cu.SchedAuto)
	if err != nil {
		return nil, fmt.Errorf("cuda: creating a context on device %d: %w", ordinal, err)
	}
	d := &cuDriver{ctx: ctx, modules: map[string]cu.Module{}}
	if err := d.loadModules(dev); err != nil {
		_ = d.close()
		return nil, err
	}
	return d, nil
}

func (d *cuDriver) loadModules(dev cu.Device) error {
	entries, err := fatbins.ReadDir("fatbin")
	if err != nil {
		return fmt.Errorf("cuda: reading embedded fatbins: %w", err)
	}
	for _, e := range entries {
		image, err := fatbins.ReadFile(path.Join("fatbin", e.Name()))
		if err != nil {
			return fmt.Errorf("cuda: reading embedded %s: %w", e.Name(), err)
		}
		mod, err := cu.LoadFatBinary(string(image))
		if err != nil {
			major, minor, _ := dev.ComputeCapability()
			return fmt.Errorf("cuda: loading %s on a compute capability %d.%d GPU: %w "+
				"(the fatbins hold code for sm_80, sm_90 and compute_90 PTX)",
				e.Name(), major, minor, err)
		}
		d.modules[strings.TrimSuffix(e.Name(), ".fatbin")] = mod
	}
	return nil
}

func (d *cuDriver) name() string { return "cuda" }

func (d *cuDriver) alloc(bytes int) (devicePtr, error) {
	p, err := cu.MemAlloc(int64(bytes))
	if err != nil {
		return 0, fmt.Errorf("cuMemAlloc of %d bytes: %w", bytes, err)
	}
	return devicePtr(p), nil
}

func (d *cuDriver) free(p devicePtr) error { return cu.MemFree(cu.DevicePtr(p)) }

func (d *cuDriver) copyHtoD(dst devicePtr, src unsafe.Pointer, bytes int) error {
	return cu.MemcpyHtoD(cu.DevicePtr(dst), src, int64(bytes))
}

func (d *cuDriver) copyDtoH(dst unsafe.Pointer, src devicePtr, bytes int) error {
	return cu.MemcpyDtoH(dst, cu.DevicePtr(src), int64(bytes))
}

func (d *cuDriver) copyDtoD(dst, src devicePtr, bytes int) error {
	return cu.MemcpyDtoD(cu.DevicePtr(dst), cu.DevicePtr(src), int64(bytes))
}

func (d *cuDriver) memsetD32(dst devicePtr, value uint32, n int) error {
	return cu.MemsetD32(cu.DevicePtr(dst), value, int64(n))
}

// function finds name in the module of its family (dmtc_<family>_...) or,
// failing that, in any module.
func (d *cuDriver) function(name string) (kernel, error) {
	family, _, _ := strings.Cut(strings.TrimPrefix(name, "dmtc_"), "_")
	if mod, ok := d.modules[family]; ok {
		if fn, err := mod.Function(name); err == nil {
			return cuKernel{fn}, nil
		}
	}
	for _, mod := range d.modules {
		if fn, err := mod.Function(name); err == nil {
			return cuKernel{fn}, nil
		}
	}
	return nil, fmt.Errorf("cuda: kernel %s not found in the embedded fatbins", name)
}

type cuKernel struct{ fn cu.Function }

func (k cuKernel) launch(grid, block dim3, sharedBytes int, args []kernelArg) error {
	// cu copies 8 bytes from each pointer before the launch call returns.
	params := make([]unsafe.Pointer, len(args))
	for i := range args {
		params[i] = unsafe.Pointer(&args[i])
	}
	return k.fn.Launch(grid.X, grid.Y, grid.Z, block.X, block.Y, block.Z, sharedBytes,
		cu.NoStream, params)
}

func (d *cuDriver) synchronize() error { return cu.Synchronize() }

func (d *cuDriver) close() error {
	for family, mod := range d.modules {
		_ = mod.Unload()
		delete(d.modules, family)
	}
	return d.ctx.Destroy()
}
