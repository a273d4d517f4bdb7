// Package traintest holds what the tests of several experiments do with runs:
// read a run's metrics, train in a local group of ranks, and compare two runs'
// metrics and checkpoints.
package traintest

import (
	"math"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/train"
)

// Points returns the points of the run in dir's metrics.jsonl, those of split
// alone where split is not "" ("train", "val").
func Points(t testing.TB, dir, split string) []train.Point {
	t.Helper()
	pts, err := train.ReadMetrics(dir)
	require.NoError(t, err)
	if split == "" {
		return pts
	}
	var out []train.Point
	for _, p := range pts {
		if p.Split == split {
			out = append(out, p)
		}
	}
	return out
}

// Group trains with run in a new directory, which it returns: one process
// alone (comm nil) where n is 0, else a local group of n ranks, each in its
// own goroutine; a rank that fails aborts the group.
func Group(t testing.TB, n int, run func(dir string, comm train.Comm) error) string {
	t.Helper()
	dir := t.TempDir()
	if n == 0 {
		require.NoError(t, run(dir, nil))
		return dir
	}
	comms := train.NewLocalComms(n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for r := range comms {
		wg.Go(func() {
			if errs[r] = run(dir, comms[r]); errs[r] != nil {
				comms[r].Abort(1)
			}
		})
	}
	wg.Wait()
	for r, err := range errs {
		require.NoError(t, err, "rank %d", r)
	}
	return dir
}

// RequireSameMetrics checks that two runs wrote the same metrics: the same
// steps, each with the same metrics, every value within tol*max(1, |want|) of
// the wanted one (tol 0: equal).
func RequireSameMetrics(t testing.TB, want, got string, tol float64) {
	t.Helper()
	wp, gp := Points(t, want, ""), Points(t, got, "")
	require.NotEmpty(t, wp)
	require.Len(t, gp, len(wp))
	for i, w := range wp {
		require.Equal(t, w.Step, gp[i].Step)
		require.Equal(t, len(w.Metrics), len(gp[i].Metrics), "step %d: %v against %v", w.Step, w.Metrics, gp[i].Metrics)
		for k, v := range w.Metrics {
			require.Contains(t, gp[i].Metrics, k)
			require.InDelta(t, v, gp[i].Metrics[k], tol*math.Max(1, math.Abs(v)), "step %d %s", w.Step, k)
		}
	}
}

// RequireSameCheckpoints checks that two runs' last checkpoints hold the same
// tensors, every value within tol*max(1, |want|) of the wanted one (tol 0:
// equal).
func RequireSameCheckpoints(t testing.TB, want, got string, tol float64) {
	t.Helper()
	wt, _, err := graph.LoadTensors(filepath.Join(want, "checkpoints", "last.safetensors"))
	require.NoError(t, err)
	gt, _, err := graph.LoadTensors(filepath.Join(got, "checkpoints", "last.safetensors"))
	require.NoError(t, err)
	require.NotEmpty(t, wt)
	require.Len(t, gt, len(wt))
	for k, w := range wt {
		require.Contains(t, gt, k)
		a, b := graph.Float64s(w), graph.Float64s(gt[k])
		require.Len(t, b, len(a), k)
		for i, v := range a {
			require.InDelta(t, v, b[i], tol*math.Max(1, math.Abs(v)), "%s[%d]", k, i)
		}
	}
}

// RequireSameRuns checks that two runs wrote the same metrics and the same
// last checkpoint, every number within tol*max(1, |want|) of the wanted one
// (tol 0: equal).
func RequireSameRuns(t testing.TB, want, got string, tol float64) {
	t.Helper()
	RequireSameMetrics(t, want, got, tol)
	RequireSameCheckpoints(t, want, got, tol)
}
