package metrics

import (
	"fmt"
	"math"
)

// Hungarian solves the rectangular linear assignment problem with minimum
// total cost. When r ≤ c every row of the r×c cost matrix is matched to a
// distinct column, otherwise every column to a distinct row. It returns
// rowToCol, where rowToCol[i] is the column matched to row i, or -1 for the
// rows left over when rows outnumber columns.
//
// The method is the shortest-augmenting-path form of the Hungarian
// (Kuhn–Munkres) algorithm with dual potentials, in O(min(r,c)²·max(r,c))
// time. Negative costs are allowed. An error is returned for ragged rows and
// for NaN or ±Inf costs.
func Hungarian(cost [][]float64) ([]int, error) {
	rows := len(cost)
	if rows == 0 {
		return []int{}, nil
	}
	cols := len(cost[0])
	for i, row := range cost {
		if len(row) != cols {
			return nil, fmt.Errorf("metrics: Hungarian: row %d has %d columns but row 0 has %d; "+
				"pass a rectangular matrix", i, len(row), cols)
		}
		for j, v := range row {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("metrics: Hungarian: cost[%d][%d] is %v; "+
					"costs must be finite", i, j, v)
			}
		}
	}
	rowToCol := make([]int, rows)
	for i := range rowToCol {
		rowToCol[i] = -1
	}
	if cols == 0 {
		return rowToCol, nil
	}

	if rows <= cols {
		colToRow := solveWide(rows, cols, func(i, j int) float64 { return cost[i][j] })
		for j, i := range colToRow {
			if i >= 0 {
				rowToCol[i] = j
			}
		}
		return rowToCol, nil
	}

	// More rows than columns: solve the transposed problem, in which every
	// column of cost is matched to a row.
	colOfRow := solveWide(cols, rows, func(j, i int) float64 { return cost[i][j] })
	for i, j := range colOfRow {
		if j >= 0 {
			rowToCol[i] = j
		}
	}
	return rowToCol, nil
}

// solveWide solves the assignment problem for an r×c cost with r ≤ c, given
// as a function of (row, col). Every row is matched. It returns colToRow,
// with -1 for the c−r unmatched columns.
//
// Rows are added one at a time. For each new row, a Dijkstra-like search over
// the columns, on reduced costs cost(i,j) − u[i] − v[j] ≥ 0, finds the
// cheapest augmenting path from that row to a free column. The potentials u
// and v are updated by the search distance so that reduced costs stay
// non-negative and are zero on every matched pair, and the matching is then
// flipped along the path.
func solveWide(r, c int, cost func(row, col int) float64) []int {
	// Index 0 of the column arrays is a virtual column that contains the row
	// being inserted, so real column j is stored at j+1.
	u := make([]float64, r)      // row potentials
	v := make([]float64, c+1)    // column potentials
	match := make([]int, c+1)    // row matched to each column, -1 when free
	prev := make([]int, c+1)     // previous column on the shortest path
	dist := make([]float64, c+1) // shortest reduced distance to each column
	done := make([]bool, c+1)    // columns whose distance is final
	for j := range match {
		match[j] = -1
	}

	for row := range r {
		match[0] = row
		for j := range dist {
			dist[j] = math.Inf(1)
			done[j] = false
		}
		col := 0
		for match[col] != -1 {
			done[col] = true
			i := match[col]
			delta := math.Inf(1)
			next := -1
			for j := 1; j <= c; j++ {
				if done[j] {
					continue
				}
				reduced := cost(i, j-1) - u[i] - v[j]
				if reduced < dist[j] {
					dist[j] = reduced
					prev[j] = col
				}
				if dist[j] < delta {
					delta = dist[j]
					next = j
				}
			}
			// Shift the potentials by delta. Columns in the search tree move
			// together with their rows, and the other columns get closer.
			for j := 0; j <= c; j++ {
				if done[j] {
					u[match[j]] += delta
					v[j] -= delta
				} else {
					dist[j] -= delta
				}
			}
			col = next
		}
		// Augment: walk the path back to the virtual column, moving each
		// row one column along it.
		for col != 0 {
			before := prev[col]
			match[col] = match[before]
			col = before
		}
	}

	colToRow := make([]int, c)
	copy(colToRow, match[1:])
	return colToRow
}
