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

	"github.com/triadml/triad/experiments/lm"
)

// lmFixture writes a small text to a new directory and returns it.
func lmFixture(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	text := strings.Repeat("the cat sat on the mat\na dog ran to the log\n", 60)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "input.txt"), []byte(text), 0o644))
	return dir
}

// The command and lm.Run with the same settings write the same metrics.
func TestLMCommandMatchesRun(t *testing.T) {
	data, root := lmFixture(t), t.TempDir()
	cmd := filepath.Join(root, "cmd")
	require.Equal(t, 0, run([]string{"lm", "--data-dir", data, "--out", cmd, "--hidden", "16", "--seq-len", "10",
		"--batch", "4", "--max-steps", "8", "--eval-every", "4", "--log-every", "2", "--threads", "1"}))

	cfg := lm.DefaultConfig()
	cfg.DataDir, cfg.Out = data, filepath.Join(root, "api")
	cfg.Hidden, cfg.SeqLen, cfg.Batch = 16, 10, 4
	cfg.MaxSteps, cfg.EvalEvery, cfg.LogEvery, cfg.Threads = 8, 4, 2, 1
	_, err := lm.Run(context.Background(), cfg, io.Discard)
	require.NoError(t, err)
	want, err := os.ReadFile(filepath.Join(cfg.Out, "metrics.jsonl"))
	require.NoError(t, err)
	got, err := os.ReadFile(filepath.Join(cmd, "metrics.jsonl"))
	require.NoError(t, err)
	require.Equal(t, string(want), string(got))

	// `lm sample` prints what Model.Sample returns
	var buf bytes.Buffer
	require.NoError(t, lmSample([]string{"--run", cmd, "--prime", "the ", "--n", "20", "--seed", "3", "--threads", "1"}, &buf))
	m, err := lm.Load(cmd)
	require.NoError(t, err)
	defer m.Close()
	text, err := m.Sample("the ", lm.SampleOptions{Temperature: 0.8, N: 20, Seed: 3})
	require.NoError(t, err)
	require.Equal(t, text+"\n", buf.String())

	require.Equal(t, 0, run([]string{"lm", "sample", "--help"}))
	require.Equal(t, 2, run([]string{"lm", "sample"}), "--run is required")
	require.Equal(t, 2, run([]string{"lm", "sample", "--run", cmd, "--temperature", "0"}))
	require.Equal(t, 2, run([]string{"lm", "sample", "--run", filepath.Join(root, "none")}), "no run there")
	require.Equal(t, 2, run([]string{"lm", "--data-dir", filepath.Join(root, "none"), "--out", filepath.Join(root, "x")}), "no input.txt")
}
