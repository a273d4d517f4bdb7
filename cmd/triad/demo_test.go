package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/triadml/triad/experiments/demo"
)

// The command writes the metrics that demo.Run writes for the same settings.
func TestDemoCommandMatchesRun(t *testing.T) {
	dirCmd, dirRun := filepath.Join(t.TempDir(), "cmd"), filepath.Join(t.TempDir(), "run")
	require.Equal(t, 0, run([]string{"demo", "--out", dirCmd, "--max-steps", "3", "--eval-every", "2", "--log-every", "1",
		"--test-size", "12", "--beam-eval", "2", "--examples", "2", "--batch", "4",
		"--embed", "8", "--hidden", "8", "--attn-dim", "8", "--length-penalty", "0.8", "--threads", "1"}))

	cfg := demo.DefaultConfig()
	cfg.Out, cfg.MaxSteps, cfg.EvalEvery, cfg.LogEvery, cfg.Threads = dirRun, 3, 2, 1, 1
	cfg.TestSize, cfg.BeamEval, cfg.Examples, cfg.Batch = 12, 2, 2, 4
	cfg.Embed, cfg.Hidden, cfg.AttnDim, cfg.LengthPenalty = 8, 8, 8, 0.8
	_, err := demo.Run(context.Background(), cfg, io.Discard)
	require.NoError(t, err)

	want, err := os.ReadFile(filepath.Join(dirRun, "metrics.jsonl"))
	require.NoError(t, err)
	got, err := os.ReadFile(filepath.Join(dirCmd, "metrics.jsonl"))
	require.NoError(t, err)
	require.NotEmpty(t, want)
	require.Equal(t, string(want), string(got))
}

func TestDemoBadFlags(t *testing.T) {
	require.Equal(t, 2, run([]string{"demo", "--out", t.TempDir(), "--model", "cnn"}), "an unknown model")
	require.Equal(t, 2, run([]string{"demo", "--out", t.TempDir(), "--batch", "0"}), "an empty batch")
	require.Equal(t, 2, run([]string{"demo", "--out", t.TempDir(), "--alpha", "0.6"}), "the length penalty's old flag")
	require.Equal(t, 0, run([]string{"demo", "--help"}))
}
