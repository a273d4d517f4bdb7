package summarize_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/triadml/triad/internal/testenv"

	"github.com/stretchr/testify/require"

	"github.com/triadml/triad/experiments/summarize"
	"github.com/triadml/triad/train"
)

// headlineFixture is WriteToyGigaword into a temporary directory.
func headlineFixture(t *testing.T, train, valid int) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, summarize.WriteToyGigaword(dir, train, valid))
	return dir
}

// tinyConfig is a small model on the fixture in data, run into out.
func tinyConfig(data, out string) summarize.Config {
	cfg := summarize.DefaultConfig()
	cfg.DataDir, cfg.Out, cfg.Threads = data, out, 1
	cfg.Embed, cfg.Hidden, cfg.AttnDim = 16, 16, 16
	cfg.Batch, cfg.LeadMax, cfg.Samples = 16, 10, 4
	return cfg
}

func TestCopiesNames(t *testing.T) {
	data := headlineFixture(t, 192, 20)
	out := filepath.Join(t.TempDir(), "run")
	cfg := tinyConfig(data, out)
	cfg.Epochs, cfg.Dropout, cfg.LR, cfg.DecayAfter = 12, 0, 0.01, 12
	cfg.MaxDecode, cfg.Beam = 10, 3
	sum, err := summarize.Run(context.Background(), cfg, io.Discard)
	require.NoError(t, err)
	require.Equal(t, out, sum.Dir)
	for _, f := range []string{"config.json", "metrics.jsonl", "summary.json", "samples.md", "vocab.json", "checkpoints/best.safetensors"} {
		require.FileExists(t, filepath.Join(out, f))
	}
	saved := testenv.ReadJSON[summarize.Summary](t, filepath.Join(out, "summary.json"))
	require.Equal(t, sum.BeamRouge, saved.BeamRouge, "summary.json holds what Run returns")
	require.Equal(t, "pointer-generator", sum.Model)
	require.Equal(t, 20, sum.BeamRouge.Pairs)
	require.Nil(t, sum.Unseen, "20 pairs are all within the first 300")
	require.Len(t, testenv.ReadLines(t, filepath.Join(out, "valid.beam.txt")), 20, "one beam headline a validation pair")
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
	require.Contains(t, sum.String(), "summarize: pointer-generator, ROUGE-1/2/L F1 ")
	require.Contains(t, sum.String(), "(beam 3 on 20 pairs)")
	samples := testenv.ReadFile(t, filepath.Join(out, "samples.md"))
	require.Contains(t, samples, "**reference:** zq")
	require.Contains(t, samples, "**beam 3, length penalty 5:** ")
	metrics := testenv.ReadFile(t, filepath.Join(out, "metrics.jsonl"))
	require.Contains(t, metrics, `"val_rouge1"`)
	require.Contains(t, metrics, `"val_p_gen"`)

	// decoding: one headline per article, whatever the article
	m, err := summarize.Load(out)
	require.NoError(t, err)
	defer m.Close()
	require.Equal(t, cfg.DecodeOptions, m.Options())
	long := strings.Repeat("word ", 300)
	got, err := m.Summarize([]string{"ZQABCX opened the bank in Paris on monday , officials said .", "", "qwv jkx zzyzx", long, "!!! ??? 1984"}, m.Options())
	require.NoError(t, err)
	require.Len(t, got, 5)
	require.True(t, strings.HasPrefix(got[0], "zqabcx opens bank in paris"), "%q", got[0])
	require.Equal(t, "", got[1], "an empty article gives an empty headline")
	opts := m.Options()
	opts.Beam, opts.NoRepeatTrigram, opts.LengthPenalty = 2, false, 0
	got, err = m.Summarize([]string{"zqdefx visited the port in oslo on friday , officials said ."}, opts)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(got[0], "zqdefx visits port in oslo"), "%q", got[0])
	opts.Beam = 1
	greedy, err := m.Summarize([]string{"zqdefx visited the port in oslo on friday , officials said ."}, opts)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(greedy[0], "zqdefx visits port in oslo"), "%q", greedy[0])
	opts.Beam = 0
	_, err = m.Summarize([]string{"a"}, opts)
	require.ErrorContains(t, err, "beam 0")
}

func TestPlainAttention(t *testing.T) {
	data := headlineFixture(t, 64, 8)
	cfg := tinyConfig(data, filepath.Join(t.TempDir(), "run"))
	cfg.Copy, cfg.Epochs, cfg.Embed, cfg.Hidden, cfg.AttnDim = false, 2, 8, 8, 8
	cfg.Beam, cfg.NoRepeatTrigram, cfg.LeadMax, cfg.Samples = 2, false, 8, 2
	cfg.EvalSize, cfg.BeamEval, cfg.Buckets = 4, 4, "16:8"
	sum, err := summarize.Run(context.Background(), cfg, io.Discard)
	require.NoError(t, err)
	require.Equal(t, "attention", sum.Model)
	require.Equal(t, 4, sum.BeamRouge.Pairs)
	require.Equal(t, 4, sum.Greedy.Pairs, "the final evaluation decodes --eval-size pairs")
	require.Zero(t, sum.CopiedOOV, "plain attention cannot copy")
	require.False(t, sum.NoRepeatTrigram)
}

func TestConfigErrors(t *testing.T) {
	require.NoError(t, summarize.DefaultConfig().Validate())
	for name, change := range map[string]func(*summarize.Config){
		"vocabulary of the special tokens only": func(c *summarize.Config) { c.VocabSize = 3 },
		"buckets not ascending":                 func(c *summarize.Config) { c.Buckets = "32:10,16:12" },
		"bucket without a headline length":      func(c *summarize.Config) { c.Buckets = "32" },
		"beam 0":                                func(c *summarize.Config) { c.Beam = 0 },
		"dropout 1":                             func(c *summarize.Config) { c.Dropout = 1 },
		"negative eval_size":                    func(c *summarize.Config) { c.EvalSize = -1 },
	} {
		cfg := summarize.DefaultConfig()
		change(&cfg)
		require.Error(t, cfg.Validate(), name)
		cfg.Out = t.TempDir()
		_, err := summarize.Run(context.Background(), cfg, io.Discard)
		require.True(t, train.IsUsage(err), "%s: %v", name, err)
	}
	require.ErrorContains(t, summarize.DecodeOptions{Beam: 1, LengthPenalty: -1, MaxDecode: 5}.Validate(), "length_penalty")
	require.ErrorContains(t, summarize.DecodeOptions{Beam: 1, MaxDecode: 0}.Validate(), "max_decode")
}

func TestDataErrors(t *testing.T) {
	dir := t.TempDir()
	data := headlineFixture(t, 8, 2)
	for name, cfg := range map[string]summarize.Config{
		"no dataset there":               tinyConfig(filepath.Join(dir, "missing"), dir),
		"pairs longer than every bucket": func() summarize.Config { c := tinyConfig(data, dir); c.Buckets = "8:4"; return c }(),
	} {
		_, err := summarize.Run(context.Background(), cfg, io.Discard)
		require.True(t, train.IsUsage(err), "%s: %v", name, err)
	}
	require.NoError(t, os.WriteFile(filepath.Join(data, "valid.title.filter.txt"), []byte("one line only\n"), 0o644))
	_, err := summarize.Run(context.Background(), tinyConfig(data, dir), io.Discard)
	require.True(t, train.IsUsage(err), "article and headline files not aligned: %v", err)
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	_, err := summarize.Load(filepath.Join(dir, "missing"))
	require.ErrorContains(t, err, "not a summarize run")
	// a config.json of an older run, with val_size, is read; the run has no
	// vocabulary
	require.NoError(t, os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"val_size": 30, "beam": 4, "env": {}}`), 0o644))
	_, err = summarize.Load(dir)
	require.ErrorContains(t, err, "vocab.json")
	var cfg summarize.Config
	require.NoError(t, train.ReadConfig(dir, &cfg))
	require.Equal(t, 30, cfg.EvalSize)
	require.Equal(t, 4, cfg.Beam)
}

func TestPublishedConfigs(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join("..", "..", "results", "summarize", "*"))
	require.NoError(t, err)
	if len(dirs) == 0 {
		t.Skip("no published runs")
	}
	for _, dir := range dirs {
		cfg := summarize.DefaultConfig()
		cfg.EvalSize = -1
		require.NoError(t, train.ReadConfig(dir, &cfg), dir)
		require.Zero(t, cfg.EvalSize, "%s: eval_size is read", dir)
		require.NoError(t, cfg.Validate(), dir)
	}
}

func TestInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	cfg := tinyConfig(headlineFixture(t, 32, 4), filepath.Join(t.TempDir(), "run"))
	_, err := summarize.Run(ctx, cfg, io.Discard)
	require.ErrorIs(t, err, train.ErrInterrupted)
}
