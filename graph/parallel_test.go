package graph

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParallelRowsCoversEveryRowOnce(t *testing.T) {
	for _, rows := range []int{0, 1, 7, 1000, 40000} {
		seen := make([]int32, rows)
		ParallelRows(rows, 64, func(lo, hi int) {
			for r := lo; r < hi; r++ {
				seen[r]++ // ranges are disjoint: no two goroutines write one element
			}
		})
		for r, n := range seen {
			require.Equal(t, int32(1), n, "rows=%d row %d", rows, r)
		}
	}
}

// ParallelWorkers passes every range a distinct index below Workers, so that
// per-range scratch space of Workers(rows, perRow) slots is enough.
func TestParallelWorkersIndices(t *testing.T) {
	for _, rows := range []int{0, 1, 7, 1000, 40000} {
		n := Workers(rows, 64)
		used := make([]int32, n)
		seen := make([]int32, rows)
		ParallelWorkers(rows, 64, func(w, lo, hi int) {
			used[w]++
			for r := lo; r < hi; r++ {
				seen[r]++
			}
		})
		for w, c := range used {
			require.Equal(t, int32(1), c, "rows=%d worker %d", rows, w)
		}
		for r, c := range seen {
			require.Equal(t, int32(1), c, "rows=%d row %d", rows, r)
		}
	}
}

// While ParallelWorkers' ranges run, OpenBLAS keeps to the calling thread, and
// its thread count comes back afterwards, also after nested calls.
func TestParallelWorkersRunBLASSerially(t *testing.T) {
	if Workers(1000, 1<<10) < 2 || blasThreads() == 0 {
		t.Skip("needs two cores and OpenBLAS")
	}
	SetBLASThreads(2)
	var inside [2]int
	ParallelWorkers(2, 1<<15, func(w, _, _ int) {
		if w == 0 {
			ParallelWorkers(2, 1<<15, func(int, int, int) {})
		}
		inside[w] = blasThreads()
	})
	require.Equal(t, [2]int{1, 1}, inside)
	require.Equal(t, 2, blasThreads())
}
