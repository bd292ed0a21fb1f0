//go:build cuda || cudaemu

package cuda

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dmtc-go/dmtc/nn"
)

// opsSeed seeds every test in this file.
const opsSeed = 20261204

// bitsOf returns the IEEE bit patterns of v, so that NaN payloads and the
// sign of zero count as differences.
func bitsOf(v []float32) []uint32 {
	out := make([]uint32, len(v))
	for i, x := range v {
		out[i] = math.Float32bits(x)
	}
	return out
}

// firstBitDiff returns the first index where a and b differ, or −1.
func firstBitDiff(a, b []float32) int {
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return i
		}
	}
	return -1
}

// TestReductionsRepeatBitForBit runs every op that reduces across threads
// twice on the same inputs and requires identical output bits. Sizes put
// several blocks or grid-stride passes into each reduction: 300 > 256
// values per bias channel, 1000 > 256 columns per softmax row, 70000 loss
// elements (274 partial sums), N·H·W = 578 values per batch-norm channel.
func TestReductionsRepeatBitForBit(t *testing.T) {
	g := newTestGPU(t)
	rng := rand.New(rand.NewPCG(opsSeed, 1))
	cases := []struct {
		name string
		run  func() []float32 // returns every output of one run
	}{}
	add := func(name string, run func() []float32) {
		cases = append(cases, struct {
			name string
			run  func() []float32
		}{name, run})
	}

	biasDy := uniform(rng, 5*7*300, -1, 1)
	add("BiasBackward (5,7,300)", func() []float32 {
		db := guarded(g, make([]float32, 7), 7)
		g.BiasBackward(guarded(g, biasDy, 5, 7, 300), db)
		return download(t, g, db, "BiasBackward")
	})

	bnX, bnDy := uniform(rng, 2*3*17*17, -3, 5), uniform(rng, 2*3*17*17, -1, 1)
	add("BatchNorm train and backward (2,3,17,17)", func() []float32 {
		x := guarded(g, bnX, 2, 3, 17, 17)
		ones, zeros := []float32{1, 1, 1}, []float32{0, 0, 0}
		gamma, beta := guarded(g, ones, 3), guarded(g, zeros, 3)
		rm, rv := guarded(g, zeros, 3), guarded(g, ones, 3)
		sm, si := guarded(g, zeros, 3), guarded(g, zeros, 3)
		y := guarded(g, make([]float32, len(bnX)), 2, 3, 17, 17)
		g.BatchNorm(x, gamma, beta, rm, rv, sm, si, y,
			nn.BatchNormParams{Training: true, Momentum: 0.1, Eps: 1e-5})
		dx := guarded(g, make([]float32, len(bnX)), 2, 3, 17, 17)
		dgamma, dbeta := guarded(g, zeros, 3), guarded(g, zeros, 3)
		g.BatchNormBackward(x, guarded(g, bnDy, 2, 3, 17, 17), gamma, sm, si, dx, dgamma, dbeta)
		var out []float32
		for _, t2 := range []*nn.Tensor{y, rm, rv, sm, si, dx, dgamma, dbeta} {
			out = append(out, download(t, g, t2, "BatchNorm")...)
		}
		return out
	})

	smX := uniform(rng, 3*1000, -20, 20)
	add("Softmax and LogSoftmax (3,1000)", func() []float32 {
		x := guarded(g, smX, 3, 1000)
		y, ly := guarded(g, nil, 3, 1000), guarded(g, nil, 3, 1000)
		g.Softmax(x, y)
		g.LogSoftmax(x, ly)
		return append(download(t, g, y, "Softmax"), download(t, g, ly, "LogSoftmax")...)
	})

	ceLogits := uniform(rng, 300*10, -5, 5)
	ceLabels := make([]float32, 300)
	for i := range ceLabels {
		ceLabels[i] = float32(rng.IntN(11) - 1) // −1 marks an unlabelled row
	}
	add("CrossEntropy (300,10)", func() []float32 {
		d := guarded(g, make([]float32, len(ceLogits)), 300, 10)
		loss := g.CrossEntropy(guarded(g, ceLogits, 300, 10), guarded(g, ceLabels, 300), d, 1.5)
		return append(download(t, g, d, "CrossEntropy"), loss)
	})

	lossP, lossT := uniform(rng, 70000, 0.001, 0.999), uniform(rng, 70000, 0, 1)
	add("BinaryCrossEntropy and JSDMutualInfo (70000)", func() []float32 {
		dp := guarded(g, make([]float32, 70000), 70000)
		bce := g.BinaryCrossEntropy(guarded(g, lossP, 70000), guarded(g, lossT, 70000), dp, 2)
		dpos := guarded(g, make([]float32, 70000), 70000)
		jsd := g.JSDMutualInfo(guarded(g, lossT, 70000), guarded(g, lossP, 70000), dpos, nil, 1)
		out := append(download(t, g, dp, "BinaryCrossEntropy"), bce, jsd)
		return append(out, download(t, g, dpos, "JSDMutualInfo")...)
	})

	convX, convDy := uniform(rng, 3*4*13*13, -1, 1), uniform(rng, 3*5*13*13, -1, 1)
	add("Conv2DBackwardFilter (3,4,13,13)", func() []float32 {
		p := nn.ConvParams{StrideH: 1, StrideW: 1, PadH: 1, PadW: 1}
		dw, db := guarded(g, make([]float32, 5*4*3*3), 5, 4, 3, 3), guarded(g, nil, 5)
		g.Conv2DBackwardFilter(guarded(g, convX, 3, 4, 13, 13), guarded(g, convDy, 3, 5, 13, 13),
			dw, db, p)
		return append(download(t, g, dw, "Conv2DBackwardFilter dw"),
			download(t, g, db, "Conv2DBackwardFilter db")...)
	})

	for _, tc := range cases {
		first := tc.run()
		second := tc.run()
		require.NoError(t, g.Sync(), "%s: Sync", tc.name)
		require.Len(t, second, len(first), "%s: output count", tc.name)
		if i := firstBitDiff(first, second); i >= 0 {
			assert.Failf(t, "results differ between runs",
				"%s: output %d: first run %.9g (%#08x), second %.9g (%#08x)",
				tc.name, i, first[i], bitsOf(first)[i], second[i], bitsOf(second)[i])
		}
	}
}

// TestLossesPastPartialSumCap checks BinaryCrossEntropy and JSDMutualInfo on
// more elements than one pass of the capped partial-sum grid covers
// (lossBlock·lossMaxBlocks = 262144), so some threads loop a second time,
// against float64 loops written here.
func TestLossesPastPartialSumCap(t *testing.T) {
	// The loss sums 262147 terms as float32 partials of up to 512 terms
	// each, so its relative error stays near float32 precision.
	const lossTol = 1e-6
	// The gradients are single float64 expressions rounded once.
	const gradTol = 1e-6
	g := newTestGPU(t)
	rng := rand.New(rand.NewPCG(opsSeed, 2))
	n := lossBlock*lossMaxBlocks + 3
	p, target := uniform(rng, n, 0.001, 0.999), uniform(rng, n, 0, 1)
	scores := uniform(rng, n, -30, 30)

	dp := guarded(g, make([]float32, n), n)
	bce := g.BinaryCrossEntropy(guarded(g, p, n), guarded(g, target, n), dp, 3)
	dneg := guarded(g, make([]float32, n), n)
	jsd := g.JSDMutualInfo(guarded(g, scores[:1], 1), guarded(g, scores, n), nil, dneg, 3)
	require.NoError(t, g.Sync(), "losses: Sync")
	gotDp := download(t, g, dp, "BinaryCrossEntropy dp")
	gotDneg := download(t, g, dneg, "JSDMutualInfo dneg")

	var bceSum, negSum float64
	worstDp, worstDneg := -1, -1
	var worstDpErr, worstDnegErr float64
	for i := 0; i < n; i++ {
		pv, tv := float64(p[i]), float64(target[i])
		bceSum += -tv*math.Log(pv) - (1-tv)*math.Log(1-pv)
		wantDp := 3 / float64(n) * (pv - tv) / (pv * (1 - pv))
		if err := relErr(gotDp[i], wantDp); err > worstDpErr {
			worstDp, worstDpErr = i, err
		}
		x := float64(scores[i])
		negSum += math.Max(x, 0) + math.Log1p(math.Exp(-math.Abs(x)))
		wantDneg := 3 / float64(n) / (1 + math.Exp(-x))
		if err := relErr(gotDneg[i], wantDneg); err > worstDnegErr {
			worstDneg, worstDnegErr = i, err
		}
	}
	pos := float64(scores[0])
	wantJSD := math.Max(-pos, 0) + math.Log1p(math.Exp(-math.Abs(pos))) + negSum/float64(n)
	wantBCE := bceSum / float64(n)

	assert.InEpsilonf(t, wantBCE, float64(bce), lossTol,
		"BinaryCrossEntropy n=%d: got %.9g, want %.9g", n, bce, wantBCE)
	assert.InEpsilonf(t, wantJSD, float64(jsd), lossTol,
		"JSDMutualInfo n=%d: got %.9g, want %.9g", n, jsd, wantJSD)
	assert.LessOrEqualf(t, worstDpErr, gradTol,
		"BinaryCrossEntropy dp n=%d: worst index %d: got %.9g, relative error %g",
		n, worstDp, gotDp[max(worstDp, 0)], worstDpErr)
	assert.LessOrEqualf(t, worstDnegErr, gradTol,
		"JSDMutualInfo dneg n=%d: worst index %d: got %.9g, relative error %g",
		n, worstDneg, gotDneg[max(worstDneg, 0)], worstDnegErr)
}

// relErr returns |got − want| / |want|, with |want| floored at 1e−30.
func relErr(got float32, want float64) float64 {
	return math.Abs(float64(got)-want) / math.Max(math.Abs(want), 1e-30)
}

// TestOpShapeMismatchPanics requires every op family to reject a bad shape
// on the caller's goroutine with a message that names the backend and the
// op, before anything is queued.
func TestOpShapeMismatchPanics(t *testing.T) {
	g := newTestGPU(t)
	x4 := g.Alloc(2, 3, 5, 5)
	conv := nn.ConvParams{StrideH: 1, StrideW: 1}
	pool := nn.PoolParams{KH: 2, KW: 2, StrideH: 2, StrideW: 2}
	cases := []struct {
		op  string
		run func()
	}{
		{"Conv2D", func() { g.Conv2D(x4, g.Alloc(4, 2, 3, 3), nil, g.Alloc(2, 4, 3, 3), conv) }},
		{"Conv2DBackwardData", func() {
			g.Conv2DBackwardData(g.Alloc(2, 4, 3, 3), g.Alloc(4, 3, 3, 3), g.Alloc(2, 3, 6, 5), conv)
		}},
		{"Conv2DBackwardFilter", func() {
			g.Conv2DBackwardFilter(x4, g.Alloc(2, 4, 3, 3), g.Alloc(4, 3, 3, 3), g.Alloc(5), conv)
		}},
		{"BatchNorm", func() {
			g.BatchNorm(x4, g.Alloc(2), g.Alloc(3), nil, nil, nil, nil, g.Alloc(2, 3, 5, 5),
				nn.BatchNormParams{Training: true, Momentum: 0.1, Eps: 1e-5})
		}},
		{"BatchNormBackward", func() {
			g.BatchNormBackward(x4, g.Alloc(2, 3, 5, 4), g.Alloc(3), g.Alloc(3), g.Alloc(3), nil, nil, nil)
		}},
		{"MaxPool2D", func() { g.MaxPool2D(x4, g.Alloc(2, 3, 3, 3), pool) }},
		{"AvgPool2DBackward", func() { g.AvgPool2DBackward(g.Alloc(2, 3, 2, 3), x4, pool) }},
		{"Activate", func() { g.Activate(nn.Tanh, g.Alloc(4), g.Alloc(5)) }},
		{"AddBias", func() { g.AddBias(g.Alloc(2, 3, 4), g.Alloc(4)) }},
		{"Softmax", func() { g.Softmax(g.Alloc(2, 3), g.Alloc(3, 2)) }},
		{"CrossEntropy", func() { g.CrossEntropy(g.Alloc(2, 3), g.Alloc(3), nil, 1) }},
		{"JSDMutualInfo", func() { g.JSDMutualInfo(g.Alloc(3), g.Alloc(4), g.Alloc(4), nil, 1) }},
		{"L2NormalizeRows", func() { g.L2NormalizeRows(g.Alloc(2, 3), g.Alloc(2, 3), g.Alloc(3)) }},
		{"CosineSimilarity", func() { g.CosineSimilarity(g.Alloc(2, 3), g.Alloc(4, 5), g.Alloc(2, 4)) }},
		{"TopK", func() { g.TopK(g.Alloc(3, 4), g.Alloc(3, 2), 3, false) }},
		{"TileConcat", func() { g.TileConcat(g.Alloc(2, 3), g.Alloc(2, 4, 2, 2), g.Alloc(2, 6, 2, 2)) }},
		{"Adam", func() {
			g.Adam(g.Alloc(3), g.Alloc(3), g.Alloc(3), g.Alloc(4), nn.AdamParams{LR: 1e-3, Step: 1})
		}},
	}
	for _, tc := range cases {
		var message string
		func() {
			defer func() {
				if r := recover(); r != nil {
					message = fmt.Sprint(r)
				}
			}()
			tc.run()
		}()
		require.NotEmptyf(t, message, "%s with mismatched shapes must panic", tc.op)
		assert.Truef(t, strings.HasPrefix(message, g.Name()+": "+tc.op+": "),
			"%s: panic message %q must start with %q", tc.op, message, g.Name()+": "+tc.op+": ")
	}
	require.NoError(t, g.Sync(), "Sync after the rejected ops")
}
