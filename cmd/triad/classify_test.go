package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/triadml/triad/datasets"
	"github.com/triadml/triad/experiments/classify"
)

// TestClassifyCommandMatchesRun runs the command and classify.Run with the same
// settings and requires the same metrics, then labels stdin with the run.
func TestClassifyCommandMatchesRun(t *testing.T) {
	data := t.TempDir()
	require.NoError(t, classify.WriteToySNIPS(data, 4, 2))
	byCommand, byRun := filepath.Join(t.TempDir(), "command"), filepath.Join(t.TempDir(), "run")
	require.Equal(t, 0, run([]string{"classify", "--dataset", "snips", "--data-dir", data, "--out", byCommand,
		"--embed", "8", "--hidden", "6", "--attn-dim", "5", "--batch", "8", "--epochs", "2", "--eval-every", "3",
		"--log-every", "1", "--threads", "1"}))
	cfg := classify.DefaultConfig()
	cfg.Dataset, cfg.DataDir, cfg.Out = "snips", data, byRun
	cfg.Embed, cfg.Hidden, cfg.AttnDim, cfg.Batch, cfg.Epochs, cfg.EvalEvery, cfg.LogEvery, cfg.Threads = 8, 6, 5, 8, 2, 3, 1, 1
	_, err := classify.Run(context.Background(), cfg, io.Discard)
	require.NoError(t, err)
	want, err := os.ReadFile(filepath.Join(byRun, "metrics.jsonl"))
	require.NoError(t, err)
	got, err := os.ReadFile(filepath.Join(byCommand, "metrics.jsonl"))
	require.NoError(t, err)
	require.NotEmpty(t, want)
	require.Equal(t, string(want), string(got))

	var buf bytes.Buffer
	in := strings.NewReader("please cue2 now\n\nplay cue4\n")
	require.NoError(t, classifyPredict([]string{"--run", byCommand, "--threads", "1"}, in, &buf))
	lines := strings.Split(strings.TrimRight(buf.String(), "\n"), "\n")
	require.Len(t, lines, 3, "one line out per line in, the empty one included")
	for i, line := range lines {
		f := strings.Split(line, "\t")
		require.Len(t, f, 3, line)
		require.Contains(t, datasets.SNIPSIntents, f[0])
		require.Len(t, f[1], 6, "a probability with 4 decimals: %s", line)
		require.Equal(t, []string{"please cue2 now", "", "play cue4"}[i], f[2])
	}
}

func TestClassifyUsageErrors(t *testing.T) {
	dir := t.TempDir()
	require.Equal(t, 0, run([]string{"classify", "--help"}))
	require.Equal(t, 0, run([]string{"classify", "predict", "--help"}))
	require.Equal(t, 2, run([]string{"classify", "--dataset", "imdb", "--out", dir}))
	require.Equal(t, 2, run([]string{"classify", "--buckets", "32,16", "--out", dir}))
	require.Equal(t, 2, run([]string{"classify", "--no-such-flag"}))
	require.Equal(t, 2, run([]string{"classify", "--data-dir", filepath.Join(dir, "missing"), "--out", dir}), "no dataset there")
	require.Equal(t, 2, run([]string{"classify", "predict"}), "--run is required")
	require.Equal(t, 2, run([]string{"classify", "predict", "--run", dir}), "not a run")
	require.NoError(t, os.Mkdir(filepath.Join(dir, "fold-01"), 0o755))
	err := classifyPredict([]string{"--run", dir}, strings.NewReader("x\n"), io.Discard)
	require.ErrorContains(t, err, "pass one fold's directory", "a cross-validation run has no single model")
}
