//go:build cudaemu && !cuda

package cuda

import "fmt"

// openDriver opens the emulator; there is one emulated device, ordinal 0.
func openDriver(ordinal int) (driver, error) {
	if ordinal != 0 {
		return nil, fmt.Errorf("cuda-emu: device %d does not exist; the emulator has device 0 only",
			ordinal)
	}
	return openEmuDriver()
}
