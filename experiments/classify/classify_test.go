package classify

import (
	"context"
	"io"
	"path/filepath"
	"testing"

	"github.com/triadml/triad/internal/testenv"
	"github.com/triadml/triad/train/traintest"

	"github.com/stretchr/testify/require"

	"github.com/triadml/triad/datasets"
	"github.com/triadml/triad/train"
)

// toyCV is a small bidirectional LSTM cross-validated on the toy polarity data.
func toyCV(t *testing.T) Config {
	t.Helper()
	cfg := DefaultConfig()
	cfg.DataDir = t.TempDir()
	require.NoError(t, WriteToyPolarity(cfg.DataDir, 30))
	cfg.Out = filepath.Join(t.TempDir(), "run")
	cfg.Folds, cfg.Epochs, cfg.Embed, cfg.EmbedStd, cfg.Hidden, cfg.AttnDim, cfg.Batch = 3, 6, 8, 0.1, 6, 5, 8
	cfg.LR, cfg.Dropout, cfg.WordDrop, cfg.Decay, cfg.Show, cfg.Threads, cfg.Buckets = 0.05, 0, 0, 1, 6, 1, "12"
	return cfg
}

func TestCrossValidation(t *testing.T) {
	cfg := toyCV(t)
	out := cfg.Out
	sum, err := Run(context.Background(), cfg, io.Discard)
	require.NoError(t, err)
	require.Nil(t, sum.Split)
	require.Equal(t, out, sum.Dir)
	require.Contains(t, sum.String(), "3/3 folds, accuracy ")
	saved := testenv.ReadJSON[CVSummary](t, filepath.Join(out, "summary.json"))
	require.Equal(t, *sum.CV, saved)
	require.Equal(t, 3, saved.Completed)
	require.Len(t, saved.PerFold, 3)
	// one telling word per sentence: a working model separates the classes
	require.Greater(t, saved.AccuracyMean, 0.8, "per fold %v", saved.PerFold)
	conf := testenv.ReadJSON[struct {
		Counts [][]int `json:"counts"`
	}](t, filepath.Join(out, "confusion.json"))
	total := 0
	for _, row := range conf.Counts {
		for _, c := range row {
			total += c
		}
	}
	require.Equal(t, 60, total, "every sentence is held out exactly once")
	for _, f := range []string{"config.json", "metrics.jsonl", "confusion.txt", "attention.html",
		"fold-01/summary.json", "fold-02/metrics.jsonl", "fold-03/vocab.json", "fold-03/attention.html"} {
		require.FileExists(t, filepath.Join(out, f))
	}
	page := testenv.ReadFile(t, filepath.Join(out, "attention.html"))
	require.Contains(t, page, "rgba(214,39,40,1.000)", "each sentence's largest weight is fully shaded")
	require.Len(t, traintest.Points(t, out, ""), 4, "a line per fold and the cross-validated figures")

	// resuming a finished run redoes no fold and gives the same figures
	again := DefaultConfig()
	require.NoError(t, train.ReadConfig(out, &again))
	again.Resume = out
	sum2, err := Run(context.Background(), again, io.Discard)
	require.NoError(t, err)
	require.Equal(t, saved.PerFold, sum2.CV.PerFold)

	// predict with one fold's model
	m, err := Load(filepath.Join(out, "fold-01"))
	require.NoError(t, err)
	defer m.Close()
	got, err := m.Predict([]string{"a great and moving film", "the plot is dull and boring", ""})
	require.NoError(t, err)
	require.Len(t, got, 3, "one prediction per text, the empty one included")
	require.Equal(t, "positive", got[0].Label)
	require.Equal(t, "negative", got[1].Label)
	for _, p := range got {
		require.Len(t, p.Probs, 2)
		require.InDelta(t, 1, p.Probs[0]+p.Probs[1], 1e-9)
		require.Equal(t, p.Prob, max(p.Probs[0], p.Probs[1]))
	}
	_, err = Load(out)
	require.ErrorContains(t, err, "cross-validation run", "a cross-validation run has no single model")
	_, err = Load(t.TempDir())
	require.ErrorContains(t, err, "not a classify run")
}

func TestOneFold(t *testing.T) {
	cfg := toyCV(t)
	cfg.Fold, cfg.Epochs = 2, 1
	sum, err := Run(context.Background(), cfg, io.Discard)
	require.NoError(t, err)
	require.Equal(t, 1, sum.CV.Completed)
	require.Zero(t, sum.CV.AccuracyStd, "one fold has no spread")
	require.NoDirExists(t, filepath.Join(cfg.Out, "fold-01"))
	require.FileExists(t, filepath.Join(cfg.Out, "fold-02", "result.json"))
}

func TestSNIPSTransformer(t *testing.T) {
	cfg := DefaultConfig()
	cfg.DataDir = t.TempDir()
	require.NoError(t, WriteToySNIPS(cfg.DataDir, 8, 3))
	out := filepath.Join(t.TempDir(), "run")
	cfg.Out, cfg.Dataset, cfg.Encoder, cfg.Pool, cfg.Epochs, cfg.Embed, cfg.Heads, cfg.FF, cfg.Batch = out, "snips", "transformer", "first", 8, 16, 2, 16, 8
	cfg.LR, cfg.Decay, cfg.Dropout, cfg.WordDrop, cfg.Show, cfg.Threads = 0.01, 1, 0.1, 0.1, 4, 1
	sum, err := Run(context.Background(), cfg, io.Discard)
	require.NoError(t, err)
	require.Nil(t, sum.CV)
	require.Contains(t, sum.String(), "snips validation accuracy ")
	res := testenv.ReadJSON[Result](t, filepath.Join(out, "result.json"))
	require.Equal(t, *sum.Split, res)
	require.Equal(t, 21, res.Examples)
	require.GreaterOrEqual(t, res.Accuracy, 0.9, "each intent has its own cue word")
	require.Len(t, res.Shown, 4)
	require.Equal(t, "<bos>", res.Shown[0].Tokens[0], "first-token pooling prepends <bos>")
	for _, f := range []string{"summary.json", "metrics.jsonl", "confusion.json", "confusion.txt", "attention.html", "checkpoints/best.safetensors"} {
		require.FileExists(t, filepath.Join(out, f))
	}
	m, err := Load(out)
	require.NoError(t, err)
	defer m.Close()
	require.Equal(t, datasets.SNIPSIntents, m.Labels)
	got, err := m.Predict([]string{"please cue2 now"})
	require.NoError(t, err)
	require.Equal(t, datasets.SNIPSIntents[2], got[0].Label)
}

func TestInvalidConfig(t *testing.T) {
	for name, edit := range map[string]func(*Config){
		"dataset":      func(c *Config) { c.Dataset = "imdb" },
		"encoder":      func(c *Config) { c.Encoder = "cnn" },
		"level":        func(c *Config) { c.Level = "byte" },
		"buckets":      func(c *Config) { c.Buckets = "32,16" },
		"batch":        func(c *Config) { c.Batch = 0 },
		"word dropout": func(c *Config) { c.WordDrop = 1 },
		"folds":        func(c *Config) { c.Folds = 1 },
		"fold":         func(c *Config) { c.Fold = 11 },
		"heads":        func(c *Config) { c.Encoder, c.Embed, c.Heads = "transformer", 30, 4 },
		"no dataset":   func(c *Config) { c.DataDir = filepath.Join(t.TempDir(), "missing") },
	} {
		cfg := DefaultConfig()
		cfg.Out = t.TempDir()
		edit(&cfg)
		_, err := Run(context.Background(), cfg, io.Discard)
		require.Error(t, err, name)
		require.True(t, train.IsUsage(err), "%s: %v", name, err)
	}
	require.NoError(t, DefaultConfig().Validate())
}

func TestInterrupted(t *testing.T) {
	cfg := DefaultConfig()
	cfg.DataDir = t.TempDir()
	require.NoError(t, WriteToySNIPS(cfg.DataDir, 4, 1))
	cfg.Out, cfg.Dataset, cfg.Embed, cfg.Hidden, cfg.AttnDim, cfg.Threads = t.TempDir(), "snips", 8, 4, 4, 1
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Run(ctx, cfg, io.Discard)
	require.ErrorIs(t, err, train.ErrInterrupted)
}
