package graph

import (
	"runtime"
	"sync"
)

// parallelMinWork is the number of elements of work below which ParallelRows
// runs on the calling goroutine.
const parallelMinWork = 1 << 15

// Workers returns how many ranges ParallelRows and ParallelWorkers split rows
// rows of perRow elements each into: one per available core when the work is
// worth it, otherwise 1.
func Workers(rows, perRow int) int {
	w := min(runtime.GOMAXPROCS(0), rows)
	if w < 2 || rows*perRow < parallelMinWork {
		return 1
	}
	chunk := (rows + w - 1) / w
	return (rows + chunk - 1) / chunk
}

// ParallelRows runs f over [0, rows) split into Workers(rows, perRow)
// contiguous ranges, run in parallel, the first on the calling goroutine. The
// split depends only on rows, perRow and GOMAXPROCS; where rows are computed
// independently, the results do not depend on it at all.
func ParallelRows(rows, perRow int, f func(lo, hi int)) {
	ParallelWorkers(rows, perRow, func(_, lo, hi int) { f(lo, hi) })
}

// ParallelWorkers is ParallelRows that also passes each range's index w, in
// [0, Workers(rows, perRow)), for scratch space of the range's own. While the
// ranges run in parallel, Gemm runs each product on its caller's thread.
func ParallelWorkers(rows, perRow int, f func(w, lo, hi int)) {
	workers := Workers(rows, perRow)
	if workers < 2 {
		f(0, 0, rows)
		return
	}
	defer serialBLAS()()
	chunk := (rows + workers - 1) / workers
	var wg sync.WaitGroup
	for w := 1; w*chunk < rows; w++ {
		wg.Add(1)
		go func(w, lo, hi int) {
			defer wg.Done()
			f(w, lo, hi)
		}(w, w*chunk, min((w+1)*chunk, rows))
	}
	f(0, 0, min(chunk, rows))
	wg.Wait()
}

// ParallelElems runs f over [0, n) split as ParallelRows splits blocks of
// parallelMinWork elements, for elementwise loops: f gets element ranges.
func ParallelElems(n int, f func(lo, hi int)) {
	ParallelRows(n/parallelMinWork+1, parallelMinWork, func(lo, hi int) {
		f(lo*parallelMinWork, min(hi*parallelMinWork, n))
	})
}
