// Package bench holds throughput benchmarks of the engine's kernels and of a
// whole DMTC training step, run with
//
//	go test ./bench -bench . -benchtime 20x
//
// Each benchmark runs once per available backend: the CPU always, and the
// GPU in binaries built with -tags cuda on a machine with an NVIDIA GPU.
// Results report GFLOP/s or images/s through b.ReportMetric; compare runs
// with benchstat.
package bench
