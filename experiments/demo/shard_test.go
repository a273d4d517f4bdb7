package demo

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
	"github.com/triadml/triad/solvers"
	"github.com/triadml/triad/train"
)

// trainIn trains cfg in dir as Run does (with plain SGD instead of Adam when
// sgd), in the group of comm (nil: one process).
func trainIn(cfg Config, sgd bool, dir string, comm train.Comm) error {
	t, err := newTask(cfg)
	if err != nil {
		return err
	}
	defer t.close()
	adam := solvers.DefaultAdamConfig()
	adam.LR = cfg.LR
	var solver solvers.Solver
	if solver, err = solvers.NewAdam(adam); sgd {
		solver, err = solvers.New("sgd", solvers.Hyper{"lr": cfg.LR})
	}
	if err != nil {
		return err
	}
	sched, err := solvers.CosineOver(cfg.LR, cfg.LR/10, cfg.Warmup, cfg.Common.TotalSteps(StepsPerEpoch))
	if err != nil {
		return err
	}
	loop := &train.Loop{Dir: dir, Common: cfg.Common, Comm: comm, Log: io.Discard, Store: t.store, Solver: solver,
		Schedule: sched, ClipNorm: cfg.ClipNorm, Task: t, Best: "val_exact", BestMax: true}
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
// rounding, for both models; a group of one is one process, bit for bit. (The
// Transformer trains with SGD here: Adam turns the rounding noise of
// gradients that are zero in exact arithmetic, such as those of the key
// biases, into whole steps of either sign.)
func TestSharded(t *testing.T) {
	for _, model := range []string{"rnn", "transformer"} {
		cfg := tiny(model, "")
		cfg.Dropout, cfg.MaxSteps, cfg.EvalEvery, cfg.Warmup = 0, 6, 3, 2
		run := func(dir string, comm train.Comm) error { return trainIn(cfg, model == "transformer", dir, comm) }
		single := trainGroup(t, 0, run)
		requireSameRuns(t, single, trainGroup(t, 2, run), 1e-4)
		requireSameRuns(t, single, trainGroup(t, 1, run), 0)
	}

	odd := tiny("rnn", "")
	odd.Batch = 3
	tk, err := newTask(odd)
	require.NoError(t, err)
	defer tk.close()
	require.True(t, train.IsUsage(tk.SetShard(0, 2)), "batch 3 does not split into 2 ranks")
	require.Error(t, tk.SetShard(2, 2))
	require.Equal(t, 8, targetTokens([][]int{{1, 2}, {}, {3, 4, 5}}))
}

// A shard's gradient is scaled by its share of the batch's target tokens, so
// that the mean over the ranks is the gradient of the batch's mean loss per
// token, here with targets of different lengths.
func TestShardWeights(t *testing.T) {
	cfg := tiny("rnn", "")
	cfg.Dropout = 0
	grads := func(tk *task) [][]float64 {
		var out [][]float64
		for _, p := range tk.store.Params() {
			out = append(out, graph.Float64s(p.Grad))
		}
		tk.store.ZeroGrads()
		return out
	}
	batch := func(tk *task) (srcs, tgts [][]int) {
		for i, p := range tk.test[:cfg.Batch] {
			srcs = append(srcs, tk.src.encode(p.Source))
			tgts = append(tgts, tk.tgt.encode(p.Target)[:1+3*i])
		}
		return srcs, tgts
	}
	one, err := newTask(cfg)
	require.NoError(t, err)
	defer one.close()
	srcs, tgts := batch(one)
	prog, err := one.progs.Get(one.srcLen)
	require.NoError(t, err)
	_, err = prog.Feed(srcs, tgts)
	require.NoError(t, err)
	require.NoError(t, prog.Run())
	want := grads(one)

	var got [][]float64
	for r := range 2 {
		tk, err := newTask(cfg)
		require.NoError(t, err)
		defer tk.close()
		require.NoError(t, tk.SetShard(r, 2))
		prog, err := tk.progs.Get(tk.srcLen)
		require.NoError(t, err)
		_, err = tk.trainShard(prog, srcs, tgts, nil)
		require.NoError(t, err)
		g := grads(tk)
		if got == nil {
			got = g
			continue
		}
		for i := range g {
			for j := range g[i] {
				got[i][j] = (got[i][j] + g[i][j]) / 2
			}
		}
	}
	for i := range want {
		for j, v := range want[i] {
			require.InDelta(t, v, got[i][j], 1e-5*math.Max(1, math.Abs(v)), "parameter %d [%d]", i, j)
		}
	}
}
