package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/triadml/triad/datasets/audio"
	"github.com/triadml/triad/experiments/ctc"
)

func TestCTCFlags(t *testing.T) {
	require.Equal(t, 0, run([]string{"ctc", "--help"}))
	for _, args := range [][]string{
		{"--cell", "elman"}, {"--pad", "zeros"}, {"--buckets", "10,x"}, {"--min-digits", "3", "--max-digits", "2"},
		{"--beam", "0"}, {"--gap-min-ms", "300"}, {"--lr", "-1"}, {"--hidden", "many"},
		{"--data-dir", t.TempDir()},
	} {
		require.Equal(t, 2, run(append([]string{"ctc", "--out", t.TempDir()}, args...)), "%v", args)
	}
}

// TestCTCCommandMatchesRun: the command and ctc.Run with the same settings write
// the same metrics.
func TestCTCCommandMatchesRun(t *testing.T) {
	data := t.TempDir()
	require.NoError(t, audio.ToneCorpus([]string{"a", "b"}, []int{0, 1, 2, 3}, 7).WriteFSDD(data))
	cmdDir, runDir := t.TempDir(), t.TempDir()
	require.Equal(t, 0, run([]string{"ctc", "--data-dir", data, "--out", cmdDir, "--threads", "1",
		"--hidden", "8", "--mels", "16", "--batch", "4", "--steps-per-epoch", "2", "--epochs", "2", "--warmup", "1",
		"--max-digits", "3", "--buckets", "12,24,36", "--test-utterances", "6", "--eval-batch", "4", "--beam", "3",
		"--log-every", "1"}))

	cfg := ctc.DefaultConfig()
	cfg.DataDir, cfg.Out, cfg.Threads, cfg.LogEvery = data, runDir, 1, 1
	cfg.Hidden, cfg.Mels, cfg.Batch, cfg.StepsPerEpoch, cfg.Epochs, cfg.Warmup = 8, 16, 4, 2, 2, 1
	cfg.MaxDigits, cfg.Buckets, cfg.TestUtterances, cfg.EvalBatch, cfg.Beam = 3, "12,24,36", 6, 4, 3
	_, err := ctc.Run(context.Background(), cfg, io.Discard)
	require.NoError(t, err)

	want, err := os.ReadFile(filepath.Join(cmdDir, "metrics.jsonl"))
	require.NoError(t, err)
	got, err := os.ReadFile(filepath.Join(runDir, "metrics.jsonl"))
	require.NoError(t, err)
	require.NotEmpty(t, want)
	require.Equal(t, string(want), string(got))
}
