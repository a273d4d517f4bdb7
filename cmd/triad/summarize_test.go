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

	"github.com/triadml/triad/experiments/summarize"
)

// TestSummarizeCommandMatchesRun runs the command and summarize.Run with the
// same settings and requires the same metrics, then decodes stdin with the run.
func TestSummarizeCommandMatchesRun(t *testing.T) {
	data := t.TempDir()
	require.NoError(t, summarize.WriteToyGigaword(data, 40, 6))
	cmdOut, apiOut := filepath.Join(t.TempDir(), "cmd"), filepath.Join(t.TempDir(), "api")
	require.Equal(t, 0, run([]string{"summarize", "--data-dir", data, "--out", cmdOut, "--max-steps", "4", "--eval-every", "2",
		"--log-every", "1", "--batch", "8", "--embed", "8", "--hidden", "8", "--attn-dim", "8", "--beam", "2",
		"--val-size", "4", "--lead-max", "6", "--threads", "1"}))
	cfg := summarize.DefaultConfig()
	cfg.DataDir, cfg.Out, cfg.MaxSteps, cfg.EvalEvery, cfg.LogEvery, cfg.Threads = data, apiOut, 4, 2, 1, 1
	cfg.Batch, cfg.Embed, cfg.Hidden, cfg.AttnDim, cfg.Beam, cfg.ValSize, cfg.LeadMax = 8, 8, 8, 8, 2, 4, 6
	_, err := summarize.Run(context.Background(), cfg, io.Discard)
	require.NoError(t, err)
	want, err := os.ReadFile(filepath.Join(apiOut, "metrics.jsonl"))
	require.NoError(t, err)
	got, err := os.ReadFile(filepath.Join(cmdOut, "metrics.jsonl"))
	require.NoError(t, err)
	require.NotEmpty(t, want)
	require.Equal(t, string(want), string(got))

	// decode: one headline per line, whatever the line; flags override the run's settings
	in := strings.NewReader("ZQABCX opened the bank in Paris on Monday , officials said .\n\n" + strings.Repeat("word ", 300) + "\n")
	var buf, errs bytes.Buffer
	require.NoError(t, summarizeDecode([]string{"--run", cmdOut, "--beam", "1", "--no-unk=false", "--threads", "1"}, in, &buf, &errs))
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	require.Len(t, lines, 3, "one line out per line in: %q", buf.String())
	require.Equal(t, "", lines[1], "an empty article gives an empty headline")
	require.Empty(t, errs.String())
	require.Equal(t, 2, run([]string{"summarize", "decode", "--run", cmdOut, "--beam", "0"}))
}

func TestSummarizeUsageErrors(t *testing.T) {
	dir := t.TempDir()
	require.Equal(t, 0, run([]string{"summarize", "--help"}))
	require.Equal(t, 0, run([]string{"summarize", "decode", "--help"}))
	require.Equal(t, 2, run([]string{"summarize", "--no-such-flag"}))
	require.Equal(t, 2, run([]string{"summarize", "--vocab-size", "3", "--out", dir}))
	require.Equal(t, 2, run([]string{"summarize", "--buckets", "32:10,16:12", "--out", dir}))
	require.Equal(t, 2, run([]string{"summarize", "--beam", "0", "--out", dir}))
	require.Equal(t, 2, run([]string{"summarize", "--copy=maybe", "--out", dir}))
	require.Equal(t, 2, run([]string{"summarize", "--data-dir", filepath.Join(dir, "missing"), "--out", dir}), "no dataset there")
	require.Equal(t, 2, run([]string{"summarize", "decode"}), "--run is required")
	require.Equal(t, 2, run([]string{"summarize", "decode", "--run", filepath.Join(dir, "missing")}))
	require.Equal(t, 2, run([]string{"summarize", "decode", "--run", dir, "--no-repeat-trigram=maybe"}))
	require.Equal(t, 2, run([]string{"summarize", "decode", "--run", dir, "extra"}))
}
