package ctc

import (
	"context"
	"errors"
	"io"
	"math"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/triadml/triad/datasets/audio"
	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/solvers"
	"github.com/triadml/triad/train"
)

// trainIn trains cfg on corpus in dir as Run does, in the group of comm (nil:
// one process).
func trainIn(cfg Config, corpus *audio.DigitCorpus, dir string, comm train.Comm) error {
	t, err := newTask(cfg, corpus)
	if err != nil {
		return err
	}
	defer t.Close()
	sched, err := solvers.CosineOver(cfg.LR, cfg.MinLR, cfg.Warmup, cfg.Common.TotalSteps(cfg.StepsPerEpoch))
	if err != nil {
		return err
	}
	loop := &train.Loop{Dir: dir, Common: cfg.Common, Comm: comm, Log: io.Discard, Store: t.store, Solver: t.solver,
		Schedule: sched, ClipNorm: cfg.ClipNorm, Task: t, Best: "test_der"}
	_, err = loop.Run(context.Background())
	return err
}

// trainGroup trains in a new directory with n ranks of a local group (0: one
// process alone) and returns the directory.
func trainGroup(t *testing.T, n int, run func(dir string, comm train.Comm) error) string {
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
		wg.Add(1)
		go func() {
			defer wg.Done()
			if errs[r] = run(dir, comms[r]); errs[r] != nil {
				comms[r].Abort(1)
			}
		}()
	}
	wg.Wait()
	require.NoError(t, errors.Join(errs...))
	return dir
}

// requireSameRuns checks that two run directories hold the same metrics and
// last checkpoint, every number within tol*max(1, |want|) (tol 0: equal).
func requireSameRuns(t *testing.T, want, got string, tol float64) {
	t.Helper()
	wp, err := train.ReadMetrics(want)
	require.NoError(t, err)
	gp, err := train.ReadMetrics(got)
	require.NoError(t, err)
	require.Len(t, gp, len(wp))
	for i, w := range wp {
		require.Equal(t, w.Step, gp[i].Step)
		require.Equal(t, len(w.Metrics), len(gp[i].Metrics), "step %d: %v against %v", w.Step, w.Metrics, gp[i].Metrics)
		for k, v := range w.Metrics {
			require.Contains(t, gp[i].Metrics, k)
			require.InDelta(t, v, gp[i].Metrics[k], tol*math.Max(1, math.Abs(v)), "step %d %s", w.Step, k)
		}
	}
	wt, _, err := graph.LoadTensors(filepath.Join(want, "checkpoints", "last.safetensors"))
	require.NoError(t, err)
	gt, _, err := graph.LoadTensors(filepath.Join(got, "checkpoints", "last.safetensors"))
	require.NoError(t, err)
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

// Two ranks, each on half of every step's utterances, train as one process
// does, to rounding, with silence padding and with masks; a group of one is
// one process, bit for bit.
func TestSharded(t *testing.T) {
	corpus, err := audio.LoadDigitCorpus(toneData(t))
	require.NoError(t, err)
	for _, pad := range []string{"silence", "mask"} {
		cfg := tinyConfig()
		cfg.Pad, cfg.Dropout, cfg.LogEvery, cfg.EvalEvery = pad, 0, 1, 2
		run := func(dir string, comm train.Comm) error { return trainIn(cfg, corpus, dir, comm) }
		single := trainGroup(t, 0, run)
		requireSameRuns(t, single, trainGroup(t, 2, run), 1e-4)
		requireSameRuns(t, single, trainGroup(t, 1, run), 0)
	}

	odd := tinyConfig()
	odd.Batch = 3
	tk, err := newTask(odd, corpus)
	require.NoError(t, err)
	defer tk.Close()
	require.True(t, train.IsUsage(tk.SetShard(0, 2)), "batch 3 does not split into 2 ranks")
	require.Error(t, tk.SetShard(2, 2))
}
