package dmtc

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dmtc-go/dmtc/nn"
)

func TestPickPartnersNeverSelfTiesLowest(t *testing.T) {
	// Four samples; 0 and 1 tie for sample 2's best partner (0.9), and
	// sample 3 has a self-similarity of 1 that must never be chosen.
	g := &PseudoGraph{N: 4,
		Sim: []float32{
			1, 0.5, 0.9, 0.1,
			0.5, 1, 0.9, 0.2,
			0.9, 0.9, 1, 0.3,
			0.1, 0.2, 0.3, 1,
		},
		Edge: []float32{
			1, 0, 1, 0,
			0, 1, 1, 0,
			1, 1, 1, 0,
			0, 0, 0, 1,
		},
	}
	pos, neg := pickPartners(g, nil, rand.New(rand.NewPCG(1, 2)))
	assert.Equal(t, []int{2, 2, 0, 2}, pos, "positive partners")
	for i, j := range neg {
		assert.NotEqual(t, i, j, "negative partner of %d is itself", i)
		assert.Zero(t, g.Edge[i*4+j], "negative partner %d of %d is joined by an edge", j, i)
	}
}

func TestPickPartnersCrossGroup(t *testing.T) {
	// Samples 0 and 1 are in task 0, samples 2 and 3 in task 1. Sample 0 is
	// closest to 1, but with groups its partner must come from task 1.
	g := &PseudoGraph{N: 4,
		Sim: []float32{
			1, 0.99, 0.5, 0.7,
			0.99, 1, 0.8, 0.8,
			0.5, 0.8, 1, 0.95,
			0.7, 0.8, 0.95, 1,
		},
		Edge: make([]float32, 16),
	}
	pos, _ := pickPartners(g, []int{0, 0, 1, 1}, rand.New(rand.NewPCG(1, 2)))
	assert.Equal(t, []int{3, 2, 1, 1}, pos)
}

func TestPickPartnersAllJoinedUsesLeastSimilar(t *testing.T) {
	g := &PseudoGraph{N: 3,
		Sim:  []float32{1, 0.9, 0.96, 0.9, 1, 0.97, 0.96, 0.97, 1},
		Edge: []float32{1, 1, 1, 1, 1, 1, 1, 1, 1},
	}
	_, neg := pickPartners(g, nil, rand.New(rand.NewPCG(1, 2)))
	assert.Equal(t, []int{1, 0, 0}, neg)
}

func TestPseudoLabelsConfidence(t *testing.T) {
	probs := []float32{
		0.95, 0.03, 0.02,
		0.5, 0.4, 0.1,
		0.05, 0.05, 0.9,
		0.3, 0.3, 0.4,
	}
	assert.Equal(t, []int{0, -1, 2, -1}, pseudoLabels(probs, 4, 3, 0.9))
	assert.Equal(t, []int{0, 0, 2, 2}, pseudoLabels(probs, 4, 3, 0))
}

func TestBuildGraphThresholdAndKNN(t *testing.T) {
	b := nn.NewCPU(1)
	// Rows 0 and 1 point the same way, row 2 is orthogonal, row 3 is zero.
	p := b.Alloc(4, 2)
	b.Upload(p, []float32{1, 0, 2, 0, 0, 1, 0, 0})
	g, err := BuildGraph(b, p, GraphConfig{Tau: 0.95, Confidence: 0.9}, nil, rand.New(rand.NewPCG(1, 1)))
	require.NoError(t, err)
	assert.Equal(t, []float32{
		1, 1, 0, 0,
		1, 1, 0, 0,
		0, 0, 1, 0,
		0, 0, 0, 1,
	}, g.Edge)
	assert.Equal(t, []int{0, 0, 1, -1}, g.Labels, "labels from raw rows: argmax where max >= 0.9")
	assert.Equal(t, 1, g.Pos[0])
	assert.Equal(t, 0, g.Pos[1])

	g, err = BuildGraph(b, p, GraphConfig{KNN: 1, Confidence: 0.9}, nil, rand.New(rand.NewPCG(1, 1)))
	require.NoError(t, err)
	for i := 0; i < 4; i++ {
		assert.Equal(t, float32(1), g.Edge[i*4+i], "diagonal %d", i)
	}
	assert.Equal(t, float32(1), g.Edge[0*4+1])
	assert.Equal(t, float32(1), g.Edge[1*4+0])
}

func TestBuildGraphRejectsOneSample(t *testing.T) {
	b := nn.NewCPU(1)
	p := b.Alloc(1, 3)
	_, err := BuildGraph(b, p, GraphConfig{Tau: 0.95}, nil, rand.New(rand.NewPCG(1, 1)))
	require.ErrorContains(t, err, "1 samples")
}

func TestTrainConfigRejectsInvalidValues(t *testing.T) {
	valid := TrainConfig{Epochs: 1, LargeBatch: 8, BatchSize: 2, Passes: 1,
		Graph: GraphConfig{Tau: 0.95, Confidence: 0.9}, LR: 1e-3, Alpha: 0.9}
	require.NoError(t, valid.validate())
	cases := map[string]func(c *TrainConfig){
		"epochs":     func(c *TrainConfig) { c.Epochs = -1 },
		"large":      func(c *TrainConfig) { c.LargeBatch = 1 },
		"batch":      func(c *TrainConfig) { c.BatchSize = 0 },
		"passes":     func(c *TrainConfig) { c.Passes = 0 },
		"tau":        func(c *TrainConfig) { c.Graph.Tau = 1.5 },
		"confidence": func(c *TrainConfig) { c.Graph.Confidence = 1.2 },
		"knn":        func(c *TrainConfig) { c.Graph.KNN = -3 },
		"lr":         func(c *TrainConfig) { c.LR = 0 },
		"alpha":      func(c *TrainConfig) { c.Alpha = 1 },
		"weight":     func(c *TrainConfig) { c.WMI = -1 },
	}
	for name, mutate := range cases {
		c := valid
		mutate(&c)
		assert.Error(t, c.validate(), "invalid %s accepted", name)
	}
}
