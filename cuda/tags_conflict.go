//go:build cuda && cudaemu

package cuda

// The cuda and cudaemu tags select different drivers; build with one of them.
var _ = buildTagsCudaAndCudaemuAreMutuallyExclusive
