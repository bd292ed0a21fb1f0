//go:build cuda && !cudaemu

package cuda

import "embed"

// fatbins holds one fatbin per kernels/<family>.cu, built by CMake (see
// kernels/README.md). "pattern fatbin/*.fatbin: no matching files found"
// means they have not been built: run cmake -S . -B build && cmake --build
// build on a machine with nvcc.
//
//go:embed fatbin/*.fatbin
var fatbins embed.FS
