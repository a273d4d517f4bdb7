package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// headlineFixture writes a tiny Gigaword-like sample: articles
// "NAME VERBed the NOUN in PLACE on DAY , officials said ." with headlines
// "NAME VERBs NOUN in PLACE". Each name (zq...x, letters only) occurs once, so
// names are outside a vocabulary of words seen twice and only a model that
// copies can write them.
func headlineFixture(t *testing.T, train, valid int) string {
	t.Helper()
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(5, 6))
	verbs := strings.Fields("open close visit attack praise")
	nouns := strings.Fields("bank school plant office bridge port")
	places := strings.Fields("paris tokyo lima cairo oslo")
	days := strings.Fields("monday tuesday friday")
	name := 0
	write := func(articleFile, titleFile string, n int) {
		var arts, titles strings.Builder
		for i := 0; i < n; i++ {
			name++
			who := "zq" + letters(name) + "x"
			v, o, p := verbs[rng.IntN(len(verbs))], nouns[rng.IntN(len(nouns))], places[rng.IntN(len(places))]
			fmt.Fprintf(&arts, "%s %sed the %s in %s on %s , officials said .\n", who, v, o, p, days[rng.IntN(len(days))])
			fmt.Fprintf(&titles, "%s %ss %s in %s\n", who, v, o, p)
		}
		require.NoError(t, os.WriteFile(filepath.Join(dir, articleFile), []byte(arts.String()), 0o644))
		require.NoError(t, os.WriteFile(filepath.Join(dir, titleFile), []byte(titles.String()), 0o644))
	}
	write("train.article.txt", "train.title.txt", train)
	write("valid.article.filter.txt", "valid.title.filter.txt", valid)
	return dir
}

// letters writes n in base 26 with the letters a to z.
func letters(n int) string {
	s := ""
	for ; n > 0; n /= 26 {
		s = string(rune('a'+n%26)) + s
	}
	return s
}

func TestSummarizeCopiesNames(t *testing.T) {
	data := headlineFixture(t, 192, 20)
	out := filepath.Join(t.TempDir(), "run")
	args := []string{"summarize", "--data-dir", data, "--out", out, "--epochs", "12", "--batch", "16", "--embed", "16",
		"--hidden", "16", "--attn-dim", "16", "--dropout", "0", "--lr", "0.01", "--lr-decay-after", "12", "--max-decode", "10",
		"--beam", "3", "--lead-max", "10", "--samples", "4", "--threads", "1"}
	require.Equal(t, 0, run(args))
	for _, f := range []string{"config.json", "metrics.jsonl", "summary.json", "samples.md", "vocab.json", "checkpoints/best.safetensors"} {
		require.FileExists(t, filepath.Join(out, f))
	}
	var sum summarizeSummary
	readJSON(t, filepath.Join(out, "summary.json"), &sum)
	require.Equal(t, "pointer-generator", sum.Model)
	require.Equal(t, 20, sum.BeamRouge.Pairs)
	require.Nil(t, sum.Unseen, "20 pairs are all within the first %d", decodingChosenOn)
	beamLines, err := os.ReadFile(filepath.Join(out, "valid.beam.txt"))
	require.NoError(t, err)
	require.Len(t, strings.Split(strings.TrimSuffix(string(beamLines), "\n"), "\n"), 20, "one beam headline a validation pair")
	require.FileExists(t, filepath.Join(out, "valid.greedy.txt"))
	// The lead-6 prefix "NAME VERBed the NOUN in PLACE" shares 4 of its 6 words
	// with the 5-word headline: ROUGE-1 F1 = 2 (4/6)(4/5) / (4/6 + 4/5) = 8/11, the
	// best mean of the three scores of any prefix.
	require.Equal(t, 6, sum.Lead.N)
	require.InDelta(t, 8.0/11, sum.Lead.Valid.Rouge1, 1e-9)
	// names exist only in their own article: the headlines copy them
	require.Greater(t, sum.CopiedOOV, 0.1)
	require.Greater(t, sum.BeamRouge.Rouge1, 0.7, "beam ROUGE-1 %.3f", sum.BeamRouge.Rouge1)
	require.Greater(t, sum.Greedy.Rouge1, 0.7, "greedy ROUGE-1 %.3f", sum.Greedy.Rouge1)
	require.Len(t, sum.Samples, 4)
	samples, err := os.ReadFile(filepath.Join(out, "samples.md"))
	require.NoError(t, err)
	require.Contains(t, string(samples), "**reference:** zq")
	metrics, err := os.ReadFile(filepath.Join(out, "metrics.jsonl"))
	require.NoError(t, err)
	require.Contains(t, string(metrics), `"val_rouge1"`)
	require.Contains(t, string(metrics), `"val_p_gen"`)

	// decode: one headline per line, whatever the line
	long := strings.Repeat("word ", 300)
	in := strings.NewReader("ZQABCX opened the bank in Paris on monday , officials said .\n\nqwv jkx zzyzx\n" + long + "\n!!! ??? 1984\n")
	var buf, errs bytes.Buffer
	require.NoError(t, summarizeDecode([]string{"--run", out}, in, &buf, &errs))
	got := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	require.Len(t, got, 5, "one line out per line in: %q", buf.String())
	require.True(t, strings.HasPrefix(got[0], "zqabcx opens bank in paris"), "%q", got[0])
	require.Equal(t, "", got[1], "an empty article gives an empty headline")
	require.Empty(t, errs.String())
	buf.Reset()
	require.NoError(t, summarizeDecode([]string{"--run", out, "--beam", "2", "--no-repeat-trigram=false", "--length-penalty", "0"}, strings.NewReader("zqdefx visited the port in oslo on friday , officials said .\n"), &buf, &errs))
	require.True(t, strings.HasPrefix(buf.String(), "zqdefx visits port in oslo"), "%q", buf.String())
}

func TestSummarizePlainAttention(t *testing.T) {
	data := headlineFixture(t, 64, 8)
	out := filepath.Join(t.TempDir(), "run")
	args := []string{"summarize", "--data-dir", data, "--out", out, "--copy=false", "--epochs", "2", "--batch", "16",
		"--embed", "8", "--hidden", "8", "--attn-dim", "8", "--beam", "2", "--no-repeat-trigram=false", "--lead-max", "8",
		"--samples", "2", "--threads", "1", "--eval-size", "4", "--beam-eval", "4", "--buckets", "16:8"}
	require.Equal(t, 0, run(args))
	var sum summarizeSummary
	readJSON(t, filepath.Join(out, "summary.json"), &sum)
	require.Equal(t, "attention", sum.Model)
	require.Equal(t, 4, sum.BeamRouge.Pairs)
	require.Equal(t, 8, sum.Greedy.Pairs)
	require.Zero(t, sum.CopiedOOV, "plain attention cannot copy")
	require.False(t, sum.NoRepeatTrigram)
}

func TestSummarizeUsageErrors(t *testing.T) {
	dir := t.TempDir()
	data := headlineFixture(t, 8, 2)
	require.Equal(t, 0, run([]string{"summarize", "--help"}))
	require.Equal(t, 0, run([]string{"summarize", "decode", "--help"}))
	require.Equal(t, 2, run([]string{"summarize", "--vocab-size", "3", "--out", dir}))
	require.Equal(t, 2, run([]string{"summarize", "--buckets", "32:10,16:12", "--out", dir}))
	require.Equal(t, 2, run([]string{"summarize", "--buckets", "32", "--out", dir}))
	require.Equal(t, 2, run([]string{"summarize", "--beam", "0", "--out", dir}))
	require.Equal(t, 2, run([]string{"summarize", "--copy=maybe", "--out", dir}))
	require.Equal(t, 2, run([]string{"summarize", "--dropout", "1", "--out", dir}))
	require.Equal(t, 2, run([]string{"summarize", "--data-dir", filepath.Join(dir, "missing"), "--out", dir}), "no dataset there")
	require.Equal(t, 2, run([]string{"summarize", "--data-dir", data, "--buckets", "8:4", "--out", dir}), "pairs longer than every bucket")
	require.Equal(t, 2, run([]string{"summarize", "decode"}), "--run is required")
	require.Equal(t, 2, run([]string{"summarize", "decode", "--run", filepath.Join(dir, "missing")}))
	require.Equal(t, 2, run([]string{"summarize", "decode", "--run", dir, "--no-repeat-trigram=maybe"}))
	require.Equal(t, 2, run([]string{"summarize", "decode", "--run", dir, "extra"}))
	require.NoError(t, os.WriteFile(filepath.Join(data, "valid.title.filter.txt"), []byte("one line only\n"), 0o644))
	require.Equal(t, 2, run([]string{"summarize", "--data-dir", data, "--out", dir}), "article and headline files not aligned")
}
