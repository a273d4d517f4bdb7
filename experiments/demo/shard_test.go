package demo

import (
	"context"
	"io"
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/solvers"
	"github.com/triadml/triad/train"
	"github.com/triadml/triad/train/traintest"
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
		single := traintest.Group(t, 0, run)
		traintest.RequireSameRuns(t, single, traintest.Group(t, 2, run), 1e-4)
		traintest.RequireSameRuns(t, single, traintest.Group(t, 1, run), 0)
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
