package gpt

import (
	"context"
	"io"
	"math"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/internal/testenv"
)

// splitLoss predicts every token after the first exactly once, each from the
// tokens before it in its window of Block: the same as scoring each window by
// hand from the logits of a one-row program, whatever the rows of a batch.
func TestSplitLossScoresEveryTokenOnce(t *testing.T) {
	cfg := tinyConfig(t)
	data, err := loadCorpus(cfg)
	require.NoError(t, err)
	m, store, err := newModel(cfg, data.tok.Len())
	require.NoError(t, err)
	ids := data.val[:2*cfg.Block+5] // two whole windows and a part

	one, err := m.Build(store, graph.Eval, 1, cfg.Block)
	require.NoError(t, err)
	defer one.Close()
	want, n := 0.0, 0
	for at := 0; at < len(ids)-1; at += cfg.Block {
		end := min(at+cfg.Block, len(ids)-1)
		x := append(append([]int{}, ids[at:end]...), make([]int, cfg.Block-(end-at))...)
		require.NoError(t, one.Feed([][]int{x}, nil))
		require.NoError(t, one.Run())
		logits, err := one.Output("logits")
		require.NoError(t, err)
		v, vocab := graph.Slice[float32](logits), data.tok.Len()
		for j := range end - at {
			row := v[j*vocab : (j+1)*vocab]
			top := math.Inf(-1)
			for _, z := range row {
				top = max(top, float64(z))
			}
			lse := 0.0
			for _, z := range row {
				lse += math.Exp(float64(z) - top)
			}
			want += top + math.Log(lse) - float64(row[ids[at+j+1]])
			n++
		}
	}
	require.Equal(t, len(ids)-1, n)
	for _, rows := range []int{1, 2, 5} {
		got, err := splitLoss(m, store, ids, rows, cfg.Block)
		require.NoError(t, err)
		require.Equal(t, n, got.Tokens)
		require.InDelta(t, want/float64(n), got.Loss, 1e-5, "%d rows", rows)
	}
	_, err = splitLoss(m, store, ids[:1], 2, cfg.Block)
	require.Error(t, err)
}

// A run ends with the loss of its whole validation part in summary.json, and
// the loaded run gives the same figure.
func TestRunScoresTheWholeValidationPart(t *testing.T) {
	cfg := tinyConfig(t)
	sum, err := Run(context.Background(), cfg, io.Discard)
	require.NoError(t, err)
	require.NotNil(t, sum.ValFull)
	saved := testenv.ReadJSON[Summary](t, filepath.Join(sum.Dir, "summary.json"))
	require.Equal(t, sum.ValFull, saved.ValFull)
	require.Equal(t, sum.Steps, sum.BestStep, "Load reads the best checkpoint: the last one here")
	m, err := Load(sum.Dir)
	require.NoError(t, err)
	defer m.Close()
	got, err := m.ValidationLoss()
	require.NoError(t, err)
	require.Equal(t, *sum.ValFull, got)
}
