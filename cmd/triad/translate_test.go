package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/triadml/triad/datasets"
	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/models/attention"
	"github.com/triadml/triad/train"
)

// trLexicon is the word-for-word "German -> English" of the synthetic corpus.
var trLexicon = [][2]string{
	{"der", "the"}, {"hund", "dog"}, {"katze", "cat"}, {"mann", "man"}, {"frau", "woman"}, {"kind", "child"},
	{"läuft", "runs"}, {"schläft", "sleeps"}, {"isst", "eats"}, {"sieht", "sees"}, {"rot", "red"}, {"blau", "blue"},
	{"groß", "big"}, {"klein", "small"}, {"hier", "here"}, {"dort", "there"}, {"heute", "today"}, {"schnell", "fast"},
}

// trFixture writes a synthetic Multi30k in a temporary directory: sentences of
// 3 to 7 lexicon words and a full stop, translated word for word, the first
// letter capitalised on both sides; a third of them also hold a name seen
// nowhere else, the same on both sides (it becomes <unk>).
func trFixture(t *testing.T, nTrain, nVal int) string {
	t.Helper()
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(7, 8))
	write := func(name string, lines []string) {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		_, err := zw.Write([]byte(strings.Join(lines, "\n") + "\n"))
		require.NoError(t, err)
		require.NoError(t, zw.Close())
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), buf.Bytes(), 0o644))
	}
	capitalise := func(s string) string {
		r := []rune(s)
		return strings.ToUpper(string(r[0])) + string(r[1:])
	}
	for split, n := range map[string]int{"train": nTrain, "val": nVal} {
		var de, en []string
		for i := 0; i < n; i++ {
			var d, e []string
			for k := 3 + rng.IntN(5); k > 0; k-- {
				w := trLexicon[rng.IntN(len(trLexicon))]
				d, e = append(d, w[0]), append(e, w[1])
			}
			if rng.IntN(3) == 0 {
				name := fmt.Sprintf("Xq%s%d", split, i)
				k := 1 + rng.IntN(len(d)-1)
				d = append(d[:k], append([]string{name}, d[k:]...)...)
				e = append(e[:k], append([]string{name}, e[k:]...)...)
			}
			de = append(de, capitalise(strings.Join(d, " "))+".")
			en = append(en, capitalise(strings.Join(e, " "))+".")
		}
		write(split+".de.gz", de)
		write(split+".en.gz", en)
	}
	return dir
}

// trPoints reads the validation points of a run's metrics.jsonl.
func trPoints(t *testing.T, dir string) []train.Point {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "metrics.jsonl"))
	require.NoError(t, err)
	defer f.Close()
	var out []train.Point
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var p train.Point
		require.NoError(t, json.Unmarshal(sc.Bytes(), &p))
		if p.Split == "val" {
			out = append(out, p)
		}
	}
	require.NoError(t, sc.Err())
	return out
}

// A small GRU with attention learns the word mapping in a few seconds: BLEU
// rises from about 0 to well above 0, the run directory has what decoding
// needs, and a fresh decoder translates stdin line by line, coping with bad
// lines.
func TestTranslateLearnsAndDecodes(t *testing.T) {
	data := trFixture(t, 400, 30)
	out := filepath.Join(t.TempDir(), "run")
	args := []string{"translate", "--data-dir", data, "--out", out, "--model", "gru-attn", "--embed", "24", "--hidden", "24",
		"--batch", "16", "--lr", "0.02", "--warmup", "10", "--dropout", "0", "--label-smoothing", "0.1", "--buckets", "2",
		"--max-steps", "120", "--eval-every", "60", "--log-every", "60", "--beam", "3", "--threads", "1"}
	require.Equal(t, 0, run(args))
	pts := trPoints(t, out)
	require.Len(t, pts, 2)
	first, last := pts[0].Metrics["val_bleu_lc"], pts[len(pts)-1].Metrics["val_bleu_lc"]
	// a word-for-word mapping of 18 words: the model gets most n-grams right
	require.Greater(t, last, 40.0, "BLEU by evaluation: %v", pts)
	require.Greater(t, last, first)
	var sum translateSummary
	readJSON(t, filepath.Join(out, "summary.json"), &sum)
	require.Equal(t, 120, sum.Steps)
	require.Equal(t, 30, sum.ValSentences)
	require.Greater(t, sum.BLEU.GreedyLowercase, 40.0)
	require.Greater(t, sum.BLEU.BeamLowercase, 0.0)
	require.Greater(t, sum.GreedySentPerSec, 0.0)
	require.Greater(t, sum.ValPerplexity, 1.0)
	require.Contains(t, sum.Command, "--max-steps 120")
	require.Contains(t, sum.Command, "--embed 24 ")
	require.Contains(t, sum.BLEU.Signature, "case:lc")
	for _, f := range []string{"config.json", "vocab.de.json", "vocab.en.json", "val.greedy.txt", "val.beam3.txt",
		"translations/val.step0000060.greedy.txt", "checkpoints/best.safetensors"} {
		require.FileExists(t, filepath.Join(out, f))
	}

	// decoding from the run directory alone, as a fresh process would
	raw, err := os.ReadFile(filepath.Join(data, "val.de.gz"))
	require.NoError(t, err)
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	require.NoError(t, err)
	var valDE bytes.Buffer
	_, err = valDE.ReadFrom(zr)
	require.NoError(t, err)
	in := strings.Join([]string{
		"Der hund läuft schnell.",
		"",                                     // empty: empty translation
		"Der zebra läuft.",                     // an unknown word
		strings.Repeat("Der hund läuft ", 667), // 10,005 characters, 2,001 tokens: cut
		"\xff\xfe kaputt",                      // not UTF-8
		"Die katze.",
	}, "\n") + "\n"
	pngs := filepath.Join(t.TempDir(), "png")
	var stdout, stderr bytes.Buffer
	require.NoError(t, translateDecode([]string{"--run", out, "--attention-png", pngs, "--threads", "1"}, strings.NewReader(in), &stdout, &stderr))
	lines := strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n")
	require.Len(t, lines, 6, "one output line per input line: %q", stdout.String())
	require.Equal(t, "", lines[1])
	require.NotEmpty(t, lines[0])
	require.NotEmpty(t, lines[3])
	require.Contains(t, stderr.String(), "line 4: 2001 tokens, cut to the model's 50")
	require.Equal(t, 1, strings.Count(stderr.String(), "\n"), "stderr: %s", stderr.String())
	require.FileExists(t, filepath.Join(pngs, "line-00001.png"))
	require.NoFileExists(t, filepath.Join(pngs, "line-00002.png"))
	// unknown-word replacement copies the attended source word
	require.Contains(t, lines[2], "zebra")

	// the validation set decoded by the fresh decoder gives the run's translations
	stdout.Reset()
	stderr.Reset()
	require.NoError(t, translateDecode([]string{"--run", out}, bytes.NewReader(valDE.Bytes()), &stdout, &stderr))
	want, err := os.ReadFile(filepath.Join(out, "val.greedy.txt"))
	require.NoError(t, err)
	require.Equal(t, string(want), stdout.String())
	require.Empty(t, stderr.String())
	stdout.Reset()
	require.NoError(t, translateDecode([]string{"--run", out, "--beam", "3"}, bytes.NewReader(valDE.Bytes()), &stdout, &stderr))
	want, err = os.ReadFile(filepath.Join(out, "val.beam3.txt"))
	require.NoError(t, err)
	require.Equal(t, string(want), stdout.String())
}

// A Transformer with BPE vocabularies trains, stops, resumes and ends where an
// uninterrupted run ends; the cheaper step decoder agrees with the model's own.
func TestTranslateTransformerResume(t *testing.T) {
	data := trFixture(t, 120, 12)
	base := []string{"translate", "--data-dir", data, "--model", "transformer", "--vocab", "bpe", "--bpe-size", "100",
		"--dim", "16", "--heads", "2", "--ff", "16", "--layers", "1", "--batch", "8", "--lr", "0.01", "--warmup", "2",
		"--schedule", "noam", "--buckets", "2", "--eval-every", "3", "--log-every", "1", "--beam", "0", "--threads", "1", "--min-freq", "1"}
	whole := filepath.Join(t.TempDir(), "whole")
	require.Equal(t, 0, run(append(append([]string{}, base...), "--out", whole, "--max-steps", "6")))
	part := filepath.Join(t.TempDir(), "part")
	require.Equal(t, 0, run(append(append([]string{}, base...), "--out", part, "--max-steps", "3")))
	require.Equal(t, 0, run([]string{"translate", "--resume", part, "--max-steps", "6"}))
	a, b := trPoints(t, whole), trPoints(t, part)
	require.Len(t, a, 2)
	require.Equal(t, a, b, "a resumed run repeats the uninterrupted one")
	require.FileExists(t, filepath.Join(part, "bpe.de.json"))

	d, err := loadTrDecoder(whole)
	require.NoError(t, err)
	srcs := [][]int{
		d.src.voc.Encode(d.src.tokens("Der hund läuft schnell.")),
		d.src.voc.Encode(d.src.tokens("Die katze schläft hier heute.")),
	}
	opt := attention.DecodeOptions{BOS: trTokens.BOS, EOS: trTokens.EOS, MaxLen: d.m.maxTgt}
	fast, err := attention.Greedy(d.m.decoder, srcs, opt)
	require.NoError(t, err)
	ref, err := attention.Greedy(d.m.modelDecoder, srcs, opt)
	require.NoError(t, err)
	for i := range fast {
		require.Equal(t, ref[i].Tokens, fast[i].Tokens)
		require.InDelta(t, ref[i].LogProb, fast[i].LogProb, 1e-3)
		require.Equal(t, len(ref[i].Weights), len(fast[i].Weights))
		for k := range ref[i].Weights {
			require.InDeltaSlice(t, ref[i].Weights[k][:len(srcs[i])], fast[i].Weights[k][:len(srcs[i])], 1e-4)
		}
	}
	opt.Beam = 3
	bf, err := attention.BeamSearch(d.m.decoder, srcs[1], opt)
	require.NoError(t, err)
	br, err := attention.BeamSearch(d.m.modelDecoder, srcs[1], opt)
	require.NoError(t, err)
	require.Equal(t, br[0].Tokens, bf[0].Tokens)
}

func TestTranslateUsageErrors(t *testing.T) {
	data := trFixture(t, 10, 3)
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
}

func TestTranslateHelpers(t *testing.T) {
	src := []int{3, 5, 5, 6, 7, 8, 9, 10, 12, 30}
	tgt := []int{4, 4, 6, 7, 8, 9, 11, 11, 13, 28}
	sb, tb := trBucketBounds(src, tgt, 4)
	require.Equal(t, len(sb), len(tb))
	for i := 1; i < len(sb); i++ {
		require.Greater(t, sb[i], sb[i-1])
		require.Greater(t, tb[i], tb[i-1])
	}
	require.Equal(t, 30, sb[len(sb)-1], "the last bucket holds the longest source")
	require.Equal(t, 28, tb[len(tb)-1])

	s := trWarmupConstant{base: 1, warmup: 4, decay: 0.5, after: 2, stepsPerEpoch: 10}
	require.InDelta(t, 0.25, s.LR(0), 1e-12)
	require.InDelta(t, 1, s.LR(3), 1e-12)
	require.InDelta(t, 1, s.LR(19), 1e-12)
	require.InDelta(t, 0.5, s.LR(20), 1e-12)
	require.InDelta(t, 0.25, s.LR(30), 1e-12)

	cfg := defaultTranslateConfig()
	cfg.Model, cfg.Out, cfg.Threads, cfg.Lower = "transformer", "somewhere", 1, true
	require.Equal(t, "triad translate --lower=true --model transformer --threads 1", trCommand(cfg))
}

// On Multi30k's validation references, tokenising into the model's tokens and
// detokenising the output loses almost nothing that sacreBLEU's 13a
// tokenisation sees, so BLEU measures the model, not the pipeline.
func TestTranslateDetokenisationOnMulti30k(t *testing.T) {
	dir := ""
	for _, d := range append(filepath.SplitList(os.Getenv("TRIAD_DATA")), "../../../shared/data", "../../shared/data") {
		if d != "" {
			if _, err := os.Stat(filepath.Join(d, "multi30k", "val.en.gz")); err == nil {
				dir = filepath.Join(d, "multi30k")
				break
			}
		}
	}
	if dir == "" {
		t.Skip("Multi30k not found in $TRIAD_DATA or ../shared/data")
	}
	pairs, err := datasets.LoadMulti30k(dir, "val", "de", "en")
	require.NoError(t, err)
	require.Len(t, pairs, 1014)
	refs := make([]string, len(pairs))
	for i, p := range pairs {
		refs[i] = p.Target
	}
	cfg := defaultTranslateConfig()
	for _, kind := range []string{"word", "bpe"} {
		cfg.Vocab, cfg.BPESize, cfg.MinFreq = kind, 2000, 1 // every reference token in the vocabulary
		_, side, err := buildTrSides(cfg, pairs)
		require.NoError(t, err)
		hyps := make([]string, len(refs))
		for i, r := range refs {
			hyps[i] = side.text(side.voc.Encode(side.tokens(r)), nil)
		}
		cased, lower, err := trBLEU(hyps, refs)
		require.NoError(t, err)
		t.Logf("%s: BLEU of the round trip %.2f (lowercased %.2f)", kind, cased.Score, lower.Score)
		require.Greater(t, cased.Score, 99.0, kind)
	}
}

// A batch run in micro-batches has the loss and gradient of the whole batch.
func TestTranslateMicroBatches(t *testing.T) {
	data := trFixture(t, 64, 4) // 8 full batches of 8
	pairs, err := datasets.LoadMulti30k(data, "train", "de", "en")
	require.NoError(t, err)
	grads := func(maxTokens int) (float64, [][]float32) {
		cfg := defaultTranslateConfig()
		cfg.Model, cfg.Dim, cfg.Heads, cfg.FF, cfg.Layers, cfg.Dropout = "transformer", 8, 2, 8, 1, 0
		cfg.Batch, cfg.MaxTokens, cfg.Buckets, cfg.MinFreq = 8, maxTokens, 1, 1
		src, tgt, err := buildTrSides(cfg, pairs)
		require.NoError(t, err)
		m, err := newTrModel(cfg, src.voc.Len(), tgt.voc.Len())
		require.NoError(t, err)
		task, err := newTranslateTask(cfg, m, src, tgt, pairs, pairs[:2], t.TempDir())
		require.NoError(t, err)
		defer task.close()
		if maxTokens > 0 {
			require.Equal(t, 1, task.microRows(task.shapes[0]), "one row per part")
		}
		res, err := task.TrainStep(0, graph.NewRNG(1, "noise"))
		require.NoError(t, err)
		var gs [][]float32
		for _, p := range m.store.Params() {
			gs = append(gs, append([]float32(nil), graph.Slice[float32](p.Grad)...))
		}
		return res.Loss, gs
	}
	lossA, a := grads(0)
	lossB, b := grads(1)
	require.InDelta(t, lossA, lossB, 1e-5)
	for k := range a {
		for i := range a[k] {
			require.InDelta(t, a[k][i], b[k][i], 1e-5+1e-3*math.Abs(float64(a[k][i])))
		}
	}
}
