package lm

import (
	"context"
	"errors"
	"io"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/triadml/triad/internal/testenv"
	"github.com/triadml/triad/train"
	"github.com/triadml/triad/train/traintest"
)

// fixture writes a small text with some structure to a new directory and
// returns it.
func fixture(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	for i := 0; i < 120; i++ {
		b.WriteString([]string{"the cat sat on the mat\n", "a dog ran to the log\n", "we go to sea\n"}[i%3])
	}
	return testenv.TextDir(t, b.String())
}

// tinyConfig is a run of a few seconds at most on the fixture.
func tinyConfig(data, out string) Config {
	cfg := DefaultConfig()
	cfg.DataDir, cfg.Out = data, out
	cfg.Hidden, cfg.SeqLen, cfg.Batch = 16, 10, 4
	cfg.MaxSteps, cfg.EvalEvery, cfg.LogEvery, cfg.Threads = 12, 6, 3, 1
	return cfg
}

func TestValidate(t *testing.T) {
	testenv.RequireInvalid(t, DefaultConfig, map[string]func(*Config){
		"cell":       func(c *Config) { c.Cell = "elman" },
		"level":      func(c *Config) { c.Level = "byte" },
		"batch":      func(c *Config) { c.Batch = 0 },
		"seq_len":    func(c *Config) { c.SeqLen = -1 },
		"hidden":     func(c *Config) { c.Hidden = 0 },
		"layers":     func(c *Config) { c.Layers = 0 },
		"train_frac": func(c *Config) { c.TrainFrac = 1 },
		"no train":   func(c *Config) { c.TrainFrac = 0 },
	})
	for _, cell := range []string{"rnn", "rnn_relu", "lstm", "gru"} {
		c := DefaultConfig()
		c.Cell, c.Level = cell, "word"
		require.NoError(t, c.Validate(), cell)
	}
}

func TestSampleSoftmax(t *testing.T) {
	logits := []float64{100, 100, 100, 100, 1, 2, 3}
	// the special tokens are never drawn, however likely
	for _, u := range []float64{0, 0.3, 0.6, 0.999} {
		require.GreaterOrEqual(t, sampleSoftmax(logits, 1, u, 4), 4)
	}
	// a low temperature draws the largest logit
	require.Equal(t, 6, sampleSoftmax(logits, 0.01, 0.5, 4))
	// u inverts the cumulative distribution: p = (e^-2, e^-1, 1) / z
	z := math.Exp(-2) + math.Exp(-1) + 1
	require.Equal(t, 4, sampleSoftmax(logits, 1, math.Exp(-2)/z-1e-9, 4))
	require.Equal(t, 5, sampleSoftmax(logits, 1, math.Exp(-2)/z+1e-9, 4))
	require.Equal(t, 6, sampleSoftmax(logits, 1, 0.999999, 4))
}

func TestRunLoadSample(t *testing.T) {
	out := filepath.Join(t.TempDir(), "run")
	sum, err := Run(context.Background(), tinyConfig(fixture(t), out), io.Discard)
	require.NoError(t, err)
	require.Equal(t, out, sum.Dir)
	require.Equal(t, 0, sum.Rank)
	require.Equal(t, 12, sum.Steps)
	require.Contains(t, sum.Final, "val_loss")
	require.InDelta(t, math.Exp(sum.Final["val_loss"]), sum.Final["val_ppl"], 1e-9)
	for _, f := range []string{"config.json", "vocab.json", "metrics.jsonl", "summary.json", "checkpoints/best.safetensors"} {
		require.FileExists(t, filepath.Join(out, f))
	}
	points := traintest.Points(t, out, "")
	require.Len(t, points, 6, "a training line every 3 steps and an evaluation every 6")

	m, err := Load(out)
	require.NoError(t, err)
	defer m.Close()
	require.Equal(t, 16, m.Config.Hidden)
	opts := SampleOptions{Temperature: 0.8, N: 30, Seed: 7}
	a, err := m.Sample("the ", opts)
	require.NoError(t, err)
	require.Len(t, []rune(a), 4+30, "the prime and one character a token")
	require.True(t, strings.HasPrefix(a, "the "))
	b, err := m.Sample("the ", opts)
	require.NoError(t, err)
	require.Equal(t, a, b, "the same seed draws the same text")
	require.NoError(t, m.Close())
	c, err := m.Sample("the ", opts)
	require.NoError(t, err)
	require.Equal(t, a, c, "sampling after Close builds the program again")

	_, err = m.Sample("", opts)
	require.True(t, train.IsUsage(err), "an empty prime: %v", err)
	_, err = m.Sample("the", SampleOptions{N: 3})
	require.True(t, train.IsUsage(err), "temperature 0: %v", err)
	_, err = Load(t.TempDir())
	require.True(t, train.IsUsage(err), "no run there: %v", err)
}

// A run stopped and resumed writes the metrics of a run that never stopped:
// the carried state is part of the checkpoint.
func TestResume(t *testing.T) {
	data := fixture(t)
	whole := tinyConfig(data, filepath.Join(t.TempDir(), "whole"))
	_, err := Run(context.Background(), whole, io.Discard)
	require.NoError(t, err)

	half := tinyConfig(data, filepath.Join(t.TempDir(), "half"))
	half.MaxSteps = 6
	_, err = Run(context.Background(), half, io.Discard)
	require.NoError(t, err)
	half.MaxSteps, half.Resume = 12, half.Out
	sum, err := Run(context.Background(), half, io.Discard)
	require.NoError(t, err)
	require.Equal(t, 12, sum.Steps)
	require.Equal(t, traintest.Points(t, whole.Out, ""), traintest.Points(t, half.Out, ""))
}

func TestRunErrors(t *testing.T) {
	data := fixture(t)
	bad := tinyConfig(data, filepath.Join(t.TempDir(), "bad"))
	bad.Cell = "elman"
	_, err := Run(context.Background(), bad, io.Discard)
	require.True(t, train.IsUsage(err), "%v", err)
	require.NoDirExists(t, bad.Out, "a bad config creates no run directory")

	missing := tinyConfig(filepath.Join(data, "missing"), filepath.Join(t.TempDir(), "missing"))
	_, err = Run(context.Background(), missing, io.Discard)
	require.True(t, train.IsUsage(err), "no input.txt: %v", err)

	small := tinyConfig(data, filepath.Join(t.TempDir(), "small"))
	small.Batch, small.SeqLen = 64, 100
	_, err = Run(context.Background(), small, io.Discard)
	require.True(t, train.IsUsage(err), "too small a corpus: %v", err)

	opt := tinyConfig(data, filepath.Join(t.TempDir(), "opt"))
	opt.Optimizer = "lion"
	_, err = Run(context.Background(), opt, io.Discard)
	require.True(t, train.IsUsage(err), "an unknown optimizer: %v", err)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = Run(ctx, tinyConfig(data, filepath.Join(t.TempDir(), "stopped")), io.Discard)
	require.True(t, errors.Is(err, train.ErrInterrupted), "%v", err)
}

// Two ranks, each on half the columns of every window, train and validate as
// one process does, to rounding.
func TestSharded(t *testing.T) {
	data := fixture(t)
	cfg := tinyConfig(data, "")
	c, err := loadCorpus(cfg)
	require.NoError(t, err)
	run := func(dir string, comm train.Comm) error {
		loop := &train.Loop{Dir: dir, Common: cfg.Common, Comm: comm, Log: io.Discard}
		if _, err := prepare(cfg, c, loop); err != nil {
			return err
		}
		_, err := loop.Run(context.Background())
		return err
	}
	traintest.RequireSameMetrics(t, traintest.Group(t, 0, run), traintest.Group(t, 2, run), 1e-4)

	odd := tinyConfig(data, "")
	odd.Batch = 3
	loop := &train.Loop{}
	tk, err := prepare(odd, c, loop)
	require.NoError(t, err)
	require.Error(t, tk.SetShard(0, 2), "batch 3 does not split into 2 ranks")
	require.Error(t, tk.SetShard(2, 2))
}
