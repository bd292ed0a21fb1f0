package nn

import (
	"fmt"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
)

// GEMM tile sizes. C is cut into gemmTileM×gemmTileN tiles, each computed by
// one goroutine as a sequence of Sgemm calls over gemmTileK-deep slices of
// the inner dimension. gonum v0.17.0's Sgemm spawns its own goroutines when a
// call covers 4 or more of its 64×64 blocks. 64×192 is 3 blocks, so each call
// stays serial and the thread count is ours alone. The tiling is fixed, so
// every element of C is summed in the same order for any thread count.
const (
	gemmTileM = 64
	gemmTileN = 192
	gemmTileK = 256
)

// gemmJob is one C = alpha·op(A)·op(B) + beta·C on row-major slices, with
// op(A) m×k, op(B) k×n and C m×n.
type gemmJob struct {
	transA, transB bool
	m, n, k        int
	alpha          float32
	a              []float32
	lda            int
	b              []float32
	ldb            int
	beta           float32
	c              []float32
	ldc            int
}

// tiles returns the number of C tiles.
func (g *gemmJob) tiles() int {
	return ceilDiv(g.m, gemmTileM) * ceilDiv(g.n, gemmTileN)
}

// runTile computes C tile t. With beta = 0 the tile is zeroed first, so the
// old contents of C, NaN included, are never read.
func (g *gemmJob) runTile(t int) {
	tilesN := ceilDiv(g.n, gemmTileN)
	i0 := (t / tilesN) * gemmTileM
	j0 := (t % tilesN) * gemmTileN
	mi := min(gemmTileM, g.m-i0)
	nj := min(gemmTileN, g.n-j0)

	for i := i0; i < i0+mi; i++ {
		row := g.c[i*g.ldc+j0 : i*g.ldc+j0+nj]
		switch g.beta {
		case 0:
			clear(row)
		case 1:
		default:
			for j := range row {
				row[j] *= g.beta
			}
		}
	}
	if g.alpha == 0 {
		return
	}

	impl := blas32.Implementation()
	tA, tB := blas.NoTrans, blas.NoTrans
	if g.transA {
		tA = blas.Trans
	}
	if g.transB {
		tB = blas.Trans
	}
	cSub := g.c[i0*g.ldc+j0:]
	for l0 := 0; l0 < g.k; l0 += gemmTileK {
		kl := min(gemmTileK, g.k-l0)
		var aSub, bSub []float32
		if g.transA {
			aSub = g.a[l0*g.lda+i0:] // A is k×m
		} else {
			aSub = g.a[i0*g.lda+l0:] // A is m×k
		}
		if g.transB {
			bSub = g.b[j0*g.ldb+l0:] // B is n×k
		} else {
			bSub = g.b[l0*g.ldb+j0:] // B is k×n
		}
		impl.Sgemm(tA, tB, mi, nj, kl, g.alpha, aSub, g.lda, bSub, g.ldb, 1, cSub, g.ldc)
	}
}

// gemmSerial runs every tile of g on the calling goroutine.
func gemmSerial(g *gemmJob) {
	for t := range g.tiles() {
		g.runTile(t)
	}
}

// gemmParallel runs the tiles of g on up to c.threads goroutines. The result
// is bitwise identical to gemmSerial's.
func (c *CPU) gemmParallel(g *gemmJob) {
	c.parallelFor(g.tiles(), func(_, t int) { g.runTile(t) })
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// Gemm computes C = alpha·op(A)·op(B) + beta·C on the (Rows, Cols) views of
// a, b and c, where op transposes when its flag is set.
//
// NOTE: unless only B is transposed, gonum v0.17.0 skips a term whose
// alpha·A value is 0, so NaN or Inf in B facing a zero in A does not reach C,
// unlike a strict IEEE product.
func (c *CPU) Gemm(transA, transB bool, alpha float32, a, b *Tensor, beta float32, cT *Tensor) {
	const op = "Gemm"
	as, bs, cs := data(op, "a", a), data(op, "b", b), data(op, "c", cT)
	if len(a.Shape) == 0 || len(b.Shape) == 0 || len(cT.Shape) == 0 {
		panic(fmt.Sprintf("nn: cpu: Gemm: a %v, b %v and c %v must have at least one dimension",
			a, b, cT))
	}
	m, k := a.Rows(), a.Cols()
	if transA {
		m, k = k, m
	}
	kb, n := b.Rows(), b.Cols()
	if transB {
		kb, n = n, kb
	}
	if k != kb || cT.Rows() != m || cT.Cols() != n {
		panic(fmt.Sprintf("nn: cpu: Gemm: op(a) is %d×%d and op(b) is %d×%d (a %v, b %v, transA %t, transB %t), "+
			"so c must be %d×%d, got %v", m, k, kb, n, a, b, transA, transB, m, n, cT))
	}
	g := gemmJob{
		transA: transA, transB: transB,
		m: m, n: n, k: k,
		alpha: alpha,
		a:     as, lda: max(a.Cols(), 1),
		b: bs, ldb: max(b.Cols(), 1),
		beta: beta,
		c:    cs, ldc: max(n, 1),
	}
	if k == 0 {
		g.alpha = 0
	}
	c.gemmParallel(&g)
}

// AddBias computes y[n,f,s] += bias[f] on y viewed as (N, F, S).
func (c *CPU) AddBias(y, bias *Tensor) {
	const op = "AddBias"
	ys, bs := data(op, "y", y), data(op, "bias", bias)
	n, f, s := biasView(op, y, bias)
	c.parallelRange(n, max(1, elementGrain/max(1, f*s)), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			row := ys[i*f*s : (i+1)*f*s]
			for j, b := range bs {
				seg := row[j*s : (j+1)*s]
				for k := range seg {
					seg[k] += b
				}
			}
		}
	})
}

// BiasBackward accumulates db[f] += Σ_{n,s} dy[n,f,s], summing each channel
// in float64 in (n, s) order.
func (c *CPU) BiasBackward(dy, db *Tensor) {
	const op = "BiasBackward"
	if db == nil {
		return
	}
	dys, dbs := data(op, "dy", dy), data(op, "db", db)
	n, f, s := biasView(op, dy, db)
	c.parallelRange(f, max(1, elementGrain/max(1, n*s)), func(lo, hi int) {
		for j := lo; j < hi; j++ {
			var sum float64
			for i := 0; i < n; i++ {
				for _, v := range dys[(i*f+j)*s : (i*f+j+1)*s] {
					sum += float64(v)
				}
			}
			dbs[j] += float32(sum)
		}
	})
}

// biasView returns y's (N, F, S) view for a bias of F elements and panics
// when y's second dimension is not F.
func biasView(op string, y, bias *Tensor) (n, f, s int) {
	requireRank(op, "bias", bias, 1)
	if len(y.Shape) < 2 || y.Shape[1] != bias.Shape[0] {
		panic(fmt.Sprintf("nn: cpu: %s: y %v needs a second dimension of size %d to match bias %v",
			op, y, bias.Shape[0], bias))
	}
	n, f = y.Shape[0], y.Shape[1]
	return n, f, Numel(y.Shape[2:])
}
