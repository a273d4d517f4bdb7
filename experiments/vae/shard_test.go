package vae

import (
	"context"
	"errors"
	"io"
	"math"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
	vaemodel "github.com/triadml/triad/models/vae"
	"github.com/triadml/triad/solvers"
	"github.com/triadml/triad/train"
)

// trainIn trains cfg on data in dir as RunOn does, in the group of comm (nil:
// one process).
func trainIn(cfg Config, data Data, dir string, comm train.Comm) error {
	mc, err := cfg.modelConfig(data.Pixels())
	if err != nil {
		return err
	}
	store := graph.NewStore(tensor.Float32, graph.NewRNG(cfg.Seed, "init"))
	model, err := vaemodel.New(store, mc)
	if err != nil {
		return err
	}
	m := NewModel(store, model)
	defer m.Close()
	task := newTask(cfg, m, data, dir)
	defer task.close()
	solver, err := solvers.New("adam", solvers.Hyper{"lr": cfg.LR})
	if err != nil {
		return err
	}
	loop := &train.Loop{Dir: dir, Common: cfg.Common, Comm: comm, Log: io.Discard,
		Store: store, Solver: solver, ClipNorm: cfg.ClipNorm, Task: task, Best: "test_nelbo"}
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

// Two ranks train and evaluate as one process does, to rounding: 101 images in
// batches of 32 (a last batch of 5, split 2 and 3), 51 test images, the latent
// noise of every image the single process's; a group of one is one process,
// bit for bit (but for the training sums of its checkpoint, kept in float32).
func TestSharded(t *testing.T) {
	const side = 6
	data := Data{Train: blobImages(5, 101, side), Test: blobImages(6, 51, side), Rows: side, Cols: side}
	cfg := DefaultConfig()
	cfg.Batch, cfg.Hidden, cfg.Latent, cfg.IWAEK = 32, "8", 2, ""
	cfg.Epochs, cfg.LogEvery, cfg.EvalEvery, cfg.CheckpointEvery = 2, 1, 3, 5
	run := func(dir string, comm train.Comm) error { return trainIn(cfg, data, dir, comm) }
	single := trainGroup(t, 0, run)
	requireSameRuns(t, single, trainGroup(t, 2, run), 1e-4)
	one := trainGroup(t, 1, run)
	requireSameRuns(t, single, one, 1e-7)
	wp, err := train.ReadMetrics(single)
	require.NoError(t, err)
	gp, err := train.ReadMetrics(one)
	require.NoError(t, err)
	require.Equal(t, wp, gp)

	// a checkpoint of 2 ranks (step 5, with the training sums since step 3)
	// resumes in one process as one of a single process does
	resume := func(n int) string {
		dir := trainGroup(t, n, func(dir string, comm train.Comm) error {
			c := cfg
			c.MaxSteps = 5
			return trainIn(c, data, dir, comm)
		})
		c := cfg
		c.Resume = dir
		require.NoError(t, trainIn(c, data, dir, nil))
		return dir
	}
	requireSameRuns(t, resume(0), resume(2), 1e-4)

	odd := cfg
	odd.Batch = 3
	none := func(int) (*vaemodel.ELBOProgram, error) { return nil, errors.New("not built") }
	tk := &task{cfg: odd, progs: graph.NewPrograms(none), evals: graph.NewPrograms(none)}
	require.True(t, train.IsUsage(tk.SetShard(0, 2)), "batch 3 does not split into 2 ranks")
	require.Error(t, tk.SetShard(2, 2))
}
