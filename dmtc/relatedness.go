package dmtc

import (
	"math"
	"math/rand/v2"

	"github.com/dmtc-go/dmtc/nn"
)

// Relatedness is the task-relatedness estimate of a trained B-net.
type Relatedness struct {
	// Score[s][t] is the mean discriminator probability σ(D(Y_i, M_j))
	// over samples i of task s paired with their most similar sample j of
	// task t (j ≠ i), averaged over M's grid.
	Score [][]float64
	// EdgeShare[s][t] is the share of pairs (i in s, j in t, i ≠ j) whose
	// probability vectors have cosine similarity ≥ tau.
	EdgeShare [][]float64
}

// EstimateRelatedness measures how related the tasks are through the B-net.
// im holds the images of every task with Group set; at most perTask images
// of each task are used, drawn at random with seed.
func EstimateRelatedness(b nn.Backend, net *Net, im *Images, numTasks, perTask int, tau float32, seed uint64) Relatedness {
	// Pick up to perTask images of each task, visiting images in a random
	// order so that tasks stored class by class are sampled evenly.
	var pick []int
	count := make([]int, numTasks)
	for _, i := range rand.New(rand.NewPCG(seed, 2)).Perm(len(im.Group)) {
		if g := im.Group[i]; count[g] < perTask {
			pick = append(pick, i)
			count[g]++
		}
	}
	n := len(pick)
	x := im.gather(pick)

	tp := nn.NewTape(b)
	tp.Grad = false
	defer tp.Release()
	in := tp.Tensor(n, im.C, im.H, im.W)
	b.Upload(in, x)
	out := net.Forward(tp, tp.Input(in), nn.Eval)

	sim := tp.Tensor(n, n)
	b.CosineSimilarity(out.P.Value, out.P.Value, sim)
	s := make([]float32, n*n)
	b.Download(s, sim)

	// partner[t][k] is the most similar sample of task t for sample k.
	group := make([]int, n)
	for k, i := range pick {
		group[k] = im.Group[i]
	}
	partner := make([][]int, numTasks)
	for t := range partner {
		partner[t] = make([]int, n)
		for k := 0; k < n; k++ {
			best := -1
			for j := 0; j < n; j++ {
				if j != k && group[j] == t && (best < 0 || s[k*n+j] > s[k*n+best]) {
					best = j
				}
			}
			partner[t][k] = best
		}
	}

	mc, mh, mw := net.ShallowShape()
	msize := mc * mh * mw
	bank := make([]float32, n*msize)
	b.Download(bank, out.M.Value)
	cells := mh * mw

	r := Relatedness{Score: square(numTasks), EdgeShare: square(numTasks)}
	pairs := square(numTasks)
	for t := 0; t < numTasks; t++ {
		mt := make([]float32, n*msize)
		for k := 0; k < n; k++ {
			if j := partner[t][k]; j >= 0 {
				copy(mt[k*msize:(k+1)*msize], bank[j*msize:(j+1)*msize])
			}
		}
		m := tp.Tensor(n, mc, mh, mw)
		b.Upload(m, mt)
		scores := net.Discriminate(tp, out.Y, tp.Input(m))
		host := make([]float32, n*cells)
		b.Download(host, scores.Value)
		for k := 0; k < n; k++ {
			if partner[t][k] < 0 {
				continue
			}
			var mean float64
			for _, v := range host[k*cells : (k+1)*cells] {
				mean += 1 / (1 + math.Exp(-float64(v)))
			}
			r.Score[group[k]][t] += mean / float64(cells)
			pairs[group[k]][t]++
		}
	}
	edges, total := square(numTasks), square(numTasks)
	for k := 0; k < n; k++ {
		for j := 0; j < n; j++ {
			if j == k {
				continue
			}
			total[group[k]][group[j]]++
			if s[k*n+j] >= tau {
				edges[group[k]][group[j]]++
			}
		}
	}
	for a := 0; a < numTasks; a++ {
		for c := 0; c < numTasks; c++ {
			r.Score[a][c] = ratio(r.Score[a][c], pairs[a][c])
			r.EdgeShare[a][c] = ratio(edges[a][c], total[a][c])
		}
	}
	return r
}

func square(n int) [][]float64 {
	m := make([][]float64, n)
	for i := range m {
		m[i] = make([]float64, n)
	}
	return m
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return math.NaN()
	}
	return a / b
}
