package backendtest

import (
	"math"
	"sort"

	"github.com/dmtc-go/dmtc/nn"
)

// Float64 reference implementations, written as plain loops straight from
// the definitions in nn.Backend's documentation. They share no code with any
// backend, and the gradient checks differentiate them numerically.

func f64(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

// refGemm returns alpha·op(A)·op(B) + beta·C, with C not read when beta = 0.
// a is stored (m, k), or (k, m) when transposed, and b (k, n) or (n, k).
func refGemm(transA, transB bool, m, n, k int, alpha float64, a, b []float64, beta float64, c []float64) []float64 {
	out := make([]float64, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var sum float64
			for l := 0; l < k; l++ {
				av := a[i*k+l]
				if transA {
					av = a[l*m+i]
				}
				bv := b[l*n+j]
				if transB {
					bv = b[j*k+l]
				}
				sum += av * bv
			}
			out[i*n+j] = alpha * sum
			if beta != 0 {
				out[i*n+j] += beta * c[i*n+j]
			}
		}
	}
	return out
}

// convShape holds the sizes of one convolution test case.
type convShape struct {
	n, c, h, w, f, kh, kw int
	p                     nn.ConvParams
}

func (s convShape) out() (int, int) {
	return nn.ConvOutSize(s.h, s.w, s.kh, s.kw, s.p.StrideH, s.p.StrideW, s.p.PadH, s.p.PadW)
}

// forEachTap calls fn(xi, wi, yi) for every (input, filter, output) index
// triple that the convolution multiplies, padding excluded.
func (s convShape) forEachTap(fn func(xi, wi, yi int)) {
	oh, ow := s.out()
	for n := 0; n < s.n; n++ {
		for f := 0; f < s.f; f++ {
			for oy := 0; oy < oh; oy++ {
				for ox := 0; ox < ow; ox++ {
					yi := ((n*s.f+f)*oh+oy)*ow + ox
					for c := 0; c < s.c; c++ {
						for ky := 0; ky < s.kh; ky++ {
							iy := oy*s.p.StrideH - s.p.PadH + ky
							if iy < 0 || iy >= s.h {
								continue
							}
							for kx := 0; kx < s.kw; kx++ {
								ix := ox*s.p.StrideW - s.p.PadW + kx
								if ix < 0 || ix >= s.w {
									continue
								}
								xi := ((n*s.c+c)*s.h+iy)*s.w + ix
								wi := ((f*s.c+c)*s.kh+ky)*s.kw + kx
								fn(xi, wi, yi)
							}
						}
					}
				}
			}
		}
	}
}

func refConv(s convShape, x, w, bias []float64) []float64 {
	oh, ow := s.out()
	y := make([]float64, s.n*s.f*oh*ow)
	if bias != nil {
		for i := range y {
			y[i] = bias[(i/(oh*ow))%s.f]
		}
	}
	s.forEachTap(func(xi, wi, yi int) { y[yi] += x[xi] * w[wi] })
	return y
}

func refConvBackwardData(s convShape, dy, w []float64) []float64 {
	dx := make([]float64, s.n*s.c*s.h*s.w)
	s.forEachTap(func(xi, wi, yi int) { dx[xi] += dy[yi] * w[wi] })
	return dx
}

func refConvBackwardFilter(s convShape, x, dy []float64) (dw, db []float64) {
	oh, ow := s.out()
	dw = make([]float64, s.f*s.c*s.kh*s.kw)
	s.forEachTap(func(xi, wi, yi int) { dw[wi] += dy[yi] * x[xi] })
	db = make([]float64, s.f)
	for i, g := range dy {
		db[(i/(oh*ow))%s.f] += g
	}
	return dw, db
}

// bnStats returns per-channel mean and biased variance of x viewed as
// (n, ch, sp).
func bnStats(x []float64, n, ch, sp int) (mean, variance []float64) {
	mean, variance = make([]float64, ch), make([]float64, ch)
	m := float64(n * sp)
	for k := 0; k < ch; k++ {
		for i := 0; i < n; i++ {
			for j := 0; j < sp; j++ {
				mean[k] += x[(i*ch+k)*sp+j]
			}
		}
		mean[k] /= m
		for i := 0; i < n; i++ {
			for j := 0; j < sp; j++ {
				d := x[(i*ch+k)*sp+j] - mean[k]
				variance[k] += d * d
			}
		}
		variance[k] /= m
	}
	return mean, variance
}

// refBatchNorm normalises with the given per-channel mean and variance.
func refBatchNorm(x, gamma, beta, mean, variance []float64, n, ch, sp int, eps float64) []float64 {
	y := make([]float64, len(x))
	for i := 0; i < n; i++ {
		for k := 0; k < ch; k++ {
			for j := 0; j < sp; j++ {
				at := (i*ch+k)*sp + j
				y[at] = gamma[k]*(x[at]-mean[k])/math.Sqrt(variance[k]+eps) + beta[k]
			}
		}
	}
	return y
}

// refBatchNormTrain is the training-mode forward pass as a function of x,
// gamma and beta, the function whose gradient BatchNormBackward returns.
func refBatchNormTrain(x, gamma, beta []float64, n, ch, sp int, eps float64) []float64 {
	mean, variance := bnStats(x, n, ch, sp)
	return refBatchNorm(x, gamma, beta, mean, variance, n, ch, sp, eps)
}

// poolShape holds the sizes of one pooling test case.
type poolShape struct {
	n, c, h, w int
	p          nn.PoolParams
}

func (s poolShape) out() (int, int) {
	return nn.ConvOutSize(s.h, s.w, s.p.KH, s.p.KW, s.p.StrideH, s.p.StrideW, s.p.PadH, s.p.PadW)
}

// windowCells returns the input offsets within a plane that output (oy, ox)
// covers, in row-major order, padding excluded.
func (s poolShape) windowCells(oy, ox int) []int {
	var cells []int
	for ky := 0; ky < s.p.KH; ky++ {
		iy := oy*s.p.StrideH - s.p.PadH + ky
		for kx := 0; kx < s.p.KW; kx++ {
			ix := ox*s.p.StrideW - s.p.PadW + kx
			if iy >= 0 && iy < s.h && ix >= 0 && ix < s.w {
				cells = append(cells, iy*s.w+ix)
			}
		}
	}
	return cells
}

// refMaxPool returns y and, for each output, the plane offset of its first
// maximum (the cell that receives the gradient).
func refMaxPool(s poolShape, x []float64) (y []float64, arg []int) {
	oh, ow := s.out()
	for pl := 0; pl < s.n*s.c; pl++ {
		plane := x[pl*s.h*s.w : (pl+1)*s.h*s.w]
		for oy := 0; oy < oh; oy++ {
			for ox := 0; ox < ow; ox++ {
				best, at := math.Inf(-1), -1
				for _, cell := range s.windowCells(oy, ox) {
					if at < 0 || plane[cell] > best {
						best, at = plane[cell], cell
					}
				}
				y = append(y, best)
				arg = append(arg, pl*s.h*s.w+at)
			}
		}
	}
	return y, arg
}

func refAvgPool(s poolShape, x []float64) []float64 {
	oh, ow := s.out()
	var y []float64
	for pl := 0; pl < s.n*s.c; pl++ {
		plane := x[pl*s.h*s.w : (pl+1)*s.h*s.w]
		for oy := 0; oy < oh; oy++ {
			for ox := 0; ox < ow; ox++ {
				var sum float64
				for _, cell := range s.windowCells(oy, ox) {
					sum += plane[cell]
				}
				y = append(y, sum/float64(s.p.KH*s.p.KW))
			}
		}
	}
	return y
}

func refAvgPoolBackward(s poolShape, dy []float64) []float64 {
	oh, ow := s.out()
	dx := make([]float64, s.n*s.c*s.h*s.w)
	for pl := 0; pl < s.n*s.c; pl++ {
		for oy := 0; oy < oh; oy++ {
			for ox := 0; ox < ow; ox++ {
				g := dy[(pl*oh+oy)*ow+ox] / float64(s.p.KH*s.p.KW)
				for _, cell := range s.windowCells(oy, ox) {
					dx[pl*s.h*s.w+cell] += g
				}
			}
		}
	}
	return dx
}

func refActivate(f nn.Activation, x float64) float64 {
	switch f {
	case nn.ReLU:
		return math.Max(x, 0)
	case nn.Sigmoid:
		return 1 / (1 + math.Exp(-x))
	case nn.Tanh:
		return math.Tanh(x)
	case nn.Softplus:
		// log(1 + eˣ) = x + log(1 + e⁻ˣ), whichever side keeps exp small.
		if x > 0 {
			return x + math.Log1p(math.Exp(-x))
		}
		return math.Log1p(math.Exp(x))
	}
	panic("backendtest: unknown activation")
}

func refActivateDerivative(f nn.Activation, x float64) float64 {
	switch f {
	case nn.ReLU:
		if x > 0 {
			return 1
		}
		return 0
	case nn.Sigmoid:
		s := 1 / (1 + math.Exp(-x))
		return s * (1 - s)
	case nn.Tanh:
		t := math.Tanh(x)
		return 1 - t*t
	case nn.Softplus:
		return 1 / (1 + math.Exp(-x))
	}
	panic("backendtest: unknown activation")
}

// refLogSoftmax returns the log-softmax of each row of x (n, k).
func refLogSoftmax(x []float64, n, k int) []float64 {
	y := make([]float64, n*k)
	for i := 0; i < n; i++ {
		row := x[i*k : (i+1)*k]
		m := math.Inf(-1)
		for _, v := range row {
			m = math.Max(m, v)
		}
		var sum float64
		for _, v := range row {
			sum += math.Exp(v - m)
		}
		for j, v := range row {
			y[i*k+j] = v - m - math.Log(sum)
		}
	}
	return y
}

func refSoftmax(x []float64, n, k int) []float64 {
	y := refLogSoftmax(x, n, k)
	for i := range y {
		y[i] = math.Exp(y[i])
	}
	return y
}

// refCrossEntropy returns the mean over rows with label ≥ 0 of −log
// softmax at the label.
func refCrossEntropy(x []float64, labels []int, k int) float64 {
	ls := refLogSoftmax(x, len(labels), k)
	var sum float64
	count := 0
	for i, l := range labels {
		if l < 0 {
			continue
		}
		sum -= ls[i*k+l]
		count++
	}
	if count == 0 {
		return 0
	}
	return sum / float64(count)
}

// bceLow and bceHigh are BinaryCrossEntropy's clamp bounds as float32 values.
const bceLow = float32(1e-7)

var bceHigh = 1 - bceLow

func refBCE(p, t []float64) float64 {
	if len(p) == 0 {
		return 0
	}
	var sum float64
	for i, v := range p {
		pc := math.Min(math.Max(v, float64(bceLow)), float64(bceHigh))
		sum -= t[i]*math.Log(pc) + (1-t[i])*math.Log(1-pc)
	}
	return sum / float64(len(p))
}

func refJSD(pos, neg []float64) float64 {
	var loss float64
	if len(pos) > 0 {
		var sum float64
		for _, v := range pos {
			sum += refActivate(nn.Softplus, -v)
		}
		loss += sum / float64(len(pos))
	}
	if len(neg) > 0 {
		var sum float64
		for _, v := range neg {
			sum += refActivate(nn.Softplus, v)
		}
		loss += sum / float64(len(neg))
	}
	return loss
}

// refL2Normalize returns y = x / max(‖x‖, 1e−12) per row and the norms.
func refL2Normalize(x []float64, n, d int) (y, norms []float64) {
	y, norms = make([]float64, n*d), make([]float64, n)
	for i := 0; i < n; i++ {
		var sq float64
		for _, v := range x[i*d : (i+1)*d] {
			sq += v * v
		}
		norms[i] = math.Sqrt(sq)
		for j, v := range x[i*d : (i+1)*d] {
			y[i*d+j] = v / math.Max(norms[i], 1e-12)
		}
	}
	return y, norms
}

func refCosine(a, b []float64, n, m, d int) []float64 {
	ua, na := refL2Normalize(a, n, d)
	ub, nb := refL2Normalize(b, m, d)
	s := make([]float64, n*m)
	for i := 0; i < n; i++ {
		for j := 0; j < m; j++ {
			if na[i] == 0 || nb[j] == 0 {
				continue
			}
			var dot float64
			for l := 0; l < d; l++ {
				dot += ua[i*d+l] * ub[j*d+l]
			}
			s[i*m+j] = dot
		}
	}
	return s
}

// refTopK sorts each row's candidate columns by value, largest first, ties
// and NaN handled as nn.Backend.TopK documents, and pads with −1.
func refTopK(s []float32, n, m, k int, excludeDiagonal bool) []float64 {
	out := make([]float64, 0, n*k)
	for i := 0; i < n; i++ {
		var cols []int
		for j := 0; j < m; j++ {
			if !(excludeDiagonal && i == j) {
				cols = append(cols, j)
			}
		}
		row := s[i*m : (i+1)*m]
		sort.SliceStable(cols, func(a, b int) bool {
			va, vb := row[cols[a]], row[cols[b]]
			if va != va || vb != vb {
				return vb != vb && va == va
			}
			return va > vb
		})
		for p := 0; p < k; p++ {
			if p < len(cols) {
				out = append(out, float64(cols[p]))
			} else {
				out = append(out, -1)
			}
		}
	}
	return out
}

// refTileConcat returns out (n, k+c, h·w) from y (n, k) and m (n, c, h·w).
func refTileConcat(y, m []float64, n, k, c, plane int) []float64 {
	out := make([]float64, 0, n*(k+c)*plane)
	for i := 0; i < n; i++ {
		for j := 0; j < k; j++ {
			for p := 0; p < plane; p++ {
				out = append(out, y[i*k+j])
			}
		}
		out = append(out, m[i*c*plane:(i+1)*c*plane]...)
	}
	return out
}
