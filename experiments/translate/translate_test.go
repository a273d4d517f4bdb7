package translate

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/triadml/triad/internal/testenv"
	"github.com/triadml/triad/train/traintest"

	"github.com/stretchr/testify/require"

	"github.com/triadml/triad/datasets"
	"github.com/triadml/triad/datasets/batch"
	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/models/decode"
	"github.com/triadml/triad/train"
)

// corpus writes the synthetic corpus into a temporary directory.
func corpus(t *testing.T, nTrain, nVal int) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, WriteSynthetic(dir, nTrain, nVal))
	return dir
}

// gunzipLines reads the lines of a gzip-compressed file.
func gunzipLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	zr, err := gzip.NewReader(f)
	require.NoError(t, err)
	raw, err := io.ReadAll(zr)
	require.NoError(t, err)
	return strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n")
}

// A small GRU with attention learns the word mapping in a few seconds: BLEU
// rises from about 0 to well above 0, the run directory has what decoding
// needs, and the loaded run translates the validation set as the run did and
// copes with empty, unknown and over-long sentences.
func TestLearnsAndTranslates(t *testing.T) {
	data := corpus(t, 400, 30)
	cfg := DefaultConfig()
	cfg.DataDir, cfg.Out, cfg.Model, cfg.Embed, cfg.Hidden = data, filepath.Join(t.TempDir(), "run"), "gru-attn", 24, 24
	cfg.Batch, cfg.LR, cfg.Warmup, cfg.Dropout, cfg.LabelSmoothing, cfg.Buckets = 16, 0.02, 10, 0, 0.1, 2
	cfg.MaxSteps, cfg.EvalEvery, cfg.LogEvery, cfg.Beam, cfg.Threads = 120, 60, 60, 3, 1
	sum, err := Run(context.Background(), cfg, io.Discard)
	require.NoError(t, err)
	out := sum.Dir
	require.Equal(t, cfg.Out, out)
	pts := traintest.Points(t, out, "val")
	require.Len(t, pts, 2)
	first, last := pts[0].Metrics["val_bleu_lc"], pts[len(pts)-1].Metrics["val_bleu_lc"]
	// a word-for-word mapping of 18 words: the model gets most n-grams right
	require.Greater(t, last, 40.0, "BLEU by evaluation: %v", pts)
	require.Greater(t, last, first)
	for _, s := range []Summary{*sum, testenv.ReadJSON[Summary](t, filepath.Join(out, "summary.json"))} {
		require.Equal(t, 120, s.Steps)
		require.Equal(t, 30, s.ValSentences)
		require.Greater(t, s.BLEU.GreedyLowercase, 40.0)
		require.Greater(t, s.BLEU.BeamLowercase, 0.0)
		require.Greater(t, s.GreedySentPerSec, 0.0)
		require.Greater(t, s.ValPerplexity, 1.0)
		require.Contains(t, s.Command, "--max-steps 120")
		require.Contains(t, s.Command, "--embed 24 ")
		require.Contains(t, s.BLEU.Signature, "case:lc")
	}
	require.Contains(t, sum.String(), "translate: validation BLEU greedy ")
	require.Contains(t, sum.String(), ", beam 3 ")
	for _, f := range []string{"config.json", "vocab.de.json", "vocab.en.json", "val.greedy.txt", "val.beam3.txt",
		"translations/val.step0000060.greedy.txt", "checkpoints/best.safetensors"} {
		require.FileExists(t, filepath.Join(out, f))
	}

	// translating from the run directory alone, as a fresh process would
	m, err := Load(out)
	require.NoError(t, err)
	defer m.Close()
	opts := m.DecodeOptions()
	require.Equal(t, 0.6, opts.LengthPenalty)
	trs := m.Decode([]string{
		"Der hund läuft schnell.",
		"",                                     // empty: empty translation
		"Der zebra läuft.",                     // an unknown word
		strings.Repeat("Der hund läuft ", 667), // 10,005 characters, 2,001 tokens: cut
		"\xff\xfe kaputt",                      // not UTF-8
		"Die katze.",
	}, opts)
	require.Len(t, trs, 6)
	for i, tr := range trs {
		require.NoError(t, tr.Err, "sentence %d", i+1)
	}
	require.NotEmpty(t, trs[0].Text)
	require.Equal(t, Translation{}, trs[1])
	require.NotEmpty(t, trs[3].Text)
	require.Equal(t, 2001, trs[3].SourceLen)
	require.Len(t, trs[3].Source, 50)
	// unknown-word replacement copies the attended source word
	require.Contains(t, trs[2].Text, "zebra")
	require.Equal(t, len(trs[0].Output), len(trs[0].Attention))
	png := filepath.Join(t.TempDir(), "line-00001.png")
	require.NoError(t, trs[0].Heatmap(png, "line 1"))
	require.FileExists(t, png)
	require.Error(t, trs[1].Heatmap(png, "empty"))

	// the validation set translated by the loaded run gives the run's translations
	val := gunzipLines(t, filepath.Join(data, "val.de.gz"))
	got, err := m.Translate(val, opts)
	require.NoError(t, err)
	require.Equal(t, testenv.ReadLines(t, filepath.Join(out, "val.greedy.txt")), got)
	opts.Beam = 3
	got, err = m.Translate(val, opts)
	require.NoError(t, err)
	require.Equal(t, testenv.ReadLines(t, filepath.Join(out, "val.beam3.txt")), got)
}

// tinyTransformer is a Transformer with BPE vocabularies small enough to train
// a few steps in a second.
func tinyTransformer(data string) Config {
	cfg := DefaultConfig()
	cfg.DataDir, cfg.Model, cfg.Vocab, cfg.BPESize = data, "transformer", "bpe", 100
	cfg.Dim, cfg.Heads, cfg.FF, cfg.Layers, cfg.Batch, cfg.LR, cfg.Warmup = 16, 2, 16, 1, 8, 0.01, 2
	cfg.Schedule, cfg.Buckets, cfg.EvalEvery, cfg.LogEvery, cfg.Beam, cfg.Threads, cfg.MinFreq = "noam", 2, 3, 1, 0, 1, 1
	return cfg
}

// A Transformer with BPE vocabularies trains, stops, resumes and ends where an
// uninterrupted run ends; the cheaper step decoder agrees with the model's own.
func TestTransformerResume(t *testing.T) {
	cfg := tinyTransformer(corpus(t, 120, 12))
	runTo := func(out, resume string, steps int) {
		c := cfg
		c.Out, c.Resume, c.MaxSteps = out, resume, steps
		_, err := Run(context.Background(), c, io.Discard)
		require.NoError(t, err)
	}
	whole, part := filepath.Join(t.TempDir(), "whole"), filepath.Join(t.TempDir(), "part")
	runTo(whole, "", 6)
	runTo(part, "", 3)
	runTo("", part, 6)
	a, b := traintest.Points(t, whole, "val"), traintest.Points(t, part, "val")
	require.Len(t, a, 2)
	require.Equal(t, a, b, "a resumed run repeats the uninterrupted one")
	require.FileExists(t, filepath.Join(part, "bpe.de.json"))

	d, err := Load(whole)
	require.NoError(t, err)
	defer d.Close()
	srcs := [][]int{
		d.src.voc.Encode(d.src.tokens("Der hund läuft schnell.")),
		d.src.voc.Encode(d.src.tokens("Die katze schläft hier heute.")),
	}
	opt := decode.Options{BOS: specials.BOS, EOS: specials.EOS, MaxLen: d.m.maxTgt}
	fast, err := decode.Greedy(d.m.decoder, srcs, opt)
	require.NoError(t, err)
	ref, err := decode.Greedy(d.m.modelDecoder, srcs, opt)
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
	bf, err := decode.BeamSearch(d.m.decoder, srcs[1], opt)
	require.NoError(t, err)
	br, err := decode.BeamSearch(d.m.modelDecoder, srcs[1], opt)
	require.NoError(t, err)
	require.Equal(t, br[0].Tokens, bf[0].Tokens)
}

// A cancelled context stops a run with train.ErrInterrupted.
func TestInterrupted(t *testing.T) {
	cfg := tinyTransformer(corpus(t, 40, 4))
	cfg.Out, cfg.MaxSteps = t.TempDir(), 3
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Run(ctx, cfg, io.Discard)
	require.ErrorIs(t, err, train.ErrInterrupted)
}

// Bad settings and missing data are usage errors, found before anything is
// written.
func TestUsageErrors(t *testing.T) {
	data := corpus(t, 10, 3)
	for name, edit := range map[string]func(*Config){
		"unknown model":    func(c *Config) { c.Model = "lstm" },
		"unknown language": func(c *Config) { c.Src = "fr" },
		"same languages":   func(c *Config) { c.Src, c.Tgt = "en", "en" },
		"unknown vocab":    func(c *Config) { c.Vocab = "char" },
		"bad batch":        func(c *Config) { c.Batch = 0 },
		"bad heads":        func(c *Config) { c.Model, c.Dim, c.Heads = "transformer", 10, 3 },
		"data-parallel":    func(c *Config) { c.Dist = "mpi" },
		"missing data":     func(c *Config) { c.DataDir = filepath.Join(t.TempDir(), "nothing") },
	} {
		cfg := DefaultConfig()
		cfg.DataDir, cfg.Out = data, filepath.Join(t.TempDir(), "run")
		edit(&cfg)
		_, err := Run(context.Background(), cfg, io.Discard)
		require.True(t, train.IsUsage(err), "%s: %v", name, err)
		require.NoDirExists(t, cfg.Out, name)
	}
	_, err := Load(t.TempDir())
	require.ErrorContains(t, err, "is not a translate run")
}

func TestScheduleBucketsAndCommand(t *testing.T) {
	src := []int{3, 5, 5, 6, 7, 8, 9, 10, 12, 30}
	tgt := []int{4, 4, 6, 7, 8, 9, 11, 11, 13, 28}
	sb, tb := batch.SpreadBuckets(src, tgt, 4)
	require.Equal(t, len(sb), len(tb))
	for i := 1; i < len(sb); i++ {
		require.Greater(t, sb[i], sb[i-1])
		require.Greater(t, tb[i], tb[i-1])
	}
	require.Equal(t, 30, sb[len(sb)-1], "the last bucket holds the longest source")
	require.Equal(t, 28, tb[len(tb)-1])

	cfg := DefaultConfig()
	cfg.LR, cfg.Warmup, cfg.Decay, cfg.DecayAfter = 1, 4, 0.5, 2
	s, err := cfg.schedule(10)
	require.NoError(t, err)
	require.InDelta(t, 0.25, s.LR(0), 1e-12)
	require.InDelta(t, 1, s.LR(3), 1e-12)
	require.InDelta(t, 1, s.LR(19), 1e-12)
	require.InDelta(t, 0.5, s.LR(20), 1e-12)
	require.InDelta(t, 0.25, s.LR(30), 1e-12)
	cfg.Schedule, cfg.Epochs, cfg.MaxSteps = "cosine", 10, 40
	s, err = cfg.schedule(10)
	require.NoError(t, err)
	require.InDelta(t, 0.01, s.LR(40), 1e-12, "the cosine ends at the last step")

	cfg = DefaultConfig()
	cfg.Model, cfg.Out, cfg.Threads, cfg.Lower = "transformer", "somewhere", 1, true
	require.Equal(t, "triad translate --lower=true --model transformer --threads 1", cfg.command())
	cfg.LengthPenalty, cfg.DecayAfter = 1, 3
	require.Equal(t, "triad translate --length-penalty 1 --lower=true --lr-decay-after 3 --model transformer --threads 1", cfg.command())
}

// --eval-size bounds every evaluation, the final one included: a run of two
// steps with --eval-size 10 decodes 10 of the 30 validation sentences, greedily
// and with beam search; an older config's val_size reads as eval_size.
func TestEvalSizeBoundsFinalEvaluation(t *testing.T) {
	cfg := tinyTransformer(corpus(t, 40, 30))
	out := filepath.Join(t.TempDir(), "run")
	require.NoError(t, train.ParseFlags("triad translate", &cfg, &cfg.Common,
		[]string{"--max-steps", "2", "--eval-size", "10", "--beam", "2", "--out", out}))
	sum, err := Run(context.Background(), cfg, io.Discard)
	require.NoError(t, err)
	require.Equal(t, 10, sum.ValSentences)
	require.Len(t, testenv.ReadLines(t, filepath.Join(out, "val.greedy.txt")), 10)
	require.Len(t, testenv.ReadLines(t, filepath.Join(out, "val.beam2.txt")), 10)
	for _, p := range traintest.Points(t, out, "val") {
		require.Contains(t, p.Metrics, "val_bleu_lc")
	}
	require.Contains(t, sum.Command, "--eval-size 10")

	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"val_size": 7}`), 0o644))
	old := DefaultConfig()
	require.NoError(t, train.ReadConfig(dir, &old))
	require.Equal(t, 7, old.EvalSize)
}

// The configurations of the published runs, written under the settings' older
// names (alpha, decay_after), still load.
func TestPublishedConfigsLoad(t *testing.T) {
	for _, name := range []string{"gru-attn", "transformer-d256"} {
		cfg, err := readConfig(filepath.Join("..", "..", "results", "translate", name))
		require.NoError(t, err, name)
		require.Equal(t, 0.6, cfg.LengthPenalty, name)
		require.Equal(t, 1, cfg.DecayAfter, name)
	}
	cfg, err := readConfig(filepath.Join("..", "..", "results", "translate", "gru-attn"))
	require.NoError(t, err)
	require.Equal(t, 128, cfg.Hidden)
}

// On Multi30k's validation references, tokenising into the model's tokens and
// detokenising the output loses almost nothing that sacreBLEU's 13a
// tokenisation sees, so BLEU measures the model, not the pipeline.
func TestDetokenisationOnMulti30k(t *testing.T) {
	dir := ""
	for _, d := range testenv.Dirs() {
		if _, err := os.Stat(filepath.Join(d, "multi30k", "val.en.gz")); err == nil {
			dir = filepath.Join(d, "multi30k")
			break
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
	cfg := DefaultConfig()
	for _, kind := range []string{"word", "bpe"} {
		cfg.Vocab, cfg.BPESize, cfg.MinFreq = kind, 2000, 1 // every reference token in the vocabulary
		_, side, err := buildSides(cfg, pairs)
		require.NoError(t, err)
		hyps := make([]string, len(refs))
		for i, r := range refs {
			hyps[i] = side.text(side.voc.Encode(side.tokens(r)), nil)
		}
		cased, lower, err := bleu(hyps, refs)
		require.NoError(t, err)
		t.Logf("%s: BLEU of the round trip %.2f (lowercased %.2f)", kind, cased.Score, lower.Score)
		require.Greater(t, cased.Score, 99.0, kind)
	}
}

// A batch run in micro-batches has the loss and gradient of the whole batch.
func TestMicroBatches(t *testing.T) {
	data := corpus(t, 64, 4) // 8 full batches of 8
	pairs, err := datasets.LoadMulti30k(data, "train", "de", "en")
	require.NoError(t, err)
	grads := func(maxTokens int) (float64, [][]float32) {
		cfg := DefaultConfig()
		cfg.Model, cfg.Dim, cfg.Heads, cfg.FF, cfg.Layers, cfg.Dropout = "transformer", 8, 2, 8, 1, 0
		cfg.Batch, cfg.MaxTokens, cfg.Buckets, cfg.MinFreq = 8, maxTokens, 1, 1
		src, tgt, err := buildSides(cfg, pairs)
		require.NoError(t, err)
		m, err := newModel(cfg, src.voc.Len(), tgt.voc.Len())
		require.NoError(t, err)
		task, err := newTask(cfg, m, src, tgt, pairs, pairs[:2], t.TempDir(), io.Discard)
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

// The synthetic corpus is the same at every call and pairs every source with a
// word-for-word target.
func TestWriteSynthetic(t *testing.T) {
	a, b := corpus(t, 20, 5), corpus(t, 20, 5)
	for _, f := range []string{"train.de.gz", "train.en.gz", "val.de.gz", "val.en.gz"} {
		require.Equal(t, gunzipLines(t, filepath.Join(a, f)), gunzipLines(t, filepath.Join(b, f)), f)
	}
	de, en := gunzipLines(t, filepath.Join(a, "train.de.gz")), gunzipLines(t, filepath.Join(a, "train.en.gz"))
	require.Len(t, de, 20)
	for i := range de {
		require.Equal(t, len(strings.Fields(de[i])), len(strings.Fields(en[i])))
		require.True(t, strings.HasSuffix(de[i], ".") && bytes.ContainsAny([]byte(en[i][:1]), "ABCDEFGHIJKLMNOPQRSTUVWXYZ"), en[i])
	}
}
