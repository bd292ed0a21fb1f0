// Package cuda is the GPU backend of dmtc: an nn.Backend whose ops run the
// hand-written kernels of the repository's kernels/ directory.
//
// The package builds three ways, chosen by build tag:
//
//   - no tag: New returns an error; nothing here needs CUDA, so the default
//     build of the module runs anywhere on the CPU backend.
//   - cuda: kernels come from cuda/fatbin/*.fatbin (built by CMake with nvcc
//     and embedded with go:embed) and run on an NVIDIA GPU through
//     gorgonia.org/cu.
//   - cudaemu: the same kernel sources, compiled as host C++ against an
//     emulation header into build/emu/libdmtc_emu.a, run on the CPU through
//     cgo. Slow, but it checks the Go side and the kernels without a GPU.
//
// Both GPU builds need `cmake -S . -B build && cmake --build build` first.
//
// A cuda build also runs on a machine without a usable GPU. New then returns
// the driver's reason as an error, and device tests skip with it;
// cuinit_cuda.go explains how the package keeps gorgonia.org/cu's package
// init from exiting the process.
//
// All driver calls happen on one goroutine locked to an OS thread, which
// owns the CUDA context. Each backend op is one job on that goroutine, so an
// op costs one channel round trip however many kernels it launches. Device
// memory comes from a caching allocator with size-class free lists.
package cuda
