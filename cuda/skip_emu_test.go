//go:build cudaemu && !cuda

package cuda

// The emulator always exists, so failing to open it is a test failure.
const skipWithoutDevice = false

// backendName names the backend in benchmark names.
const backendName = "cuda-emu"
