package vae

import (
	"context"
	"errors"
	"io"
	"testing"

	"github.com/stretchr/testify/require"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
	vaemodel "github.com/triadml/triad/models/vae"
	"github.com/triadml/triad/solvers"
	"github.com/triadml/triad/train"
	"github.com/triadml/triad/train/traintest"
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
	single := traintest.Group(t, 0, run)
	traintest.RequireSameRuns(t, single, traintest.Group(t, 2, run), 1e-4)
	one := traintest.Group(t, 1, run)
	traintest.RequireSameRuns(t, single, one, 1e-7)
	wp, err := train.ReadMetrics(single)
	require.NoError(t, err)
	gp, err := train.ReadMetrics(one)
	require.NoError(t, err)
	require.Equal(t, wp, gp)

	// a checkpoint of 2 ranks (step 5, with the training sums since step 3)
	// resumes in one process as one of a single process does
	resume := func(n int) string {
		dir := traintest.Group(t, n, func(dir string, comm train.Comm) error {
			c := cfg
			c.MaxSteps = 5
			return trainIn(c, data, dir, comm)
		})
		c := cfg
		c.Resume = dir
		require.NoError(t, trainIn(c, data, dir, nil))
		return dir
	}
	traintest.RequireSameRuns(t, resume(0), resume(2), 1e-4)

	odd := cfg
	odd.Batch = 3
	none := func(int) (*vaemodel.ELBOProgram, error) { return nil, errors.New("not built") }
	tk := &task{cfg: odd, progs: graph.NewPrograms(none), evals: graph.NewPrograms(none)}
	require.True(t, train.IsUsage(tk.SetShard(0, 2)), "batch 3 does not split into 2 ranks")
	require.Error(t, tk.SetShard(2, 2))
}
