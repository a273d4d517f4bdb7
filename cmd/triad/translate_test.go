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

	"github.com/triadml/triad/experiments/translate"
)

// The command and translate.Run with the same settings write the same
// metrics.jsonl; `translate decode` translates stdin line by line from the run,
// coping with bad lines.
func TestTranslateCommandAndDecode(t *testing.T) {
	data := t.TempDir()
	require.NoError(t, translate.WriteSynthetic(data, 200, 12))
	dirA, dirB := filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")
	require.Equal(t, 0, run([]string{"translate", "--data-dir", data, "--out", dirA, "--embed", "16", "--hidden", "16",
		"--batch", "16", "--buckets", "2", "--beam", "2", "--length-penalty", "0.8", "--lr-decay-after", "0", "--lr-decay", "0.9",
		"--max-steps", "12", "--eval-every", "6", "--log-every", "3", "--threads", "1"}))
	cfg := translate.DefaultConfig()
	cfg.DataDir, cfg.Out, cfg.Embed, cfg.Hidden, cfg.Batch, cfg.Buckets, cfg.Beam = data, dirB, 16, 16, 16, 2, 2
	cfg.LengthPenalty, cfg.DecayAfter, cfg.Decay = 0.8, 0, 0.9
	cfg.MaxSteps, cfg.EvalEvery, cfg.LogEvery, cfg.Threads = 12, 6, 3, 1
	_, err := translate.Run(context.Background(), cfg, io.Discard)
	require.NoError(t, err)
	a, err := os.ReadFile(filepath.Join(dirA, "metrics.jsonl"))
	require.NoError(t, err)
	b, err := os.ReadFile(filepath.Join(dirB, "metrics.jsonl"))
	require.NoError(t, err)
	require.Equal(t, 6, bytes.Count(a, []byte("\n")))
	require.Equal(t, string(a), string(b))

	in := strings.Join([]string{
		"Der hund läuft schnell.",
		"",                                     // empty: empty translation, no heatmap
		"Der zebra läuft.",                     // an unknown word
		strings.Repeat("Der hund läuft ", 667), // 2,001 tokens: cut, with a note
		"\xff\xfe kaputt",                      // not UTF-8
		"Die katze.",
	}, "\n") + "\n"
	pngs := filepath.Join(t.TempDir(), "png")
	var stdout, stderr bytes.Buffer
	require.NoError(t, translateDecode([]string{"--run", dirA, "--attention-png", pngs, "--threads", "1"}, strings.NewReader(in), &stdout, &stderr))
	lines := strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n")
	require.Len(t, lines, 6, "one output line per input line: %q", stdout.String())
	require.Equal(t, "", lines[1])
	require.Equal(t, "triad translate decode: line 4: 2001 tokens, cut to the model's 50\n", stderr.String())
	require.FileExists(t, filepath.Join(pngs, "line-00001.png"))
	require.NoFileExists(t, filepath.Join(pngs, "line-00002.png"))

	// beam search, the run's length penalty or another: one line per line
	for _, args := range [][]string{{"--beam", "2"}, {"--beam", "2", "--length-penalty", "0"}} {
		stdout.Reset()
		require.NoError(t, translateDecode(append([]string{"--run", dirA}, args...), strings.NewReader("Der hund.\nDie katze.\n"), &stdout, &stderr))
		require.Equal(t, 2, strings.Count(stdout.String(), "\n"), args)
	}
}

func TestTranslateUsageErrors(t *testing.T) {
	data := t.TempDir()
	require.NoError(t, translate.WriteSynthetic(data, 10, 3))
	require.Equal(t, 0, run([]string{"translate", "--help"}))
	require.Equal(t, 0, run([]string{"translate", "decode", "--help"}))
	for name, args := range map[string][]string{
		"unknown model":    {"--model", "lstm"},
		"unknown language": {"--src", "fr"},
		"same languages":   {"--src", "en", "--tgt", "en"},
		"unknown vocab":    {"--vocab", "char"},
		"bad batch":        {"--batch", "0"},
		"bad heads":        {"--model", "transformer", "--dim", "10", "--heads", "3"},
		"unknown flag":     {"--no-such-flag"},
		"old flag name":    {"--alpha", "0.5"},
		"bad value":        {"--hidden", "many"},
		"stray argument":   {"extra"},
		"missing data":     {"--data-dir", filepath.Join(t.TempDir(), "nothing")},
		"data-parallel":    {"--dist", "mpi"},
	} {
		args := append([]string{"translate", "--out", t.TempDir()}, args...)
		if name != "missing data" {
			args = append(args, "--data-dir", data)
		}
		require.Equal(t, 2, run(args), name)
	}
	require.Equal(t, 2, run([]string{"translate", "decode"}), "decode without --run")
	require.Equal(t, 2, run([]string{"translate", "decode", "--run", t.TempDir()}), "decode of a directory that is no run")
	require.Equal(t, 2, run([]string{"translate", "decode", "--run", t.TempDir(), "--beam", "0"}), "decode with beam 0")
	require.Equal(t, 2, run([]string{"translate", "decode", "--run", t.TempDir(), "--alpha", "0.5"}), "decode with the old flag name")
}
