package dmtc

import (
	"fmt"
	"math/rand/v2"

	"github.com/dmtc-go/dmtc/nn"
)

// GraphConfig selects how the pseudo-graph and pseudo-labels are built.
type GraphConfig struct {
	// Tau is the cosine-similarity threshold for an edge (threshold mode).
	Tau float32
	// KNN, when positive, switches to k-nearest-neighbour mode: each sample
	// is joined to its KNN most similar samples and the graph is symmetrised.
	KNN int
	// Confidence is the minimum max-probability for a pseudo-label (0.9).
	Confidence float32
}

// PseudoGraph is the self-supervision built from one large batch: the
// similarity of the network's cluster probabilities, the edges drawn from it,
// confident pseudo-labels, and one positive and one negative partner per
// sample.
type PseudoGraph struct {
	N    int
	Sim  []float32 // (N, N) cosine similarity of the probability vectors
	Edge []float32 // (N, N) 1 for an edge, 0 otherwise; the diagonal is 1
	// Labels holds argmax p where max p ≥ Confidence, −1 elsewhere.
	Labels []int
	// Pos[i] is i's most similar sample (ties to the lowest index, never i);
	// with groups, it is taken from the other groups only.
	Pos []int
	// Neg[i] is a random sample with no edge to i, or i's least similar
	// sample when every sample is joined to i.
	Neg []int
}

// EdgeDensity returns the share of off-diagonal pairs joined by an edge.
func (g *PseudoGraph) EdgeDensity() float64 {
	if g.N < 2 {
		return 0
	}
	var edges float64
	for i := 0; i < g.N; i++ {
		for j := 0; j < g.N; j++ {
			if i != j {
				edges += float64(g.Edge[i*g.N+j])
			}
		}
	}
	return edges / float64(g.N*(g.N-1))
}

// LabelledShare returns the share of samples with a confident pseudo-label.
func (g *PseudoGraph) LabelledShare() float64 {
	if g.N == 0 {
		return 0
	}
	var n int
	for _, l := range g.Labels {
		if l >= 0 {
			n++
		}
	}
	return float64(n) / float64(g.N)
}

// BuildGraph builds the pseudo-graph of probabilities p (N, K). group, when
// not nil, gives each sample's task: positive partners are then taken from
// other tasks only, the cross-task pairs of the B-net. rng draws negatives.
func BuildGraph(b nn.Backend, p *nn.Tensor, cfg GraphConfig, group []int, rng *rand.Rand) (*PseudoGraph, error) {
	n, k := p.Rows(), p.Cols()
	if n < 2 {
		return nil, fmt.Errorf("dmtc: pseudo-graph of %d samples: need at least 2", n)
	}
	if group != nil && len(group) != n {
		return nil, fmt.Errorf("dmtc: %d group ids for %d samples", len(group), n)
	}
	g := &PseudoGraph{N: n, Sim: make([]float32, n*n), Edge: make([]float32, n*n)}

	sim := b.Alloc(n, n)
	defer b.Free(sim)
	b.CosineSimilarity(p, p, sim)
	b.Download(g.Sim, sim)
	if cfg.KNN > 0 {
		idx := b.Alloc(n, cfg.KNN)
		defer b.Free(idx)
		b.TopK(sim, idx, cfg.KNN, true)
		host := make([]float32, n*cfg.KNN)
		b.Download(host, idx)
		for i := 0; i < n; i++ {
			for _, jf := range host[i*cfg.KNN : (i+1)*cfg.KNN] {
				if j := int(jf); j >= 0 {
					g.Edge[i*n+j], g.Edge[j*n+i] = 1, 1
				}
			}
		}
	} else {
		edge := b.Alloc(n, n)
		defer b.Free(edge)
		b.ThresholdGraph(sim, edge, cfg.Tau)
		b.Download(g.Edge, edge)
	}
	for i := 0; i < n; i++ {
		g.Edge[i*n+i] = 1
	}

	probs := make([]float32, n*k)
	b.Download(probs, p)
	g.Labels = pseudoLabels(probs, n, k, cfg.Confidence)
	g.Pos, g.Neg = pickPartners(g, group, rng)
	return g, nil
}

// pseudoLabels returns argmax of each row where its max is at least conf,
// −1 elsewhere.
func pseudoLabels(probs []float32, n, k int, conf float32) []int {
	labels := make([]int, n)
	for i := range labels {
		row := probs[i*k : (i+1)*k]
		best := 0
		for c := 1; c < k; c++ {
			if row[c] > row[best] {
				best = c
			}
		}
		labels[i] = -1
		if row[best] >= conf {
			labels[i] = best
		}
	}
	return labels
}

// pickPartners chooses each sample's positive partner (most similar other
// sample, in another group when groups are given) and negative partner (a
// uniformly random non-neighbour).
func pickPartners(g *PseudoGraph, group []int, rng *rand.Rand) (pos, neg []int) {
	n := g.N
	pos, neg = make([]int, n), make([]int, n)
	nonEdges := make([]int, 0, n)
	for i := 0; i < n; i++ {
		sim := g.Sim[i*n : (i+1)*n]
		edge := g.Edge[i*n : (i+1)*n]
		best, worst := -1, -1
		nonEdges = nonEdges[:0]
		for j := 0; j < n; j++ {
			if j == i {
				continue
			}
			if edge[j] == 0 {
				nonEdges = append(nonEdges, j)
			}
			if worst < 0 || sim[j] < sim[worst] {
				worst = j
			}
			if group != nil && group[j] == group[i] {
				continue
			}
			if best < 0 || sim[j] > sim[best] {
				best = j
			}
		}
		if best < 0 {
			// Every other sample shares i's group: fall back to the most
			// similar sample of any group.
			for j := 0; j < n; j++ {
				if j != i && (best < 0 || sim[j] > sim[best]) {
					best = j
				}
			}
		}
		pos[i] = best
		if len(nonEdges) > 0 {
			neg[i] = nonEdges[rng.IntN(len(nonEdges))]
		} else {
			neg[i] = worst
		}
	}
	return pos, neg
}
