package mlp

import (
	"context"
	"errors"
	"io"
	"math"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/train"
)

// randomImages returns n images of noise whose label is the brightest of ten
// stripes, which an MLP learns in a few steps.
func randomImages(seed uint64, n int) images {
	rng := graph.NewRNG(seed, "images")
	d := images{x: make([]float32, n*pixels), y: make([]int, n)}
	for i := range n {
		d.y[i] = rng.IntN(classes)
		for p := range pixels {
			v := 0.5 * rng.Float32()
			if p%classes == d.y[i] {
				v += 0.5
			}
			d.x[i*pixels+p] = v
		}
	}
	return d
}

// trainIn trains cfg on generated images in dir as Run does, in the group of
// comm (nil: one process).
func trainIn(cfg Config, dir string, comm train.Comm) error {
	model, err := NewModel(cfg)
	if err != nil {
		return err
	}
	t := &task{cfg: cfg, model: model, train: randomImages(1, 96), val: randomImages(2, 30)}
	if t.prog, err = model.Build(graph.Train, cfg.Batch); err != nil {
		return err
	}
	if t.eval, err = model.Build(graph.Eval, cfg.Batch); err != nil {
		return err
	}
	solver, err := cfg.Solver("adam", map[string]any{"lr": cfg.LR})
	if err != nil {
		return err
	}
	loop := &train.Loop{Dir: dir, Common: cfg.Common, Comm: comm, Log: io.Discard,
		Store: model.Store, Solver: solver, ClipNorm: cfg.ClipNorm, Task: t, Best: "val_acc", BestMax: true}
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

// Two ranks, each on half of every batch, train as one process does, to
// rounding; a group of one is one process, bit for bit.
func TestSharded(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Hidden, cfg.Dropout, cfg.Batch, cfg.ClipNorm = 16, 0, 16, 1
	cfg.Epochs, cfg.LogEvery, cfg.EvalEvery = 2, 2, 4
	run := func(dir string, comm train.Comm) error { return trainIn(cfg, dir, comm) }
	single := trainGroup(t, 0, run)
	requireSameRuns(t, single, trainGroup(t, 2, run), 1e-4)
	requireSameRuns(t, single, trainGroup(t, 1, run), 0)

	odd := cfg
	odd.Batch = 5
	tk := &task{cfg: odd}
	require.True(t, train.IsUsage(tk.SetShard(0, 2)), "batch 5 does not split into 2 ranks")
	require.Error(t, tk.SetShard(2, 2))
}
