//go:build cuda && !cudaemu

package cuda

// Machines without a GPU skip the device tests with the reason.
const skipWithoutDevice = true

// backendName names the backend in benchmark names.
const backendName = "cuda"
