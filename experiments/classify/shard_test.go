package classify

import (
	"context"
	"errors"
	"io"
	"testing"

	"github.com/stretchr/testify/require"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/datasets/vocab"
	"github.com/triadml/triad/graph"
	classifier "github.com/triadml/triad/models/classify"
	"github.com/triadml/triad/solvers"
	"github.com/triadml/triad/train"
	"github.com/triadml/triad/train/traintest"
)

// toyData returns n training and m validation sentences of random words of a
// vocabulary of 20, labelled by whether word 0 occurs more often than word 1.
func toyData(n, m int) *data {
	rng := graph.NewRNG(3, "sentences")
	d := &data{labels: []string{"no", "yes"}}
	draw := func() ([]int, int) {
		s := make([]int, 1+rng.IntN(12))
		count := 0
		for i := range s {
			s[i] = vocab.NumSpecial + rng.IntN(20)
			switch s[i] {
			case vocab.NumSpecial:
				count++
			case vocab.NumSpecial + 1:
				count--
			}
		}
		if count > 0 {
			return s, 1
		}
		return s, 0
	}
	for range n {
		s, y := draw()
		d.train, d.trainY = append(d.train, s), append(d.trainY, y)
	}
	for range m {
		s, y := draw()
		d.val, d.valY = append(d.val, s), append(d.valY, y)
	}
	return d
}

// trainIn trains cfg on d in dir as a split does (with plain SGD instead of
// Adam when sgd), in the group of comm (nil: one process).
func trainIn(cfg Config, sgd bool, d *data, dir string, comm train.Comm) error {
	store := graph.NewStore(tensor.Float32, graph.NewRNG(cfg.Seed, "init"))
	model, err := classifier.New(store, cfg.model(vocab.NumSpecial+20, len(d.labels)))
	if err != nil {
		return err
	}
	t, err := newTask(cfg, model, store, d)
	if err != nil {
		return err
	}
	defer t.close()
	solver, err := cfg.Solver("adam", solvers.Hyper{"lr": cfg.LR, "weight_decay": cfg.WeightDecay})
	if sgd {
		solver, err = solvers.New("sgd", solvers.Hyper{"lr": cfg.LR})
	}
	if err != nil {
		return err
	}
	loop := &train.Loop{Dir: dir, Common: cfg.Common, Comm: comm, Log: io.Discard, Store: store, Solver: solver,
		ClipNorm: cfg.ClipNorm, Task: t, Best: "val_acc", BestMax: true,
		Schedule: solvers.WarmupDecay{Base: cfg.LR, Decay: cfg.Decay, After: 1, StepsPerEpoch: t.StepsPerEpoch()}}
	_, err = loop.Run(context.Background())
	return err
}

// Two ranks train as one process does, to rounding, for both encoders: 50
// sentences in length buckets, batches of 6 whose last ones in a bucket split
// unevenly, word dropout drawn for the whole batch; a group of one is one
// process, bit for bit. (The Transformer trains with SGD here: Adam turns the
// rounding noise of gradients that are zero in exact arithmetic, such as
// those of the key biases, into whole steps of either sign.)
func TestSharded(t *testing.T) {
	d := toyData(50, 20)
	for _, enc := range []string{"bilstm-attn", "transformer"} {
		cfg := DefaultConfig()
		cfg.Dataset, cfg.Encoder, cfg.Embed, cfg.Hidden, cfg.Heads, cfg.FF = "snips", enc, 8, 8, 2, 8
		cfg.Batch, cfg.Dropout, cfg.WordDrop, cfg.Epochs, cfg.LogEvery, cfg.EvalEvery = 6, 0, 0.2, 2, 2, 5
		run := func(dir string, comm train.Comm) error { return trainIn(cfg, enc == "transformer", d, dir, comm) }
		single := traintest.Group(t, 0, run)
		traintest.RequireSameRuns(t, single, traintest.Group(t, 2, run), 1e-4)
		traintest.RequireSameRuns(t, single, traintest.Group(t, 1, run), 0)
	}

	cfg := DefaultConfig()
	cfg.Batch = 5
	tk := &task{cfg: cfg, progs: graph.NewPrograms(func(int) (*classifier.Program, error) { return nil, errors.New("not built") })}
	require.True(t, train.IsUsage(tk.SetShard(0, 2)), "batch 5 does not split into 2 ranks")
	require.Error(t, tk.SetShard(2, 2))
}
