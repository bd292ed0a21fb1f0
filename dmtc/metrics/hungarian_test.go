package metrics

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// bruteForceAssignment returns the minimum total cost over all maximal
// injective matchings of an r×c cost, by enumerating every permutation.
func bruteForceAssignment(cost [][]float64) float64 {
	rows := len(cost)
	if rows == 0 || len(cost[0]) == 0 {
		return 0
	}
	cols := len(cost[0])

	// Enumerate maps from the smaller side into the larger one.
	small, large := rows, cols
	at := func(s, l int) float64 { return cost[s][l] }
	if rows > cols {
		small, large = cols, rows
		at = func(s, l int) float64 { return cost[l][s] }
	}

	best := math.Inf(1)
	used := make([]bool, large)
	var walk func(s int, total float64)
	walk = func(s int, total float64) {
		if s == small {
			best = min(best, total)
			return
		}
		for l := range large {
			if !used[l] {
				used[l] = true
				walk(s+1, total+at(s, l))
				used[l] = false
			}
		}
	}
	walk(0, 0)
	return best
}

// checkMatching asserts that rowToCol is a valid maximal matching of cost
// and returns its total cost.
func checkMatching(t *testing.T, cost [][]float64, rowToCol []int) float64 {
	t.Helper()
	rows := len(cost)
	cols := 0
	if rows > 0 {
		cols = len(cost[0])
	}
	require.Len(t, rowToCol, rows)
	seen := make(map[int]bool)
	total := 0.0
	for i, j := range rowToCol {
		if j < 0 {
			assert.Equal(t, -1, j, "Hungarian %d×%d row %d", rows, cols, i)
			continue
		}
		require.Less(t, j, cols, "Hungarian %d×%d row %d column out of range", rows, cols, i)
		assert.False(t, seen[j], "Hungarian %d×%d column %d matched twice", rows, cols, j)
		seen[j] = true
		total += cost[i][j]
	}
	assert.Len(t, seen, min(rows, cols), "Hungarian %d×%d matched pairs", rows, cols)
	return total
}

func TestHungarianBruteForce(t *testing.T) {
	// Integer costs make both totals exact. The float case sums at most six
	// values in [-1, 1), so 1e-12 covers rounding.
	const tol = 1e-12
	rng := rand.New(rand.NewPCG(2026, 12))
	for rows := 0; rows <= 6; rows++ {
		for cols := 0; cols <= 6; cols++ {
			for trial := range 20 {
				cost := make([][]float64, rows)
				for i := range cost {
					cost[i] = make([]float64, cols)
					for j := range cost[i] {
						switch trial % 3 {
						case 0: // many ties
							cost[i][j] = float64(rng.IntN(3))
						case 1:
							cost[i][j] = float64(rng.IntN(41) - 20)
						default:
							cost[i][j] = rng.Float64()*2 - 1
						}
					}
				}
				rowToCol, err := Hungarian(cost)
				require.NoError(t, err)
				got := checkMatching(t, cost, rowToCol)
				want := bruteForceAssignment(cost)
				assert.InDelta(t, want, got, tol,
					"Hungarian %d×%d trial %d total cost, cost=%v", rows, cols, trial, cost)
			}
		}
	}
}

func TestHungarianLarger(t *testing.T) {
	// 9 rows into 10 columns: 10!/1! = 3.6·10⁶ brute-force leaves, still
	// quick, and past the sizes of the exhaustive grid above.
	rng := rand.New(rand.NewPCG(5, 9))
	for _, shape := range [][2]int{{9, 10}, {10, 9}, {8, 8}} {
		cost := make([][]float64, shape[0])
		for i := range cost {
			cost[i] = make([]float64, shape[1])
			for j := range cost[i] {
				cost[i][j] = float64(rng.IntN(1000))
			}
		}
		rowToCol, err := Hungarian(cost)
		require.NoError(t, err)
		got := checkMatching(t, cost, rowToCol)
		assert.Equal(t, bruteForceAssignment(cost), got, "Hungarian %v total cost", shape)
	}
}

func TestHungarianKnown(t *testing.T) {
	// Worked by hand: the diagonal costs 4+0+2 = 6, and the best is 1+2+2 = 5
	// with row 0→col 1, row 1→col 0, row 2→col 2.
	cost := [][]float64{
		{4, 1, 3},
		{2, 0, 5},
		{3, 2, 2},
	}
	rowToCol, err := Hungarian(cost)
	require.NoError(t, err)
	assert.Equal(t, []int{1, 0, 2}, rowToCol)

	// With one row the cheapest column wins, and with one column the
	// cheapest row.
	rowToCol, err = Hungarian([][]float64{{3, -1, 2}})
	require.NoError(t, err)
	assert.Equal(t, []int{1}, rowToCol)
	rowToCol, err = Hungarian([][]float64{{3}, {-1}, {2}})
	require.NoError(t, err)
	assert.Equal(t, []int{-1, 0, -1}, rowToCol)

	rowToCol, err = Hungarian(nil)
	require.NoError(t, err)
	assert.Empty(t, rowToCol)
	rowToCol, err = Hungarian([][]float64{{}, {}})
	require.NoError(t, err)
	assert.Equal(t, []int{-1, -1}, rowToCol)
}

func TestHungarianErrors(t *testing.T) {
	_, err := Hungarian([][]float64{{1, 2}, {3}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "metrics: Hungarian: row 1 has 1 columns but row 0 has 2")

	for _, bad := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		_, err := Hungarian([][]float64{{1, 2}, {3, bad}})
		require.Error(t, err, "Hungarian with cost %v", bad)
		assert.Contains(t, err.Error(), "cost[1][1] is")
	}
}
