package ctc

import (
	"context"
	"io"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/triadml/triad/datasets/audio"
	"github.com/triadml/triad/solvers"
	"github.com/triadml/triad/train"
	"github.com/triadml/triad/train/traintest"
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
		single := traintest.Group(t, 0, run)
		traintest.RequireSameRuns(t, single, traintest.Group(t, 2, run), 1e-4)
		traintest.RequireSameRuns(t, single, traintest.Group(t, 1, run), 0)
	}

	odd := tinyConfig()
	odd.Batch = 3
	tk, err := newTask(odd, corpus)
	require.NoError(t, err)
	defer tk.Close()
	require.True(t, train.IsUsage(tk.SetShard(0, 2)), "batch 3 does not split into 2 ranks")
	require.Error(t, tk.SetShard(2, 2))
}
