//go:build cuda && !cudaemu

package cuda

// Machines without a GPU skip the device tests with the reason.
const skipWithoutDevice = true
