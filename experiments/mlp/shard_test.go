package mlp

import (
	"context"
	"io"
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/train"
	"github.com/triadml/triad/train/traintest"
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

// Two ranks, each on half of every batch, train as one process does, to
// rounding; a group of one is one process, bit for bit.
func TestSharded(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Hidden, cfg.Dropout, cfg.Batch, cfg.ClipNorm = 16, 0, 16, 1
	cfg.Epochs, cfg.LogEvery, cfg.EvalEvery = 2, 2, 4
	run := func(dir string, comm train.Comm) error { return trainIn(cfg, dir, comm) }
	single := traintest.Group(t, 0, run)
	traintest.RequireSameRuns(t, single, traintest.Group(t, 2, run), 1e-4)
	traintest.RequireSameRuns(t, single, traintest.Group(t, 1, run), 0)

	odd := cfg
	odd.Batch = 5
	tk := &task{cfg: odd}
	require.True(t, train.IsUsage(tk.SetShard(0, 2)), "batch 5 does not split into 2 ranks")
	require.Error(t, tk.SetShard(2, 2))
}

// crossEntropy is -log softmax(logits)[y], steady for large logits.
func TestCrossEntropy(t *testing.T) {
	require.InDelta(t, math.Log(4.0/3), crossEntropy([]float32{0, float32(math.Log(3))}, 1), 1e-7)
	require.InDelta(t, math.Log(2), crossEntropy([]float32{1000, 1000}, 0), 1e-12)
}
