// Package backendtest is the shared test suite of nn.Backend. Every backend
// runs it from its own tests:
//
//	func TestBackend(t *testing.T) { backendtest.Run(t, mybackend) }
//
// Each op is compared against float64 reference implementations written in
// this package as plain loops, against the CPU reference backend
// (nn.NewCPU(1)) on the same seeded random inputs, and against hand-computed
// values for the hard cases. Backward ops are also checked against central
// finite differences of the float64 forward functions. The suite goes through
// the nn.Backend interface only, so a GPU backend reuses it unchanged.
//
// Every tensor the suite passes to a backend lives in a larger buffer whose
// tail is a guard band of NaN values, so an element written out of bounds
// fails the test. Forward outputs start as NaN, so an element left unwritten
// fails too.
// Gradient outputs start at a known value to check that backward ops
// accumulate.
//
// Besides the contract in nn.Backend's comments, the suite requires what the
// CPU reference does in these cases:
//   - Activate: ReLU passes NaN through.
//   - MaxPool2D: a NaN in a window makes the output NaN.
//   - TopK: NaN ranks below every number.
//   - CosineSimilarity: results are clamped to [−1, 1].
//   - BatchNorm: a training batch with no values changes no tensor.
//   - CrossEntropy: a label outside [0, K) other than −1 panics.
package backendtest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/dmtc-go/dmtc/nn"
)

// Run runs the whole suite on b: op tests in subtests named after the ops,
// and the finite-difference gradient checks under "Grad".
func Run(t *testing.T, b nn.Backend) {
	RunOps(t, b)
	t.Run("Grad", func(t *testing.T) { RunGradients(t, b) })
}

// RunOps runs the forward and backward op tests on b.
func RunOps(t *testing.T, b nn.Backend) {
	tests := []struct {
		name string
		fn   func(h *harness)
	}{
		{"Memory", testMemory},
		{"Elementwise", testElementwise},
		{"Gemm", testGemm},
		{"Bias", testBias},
		{"Conv2D", testConv},
		{"BatchNorm", testBatchNorm},
		{"MaxPool2D", testMaxPool},
		{"AvgPool2D", testAvgPool},
		{"Activate", testActivate},
		{"Softmax", testSoftmax},
		{"CrossEntropy", testCrossEntropy},
		{"BinaryCrossEntropy", testBCE},
		{"JSDMutualInfo", testJSD},
		{"L2NormalizeRows", testL2Normalize},
		{"CosineSimilarity", testCosine},
		{"ThresholdGraph", testThreshold},
		{"TopK", testTopK},
		{"TileConcat", testTileConcat},
		{"RMSprop", testRMSprop},
		{"Adam", testAdam},
		{"EmptyBatch", testEmptyBatch},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(newHarness(t, b)) })
	}
}

// seed is the suite's RNG seed. Every subtest starts from it.
const seed = 20261204

// guardLen is the number of NaN elements after every tensor. It is odd so
// that a vectorised overrun of any width reaches it.
const guardLen = 17

// gradInit is the value gradient outputs contain before a backward op runs,
// and the op must add to it. A power of two keeps the sum exact for |g| ≥ 1/4.
const gradInit = 0.25

// harness runs one subtest against the backend under test and the CPU
// reference.
type harness struct {
	t      *testing.T
	b, ref nn.Backend
	rng    *rand.Rand
}

func newHarness(t *testing.T, b nn.Backend) *harness {
	return &harness{t: t, b: b, ref: nn.NewCPU(1), rng: rand.New(rand.NewPCG(seed, 1))}
}

// uniform returns n values drawn uniformly from [lo, hi).
func (h *harness) uniform(n int, lo, hi float64) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = float32(lo + (hi-lo)*h.rng.Float64())
	}
	return out
}

// awayFromZero returns n values uniform in ±[lo, hi), for inputs that must
// not sit on a kink such as ReLU's at 0.
func (h *harness) awayFromZero(n int, lo, hi float64) []float32 {
	out := h.uniform(n, lo, hi)
	for i := range out {
		if h.rng.IntN(2) == 0 {
			out[i] = -out[i]
		}
	}
	return out
}

// filled returns n copies of v.
func filled(n int, v float32) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = v
	}
	return out
}

// env allocates guarded tensors on one backend and frees them at the end of
// the subtest.
type env struct {
	t       *testing.T
	b       nn.Backend
	full    map[*nn.Tensor]*nn.Tensor
	tensors []*nn.Tensor
}

func (h *harness) env(b nn.Backend) *env {
	e := &env{t: h.t, b: b, full: map[*nn.Tensor]*nn.Tensor{}}
	h.t.Cleanup(e.free)
	return e
}

// in returns a tensor of the given shape holding vals, followed in its buffer
// by a NaN guard band.
func (e *env) in(vals []float32, shape ...int) *nn.Tensor {
	n := nn.Numel(shape)
	if len(vals) != n {
		panic(fmt.Sprintf("backendtest: %d values for shape %v", len(vals), shape))
	}
	full := e.b.Alloc(n + guardLen)
	host := append(append([]float32(nil), vals...), filled(guardLen, float32(math.NaN()))...)
	e.b.Upload(full, host)
	t := &nn.Tensor{Shape: append([]int(nil), shape...), Buf: full.Buf}
	e.full[t] = full
	e.tensors = append(e.tensors, t)
	return t
}

// fill returns a guarded tensor of the given shape with every element v.
func (e *env) fill(v float32, shape ...int) *nn.Tensor {
	return e.in(filled(nn.Numel(shape), v), shape...)
}

// out returns a guarded forward output, NaN until the op writes it.
func (e *env) out(shape ...int) *nn.Tensor { return e.fill(float32(math.NaN()), shape...) }

// grad returns a guarded gradient output holding gradInit.
func (e *env) grad(shape ...int) *nn.Tensor { return e.fill(gradInit, shape...) }

// get downloads t and fails the test when its guard band was overwritten.
func (e *env) get(t *nn.Tensor) []float32 {
	full := e.full[t]
	if full == nil {
		panic("backendtest: get of a tensor not allocated by env")
	}
	host := make([]float32, full.Len())
	e.b.Download(host, full)
	n := t.Len()
	for i, v := range host[n:] {
		if v == v {
			assert.Failf(e.t, "guard band overwritten",
				"%s: tensor %v: guard element %d after the end holds %g, want NaN", e.b.Name(), t.Shape, i, v)
			break
		}
	}
	return host[:n]
}

// gradOf downloads a gradient output and removes gradInit.
func (e *env) gradOf(t *nn.Tensor) []float64 {
	g := f64(e.get(t))
	for i := range g {
		g[i] -= gradInit
	}
	return g
}

func (e *env) free() {
	for _, t := range e.tensors {
		e.get(t) // checks the guard of inputs too
		e.b.Free(e.full[t])
	}
	e.tensors = nil
}

// tol is an error bound: |got − want| ≤ abs + rel·|want|.
type tol struct{ abs, rel float64 }

// exact is the bound of ops that must reproduce the reference bit for bit.
var exact = tol{}

// checkClose compares got with want element by element and reports the
// worst element. NaN must match NaN and ±Inf must match exactly.
func (h *harness) checkClose(caseName string, got []float32, want []float64, tl tol) bool {
	h.t.Helper()
	if !assert.Equalf(h.t, len(want), len(got), "%s: %s: element count", h.b.Name(), caseName) {
		return false
	}
	worst, worstRatio, bad := -1, 0.0, 0
	for i, w := range want {
		g := float64(got[i])
		var ratio float64
		switch {
		case math.IsNaN(w) || math.IsNaN(g):
			if math.IsNaN(w) != math.IsNaN(g) {
				ratio = math.Inf(1)
			}
		case math.IsInf(w, 0) || math.IsInf(g, 0):
			if g != w {
				ratio = math.Inf(1)
			}
		default:
			bound := tl.abs + tl.rel*math.Abs(w)
			diff := math.Abs(g - w)
			if diff > bound {
				ratio = math.Inf(1)
				if bound > 0 {
					ratio = diff / bound
				}
			}
		}
		if ratio > 0 {
			bad++
			if worst < 0 || ratio > worstRatio {
				worst, worstRatio = i, ratio
			}
		}
	}
	if bad == 0 {
		return true
	}
	return assert.Failf(h.t, "values differ",
		"%s: %s: %d of %d elements outside |got−want| ≤ %g + %g·|want|; worst index %d: got %.9g, want %.9g",
		h.b.Name(), caseName, bad, len(want), tl.abs, tl.rel, worst, got[worst], want[worst])
}

// checkScalar compares one value.
func (h *harness) checkScalar(caseName string, got float32, want float64, tl tol) bool {
	h.t.Helper()
	return h.checkClose(caseName, []float32{got}, []float64{want}, tl)
}

// named is one output of an op run: a label and its values.
type named struct {
	name string
	vals []float32
}

// runBoth runs fn on the backend under test and on the CPU reference, each
// with its own tensors, and returns both sets of outputs.
func (h *harness) runBoth(fn func(e *env) []named) (got, ref []named) {
	return fn(h.env(h.b)), fn(h.env(h.ref))
}

// checkOutputs compares each output of the backend under test with the
// float64 reference of the same name in want (when present) and with the
// CPU reference's output.
func (h *harness) checkOutputs(caseName string, got, ref []named, want map[string][]float64, tl tol) {
	h.t.Helper()
	for i, g := range got {
		if w, ok := want[g.name]; ok {
			h.checkClose(caseName+" "+g.name+" vs float64 reference", g.vals, w, tl)
		}
		h.checkClose(caseName+" "+g.name+" vs CPU reference", g.vals, f64(ref[i].vals), tl)
	}
}

// finiteDiff returns the central difference of loss with respect to every
// element of each input. loss reads the inputs, which finiteDiff perturbs
// in place and restores.
func finiteDiff(inputs [][]float64, loss func() float64) [][]float64 {
	out := make([][]float64, len(inputs))
	for i, in := range inputs {
		out[i] = make([]float64, len(in))
		for j, v := range in {
			step := 1e-6 * math.Max(1, math.Abs(v))
			in[j] = v + step
			up := loss()
			in[j] = v - step
			down := loss()
			in[j] = v
			out[i][j] = (up - down) / (2 * step)
		}
	}
	return out
}

// dotF64 returns Σ a·b, the random linear functional the gradient checks
// differentiate.
func dotF64(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// fmtShape formats a shape like nn.Tensor.String.
func fmtShape(shape ...int) string {
	return (&nn.Tensor{Shape: shape}).String()
}
