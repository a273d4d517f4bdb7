package summarize

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/models/pointer"
	"github.com/triadml/triad/train"
)

// The report, beam search over the whole validation set, takes longer than
// training in a short run: a cancelled context stops it too.
func TestReportInterrupted(t *testing.T) {
	cfg := DefaultConfig()
	cfg.DataDir, cfg.Embed, cfg.Hidden, cfg.AttnDim, cfg.Batch = t.TempDir(), 8, 8, 8, 8
	require.NoError(t, WriteToyGigaword(cfg.DataDir, 16, 4))
	trainSet, validSet, voc, err := loadData(cfg)
	require.NoError(t, err)
	store := graph.NewStore(tensor.Float32, graph.NewRNG(cfg.Seed, "init"))
	model, err := pointer.New(store, cfg.model(voc.Len()))
	require.NoError(t, err)
	tk, err := newTask(cfg, model, store, voc, trainSet, validSet)
	require.NoError(t, err)
	defer tk.close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = tk.report(ctx, t.TempDir(), &train.Summary{}, time.Now())
	require.ErrorIs(t, err, train.ErrInterrupted)
}
