package translate

import (
	"context"
	"errors"
	"io"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/triadml/triad/datasets/batch"
	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/models/seq2seq"
	"github.com/triadml/triad/solvers"
	"github.com/triadml/triad/train"
	"github.com/triadml/triad/train/traintest"
)

// trainIn trains cfg in dir as Run does (with plain SGD instead of Adam when
// sgd), in the group of comm (nil: one process).
func trainIn(cfg Config, sgd bool, dir string, comm train.Comm) error {
	trainPairs, valPairs, err := loadPairs(cfg)
	if err != nil {
		return err
	}
	src, tgt, err := sides(cfg, dir, trainPairs, false)
	if err != nil {
		return err
	}
	m, err := newModel(cfg, src.voc.Len(), tgt.voc.Len())
	if err != nil {
		return err
	}
	t, err := newTask(cfg, m, src, tgt, trainPairs, valPairs, dir, io.Discard)
	if err != nil {
		return err
	}
	defer t.close()
	solver, err := cfg.Common.Solver("adam", solvers.Hyper{"lr": cfg.LR, "beta2": cfg.Beta2, "weight_decay": cfg.WeightDecay})
	if sgd {
		solver, err = solvers.New("sgd", solvers.Hyper{"lr": cfg.LR})
	}
	if err != nil {
		return err
	}
	sched, err := cfg.schedule(t.StepsPerEpoch())
	if err != nil {
		return err
	}
	loop := &train.Loop{Dir: dir, Common: cfg.Common, Comm: comm, Log: io.Discard, Store: m.store, Solver: solver,
		Schedule: sched, ClipNorm: cfg.ClipNorm, Task: t, Best: "val_bleu_lc", BestMax: true}
	_, err = loop.Run(context.Background())
	return err
}

// Two ranks train as one process does, to rounding: the recurrent model with
// whole batches and with batches in parts (--max-tokens), and the
// Transformer; length buckets whose last batches are filled up by repeating
// their pairs, and targets of different lengths; a group of one is one
// process, bit for bit (to float32 rounding of the loss of a batch in parts). (With SGD: Adam's first steps turn the rounding noise
// of gradients that are zero in exact arithmetic, such as those of attention
// biases, into whole steps of either sign.)
func TestSharded(t *testing.T) {
	data := corpus(t, 60, 6)
	for _, c := range []struct {
		model     string
		maxTokens int
	}{{"gru-attn", 0}, {"gru-attn", 40}, {"transformer", 0}} {
		cfg := tinyTransformer(data)
		cfg.Model, cfg.Vocab, cfg.Embed, cfg.Hidden, cfg.MaxTokens = c.model, "word", 8, 8, c.maxTokens
		cfg.Batch, cfg.Dropout, cfg.LabelSmoothing, cfg.Epochs, cfg.EvalEvery = 8, 0, 0.1, 2, 6
		cfg.Schedule, cfg.EvalSize = "constant", 4
		run := func(dir string, comm train.Comm) error { return trainIn(cfg, true, dir, comm) }
		single := traintest.Group(t, 0, run)
		traintest.RequireSameRuns(t, single, traintest.Group(t, 2, run), 1e-4)
		// one process's loss of a batch in parts is a float64 that the group's
		// reduction rounds to float32
		traintest.RequireSameRuns(t, single, traintest.Group(t, 1, run), map[bool]float64{true: 1e-7}[c.maxTokens > 0])
	}

	cfg := DefaultConfig()
	cfg.Batch = 5
	tk := &task{cfg: cfg, progs: graph.NewPrograms(func(batch.Shape) (seq2seq.PairProgram, error) { return nil, errors.New("not built") })}
	require.True(t, train.IsUsage(tk.SetShard(0, 2)), "batch 5 does not split into 2 ranks")
	require.Error(t, tk.SetShard(2, 2))
}
