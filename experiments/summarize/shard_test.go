package summarize

import (
	"context"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/datasets/batch"
	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/models/pointer"
	"github.com/triadml/triad/solvers"
	"github.com/triadml/triad/train"
	"github.com/triadml/triad/train/traintest"
)

// trainIn trains cfg in dir as Run does, in the group of comm (nil: one
// process).
func trainIn(cfg Config, dir string, comm train.Comm) error {
	trainSet, validSet, voc, err := loadData(cfg)
	if err != nil {
		return err
	}
	store := graph.NewStore(tensor.Float32, graph.NewRNG(cfg.Seed, "init"))
	model, err := pointer.New(store, cfg.model(voc.Len()))
	if err != nil {
		return err
	}
	t, err := newTask(cfg, model, store, voc, trainSet, validSet)
	if err != nil {
		return err
	}
	defer t.close()
	ad := solvers.DefaultAdamConfig()
	ad.LR = cfg.LR
	solver, err := solvers.NewAdam(ad)
	if err != nil {
		return err
	}
	loop := &train.Loop{Dir: dir, Common: cfg.Common, Comm: comm, Log: io.Discard, Store: store, Solver: solver,
		ClipNorm: cfg.ClipNorm, Task: t, Best: "val_rouge", BestMax: true,
		Schedule: solvers.WarmupDecay{Base: cfg.LR, Decay: cfg.Decay, After: cfg.DecayAfter, StepsPerEpoch: t.StepsPerEpoch()}}
	_, err = loop.Run(context.Background())
	return err
}

// writeVaried writes articles of 4 to 14 words of a small vocabulary, with
// headlines of their first 1 to 5 words (some left out, to be copied), in
// the Gigaword sample's layout.
func writeVaried(dir string, train, valid int) error {
	rng := graph.NewRNG(4, "articles")
	words := strings.Fields("the bank port said on monday in paris officials open close visit plant")
	return writeGigaword(dir, train, valid, func(i int) (article, title string) {
		art := []string{"zq" + strconv.Itoa(i) + "x"}
		for range 3 + rng.IntN(11) {
			art = append(art, words[rng.IntN(len(words))])
		}
		return strings.Join(art, " "), strings.Join(art[:1+rng.IntN(min(5, len(art)))], " ")
	})
}

// Two ranks train as one process does, to rounding, with and without copying:
// length buckets whose last batches split unevenly, headlines of different
// lengths (shards of different token counts); a group of one is one process,
// bit for bit.
func TestSharded(t *testing.T) {
	data := t.TempDir()
	require.NoError(t, writeVaried(data, 41, 6))
	for _, copying := range []bool{true, false} {
		cfg := DefaultConfig()
		cfg.DataDir, cfg.Copy, cfg.Embed, cfg.Hidden, cfg.AttnDim = data, copying, 8, 8, 8
		cfg.Batch, cfg.Dropout, cfg.Epochs, cfg.LogEvery, cfg.EvalEvery = 6, 0, 2, 2, 5
		cfg.EvalSize, cfg.Beam, cfg.MaxDecode = 3, 2, 8
		run := func(dir string, comm train.Comm) error { return trainIn(cfg, dir, comm) }
		single := traintest.Group(t, 0, run)
		traintest.RequireSameRuns(t, single, traintest.Group(t, 2, run), 1e-4)
		traintest.RequireSameRuns(t, single, traintest.Group(t, 1, run), 0)
	}

	cfg := DefaultConfig()
	cfg.Batch = 5
	tk := &task{cfg: cfg, progs: graph.NewPrograms(func(batch.Shape) (*pointer.Program, error) { return nil, errors.New("not built") })}
	require.True(t, train.IsUsage(tk.SetShard(0, 2)), "batch 5 does not split into 2 ranks")
	require.Error(t, tk.SetShard(2, 2))
}
