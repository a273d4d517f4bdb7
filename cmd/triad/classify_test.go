package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/triadml/triad/datasets"
)

// polarityFixture writes a tiny sentence-polarity dataset: n sentences of each
// polarity, each with one telling word among neutral ones.
func polarityFixture(t *testing.T, n int) string {
	t.Helper()
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(1, 2))
	filler := strings.Fields("the film a story with its cast and plot this movie of an actor scene")
	sentence := func(cue []string) string {
		words := make([]string, 3+rng.IntN(8))
		for i := range words {
			words[i] = filler[rng.IntN(len(filler))]
		}
		words[rng.IntN(len(words))] = cue[rng.IntN(len(cue))]
		return strings.Join(words, " ")
	}
	for name, cue := range map[string][]string{"rt-polarity.neg": {"dull", "awful", "boring"}, "rt-polarity.pos": {"great", "moving", "funny"}} {
		var lines []string
		for i := 0; i < n; i++ {
			lines = append(lines, sentence(cue))
		}
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(strings.Join(lines, "\n")+"\n"), 0o644))
	}
	return dir
}

// snipsFixture writes tiny SNIPS train and valid files: each intent has its own
// cue word.
func snipsFixture(t *testing.T, train, valid int) string {
	t.Helper()
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(3, 4))
	filler := strings.Fields("please i want to the a for me now could you some my")
	for split, n := range map[string]int{"train": train, "valid": valid} {
		var sb strings.Builder
		for i := 0; i < n; i++ {
			for k, intent := range datasets.SNIPSIntents {
				words := make([]string, 2+rng.IntN(6))
				for j := range words {
					words[j] = filler[rng.IntN(len(filler))]
				}
				words[rng.IntN(len(words))] = fmt.Sprintf("cue%d", k)
				fmt.Fprintf(&sb, "%s\t%s\n", intent, strings.Join(words, " "))
			}
		}
		require.NoError(t, os.WriteFile(filepath.Join(dir, "snips_"+split+".tsv"), []byte(sb.String()), 0o644))
	}
	return dir
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, v))
}

func TestClassifyCrossValidation(t *testing.T) {
	data := polarityFixture(t, 30)
	out := filepath.Join(t.TempDir(), "run")
	args := []string{"classify", "--dataset", "rt-polarity", "--data-dir", data, "--out", out, "--folds", "3",
		"--epochs", "6", "--embed", "8", "--embed-std", "0.1", "--hidden", "6", "--attn-dim", "5", "--batch", "8", "--lr", "0.05",
		"--dropout", "0", "--word-dropout", "0", "--lr-decay", "1", "--show", "6", "--threads", "1", "--buckets", "12"}
	require.Equal(t, 0, run(args))
	var sum cvSummary
	readJSON(t, filepath.Join(out, "summary.json"), &sum)
	require.Equal(t, 3, sum.Completed)
	require.Len(t, sum.PerFold, 3)
	// one telling word per sentence: a working model separates the classes
	require.Greater(t, sum.AccuracyMean, 0.8, "per fold %v", sum.PerFold)
	var conf struct {
		Counts [][]int `json:"counts"`
	}
	readJSON(t, filepath.Join(out, "confusion.json"), &conf)
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
	page, err := os.ReadFile(filepath.Join(out, "attention.html"))
	require.NoError(t, err)
	require.Contains(t, string(page), "rgba(214,39,40,1.000)", "each sentence's largest weight is fully shaded")
	lines, err := os.ReadFile(filepath.Join(out, "metrics.jsonl"))
	require.NoError(t, err)
	require.Equal(t, 4, strings.Count(string(lines), "\n"), "a line per fold and the cross-validated figures")

	// resuming a finished run redoes no fold and gives the same figures
	require.Equal(t, 0, run([]string{"classify", "--resume", out}))
	var again cvSummary
	readJSON(t, filepath.Join(out, "summary.json"), &again)
	require.Equal(t, sum.PerFold, again.PerFold)

	// predict with one fold's model
	var buf bytes.Buffer
	in := strings.NewReader("a great and moving film\nthe plot is dull and boring\n\n")
	require.NoError(t, classifyPredict([]string{"--run", filepath.Join(out, "fold-01")}, in, &buf))
	got := strings.Split(strings.TrimRight(buf.String(), "\n"), "\n")
	require.Len(t, got, 3, "one line out per line in, the empty one included")
	require.True(t, strings.HasPrefix(got[0], "positive\t"), got[0])
	require.True(t, strings.HasPrefix(got[1], "negative\t"), got[1])
	require.Error(t, classifyPredict([]string{"--run", out}, strings.NewReader("x\n"), &buf), "a cross-validation run has no single model")
}

func TestClassifySNIPSTransformer(t *testing.T) {
	data := snipsFixture(t, 8, 3)
	out := filepath.Join(t.TempDir(), "run")
	args := []string{"classify", "--dataset", "snips", "--data-dir", data, "--out", out, "--encoder", "transformer",
		"--pool", "first", "--epochs", "8", "--embed", "16", "--heads", "2", "--ff", "16", "--batch", "8",
		"--lr", "0.01", "--lr-decay", "1", "--dropout", "0.1", "--word-dropout", "0.1", "--show", "4", "--threads", "1"}
	require.Equal(t, 0, run(args))
	var res foldResult
	readJSON(t, filepath.Join(out, "result.json"), &res)
	require.Equal(t, 21, res.Examples)
	require.GreaterOrEqual(t, res.Accuracy, 0.9, "each intent has its own cue word")
	require.Len(t, res.Shown, 4)
	require.Equal(t, "<bos>", res.Shown[0].Tokens[0], "first-token pooling prepends <bos>")
	for _, f := range []string{"summary.json", "metrics.jsonl", "confusion.json", "confusion.txt", "attention.html", "checkpoints/best.safetensors"} {
		require.FileExists(t, filepath.Join(out, f))
	}
	var buf bytes.Buffer
	require.NoError(t, classifyPredict([]string{"--run", out}, strings.NewReader("please cue2 now\n"), &buf))
	require.True(t, strings.HasPrefix(buf.String(), datasets.SNIPSIntents[2]+"\t"), buf.String())
}

func TestClassifyUsageErrors(t *testing.T) {
	dir := t.TempDir()
	require.Equal(t, 0, run([]string{"classify", "--help"}))
	require.Equal(t, 2, run([]string{"classify", "--dataset", "imdb", "--out", dir}))
	require.Equal(t, 2, run([]string{"classify", "--encoder", "cnn", "--out", dir}))
	require.Equal(t, 2, run([]string{"classify", "--buckets", "32,16", "--out", dir}))
	require.Equal(t, 2, run([]string{"classify", "--word-dropout", "1", "--out", dir}))
	require.Equal(t, 2, run([]string{"classify", "--encoder", "transformer", "--embed", "30", "--heads", "4", "--out", dir}))
	require.Equal(t, 2, run([]string{"classify", "--data-dir", filepath.Join(dir, "missing"), "--out", dir}), "no dataset there")
	require.Equal(t, 2, run([]string{"classify", "predict"}), "--run is required")
}
