package main

// The commands of the experiments: each writes the metrics its package's Run
// writes for the same settings, its sub-commands read stdin as documented, and
// bad input exits with status 2.

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/triadml/triad/datasets"
	"github.com/triadml/triad/datasets/audio"
	"github.com/triadml/triad/experiments/classify"
	"github.com/triadml/triad/experiments/ctc"
	"github.com/triadml/triad/experiments/demo"
	"github.com/triadml/triad/experiments/gpt"
	"github.com/triadml/triad/experiments/lm"
	"github.com/triadml/triad/experiments/summarize"
	"github.com/triadml/triad/experiments/translate"
	"github.com/triadml/triad/experiments/vae"
	"github.com/triadml/triad/internal/testenv"
	"github.com/triadml/triad/train"
)

// lmFixture writes a small text to a new directory and returns it.
func lmFixture(t *testing.T) string {
	t.Helper()
	return testenv.TextDir(t, strings.Repeat("the cat sat on the mat\na dog ran to the log\n", 60))
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
	requireSameMetrics(t, cfg.Out, cmd)

	// `lm sample` prints what Model.Sample returns
	requireSampleCommand(t, "lm", cmd, lm.Load, "the ", lm.SampleOptions{Temperature: 0.8, N: 20, Seed: 3},
		"--prime", "the ", "--n", "20", "--seed", "3")
	require.Equal(t, 2, run([]string{"lm", "sample", "--run", cmd, "--temperature", "0"}))
	require.Equal(t, 2, run([]string{"lm", "sample", "--run", filepath.Join(root, "none")}), "no run there")
	require.Equal(t, 2, run([]string{"lm", "--data-dir", filepath.Join(root, "none"), "--out", filepath.Join(root, "x")}), "no input.txt")
}

// TestVAECommandMatchesRun runs `triad vae` and vae.Run with the same short
// settings on MNIST and requires byte-identical metrics. It skips when MNIST is
// not in $TRIAD_DATA or ../shared/data (and never downloads it).
func TestVAECommandMatchesRun(t *testing.T) {
	t.Setenv(datasets.EnvOffline, "1")
	if os.Getenv(datasets.EnvData) == "" {
		if shared, err := filepath.Abs(filepath.Join("..", "..", "..", "shared", "data")); err == nil {
			t.Setenv(datasets.EnvData, shared)
		}
	}
	if _, err := datasets.Find("mnist"); err != nil {
		t.Skipf("MNIST not found: %v", err)
	}
	cmd, pkg := t.TempDir(), t.TempDir()
	require.Equal(t, 0, run([]string{"vae", "--out", cmd, "--max-steps", "3", "--log-every", "1", "--eval-every", "2",
		"--hidden", "8", "--latent", "2", "--batch", "500", "--iwae-k", "1,4", "--iwae-max-samples", "8", "--threads", "1"}))

	cfg := vae.DefaultConfig()
	cfg.Out, cfg.MaxSteps, cfg.LogEvery, cfg.EvalEvery, cfg.Threads = pkg, 3, 1, 2, 1
	cfg.Hidden, cfg.Latent, cfg.Batch, cfg.IWAEK, cfg.IWAEMaxSamples = "8", 2, 500, "1,4", 8
	sum, err := vae.Run(context.Background(), cfg, io.Discard)
	require.NoError(t, err)
	require.Equal(t, 3, sum.Steps)
	requireSameMetrics(t, cmd, pkg)
}

func TestVAEFlagErrors(t *testing.T) {
	for _, args := range [][]string{
		{"vae", "--hidden", "400,x"},
		{"vae", "--likelihood", "poisson"},
		{"vae", "--batch", "0"},
		{"vae", "--iwae-k", "0"},
		{"vae", "--learn-sigma"},
		{"vae", "--activation", "swish"},
	} {
		require.Equal(t, 2, run(args), "%v", args)
	}
}

// The command writes the metrics that demo.Run writes for the same settings.
func TestDemoCommandMatchesRun(t *testing.T) {
	dirCmd, dirRun := filepath.Join(t.TempDir(), "cmd"), filepath.Join(t.TempDir(), "run")
	require.Equal(t, 0, run([]string{"demo", "--out", dirCmd, "--max-steps", "3", "--eval-every", "2", "--log-every", "1",
		"--eval-size", "12", "--beam-eval", "2", "--examples", "2", "--batch", "4",
		"--embed", "8", "--hidden", "8", "--attn-dim", "8", "--length-penalty", "0.8", "--threads", "1"}))

	cfg := demo.DefaultConfig()
	cfg.Out, cfg.MaxSteps, cfg.EvalEvery, cfg.LogEvery, cfg.Threads = dirRun, 3, 2, 1, 1
	cfg.EvalSize, cfg.BeamEval, cfg.Examples, cfg.Batch = 12, 2, 2, 4
	cfg.Embed, cfg.Hidden, cfg.AttnDim, cfg.LengthPenalty = 8, 8, 8, 0.8
	_, err := demo.Run(context.Background(), cfg, io.Discard)
	require.NoError(t, err)

	requireSameMetrics(t, dirRun, dirCmd)
}

func TestDemoBadFlags(t *testing.T) {
	require.Equal(t, 2, run([]string{"demo", "--out", t.TempDir(), "--model", "cnn"}), "an unknown model")
	require.Equal(t, 2, run([]string{"demo", "--out", t.TempDir(), "--batch", "0"}), "an empty batch")
	require.Equal(t, 2, run([]string{"demo", "--out", t.TempDir(), "--alpha", "0.6"}), "the length penalty's old flag")
	require.Equal(t, 0, run([]string{"demo", "--help"}))
}

// TestClassifyCommandMatchesRun runs the command and classify.Run with the same
// settings and requires the same metrics, then labels stdin with the run.
func TestClassifyCommandMatchesRun(t *testing.T) {
	data := t.TempDir()
	require.NoError(t, classify.WriteToySNIPS(data, 4, 2))
	byCommand, byRun := filepath.Join(t.TempDir(), "command"), filepath.Join(t.TempDir(), "run")
	require.Equal(t, 0, run([]string{"classify", "--dataset", "snips", "--data-dir", data, "--out", byCommand,
		"--embed", "8", "--hidden", "6", "--attn-dim", "5", "--batch", "8", "--epochs", "2", "--eval-every", "3",
		"--log-every", "1", "--threads", "1"}))
	cfg := classify.DefaultConfig()
	cfg.Dataset, cfg.DataDir, cfg.Out = "snips", data, byRun
	cfg.Embed, cfg.Hidden, cfg.AttnDim, cfg.Batch, cfg.Epochs, cfg.EvalEvery, cfg.LogEvery, cfg.Threads = 8, 6, 5, 8, 2, 3, 1, 1
	_, err := classify.Run(context.Background(), cfg, io.Discard)
	require.NoError(t, err)
	requireSameMetrics(t, byRun, byCommand)

	var buf bytes.Buffer
	in := strings.NewReader("please cue2 now\n\nplay cue4\n")
	require.NoError(t, classifyPredict([]string{"--run", byCommand, "--threads", "1"}, in, &buf))
	lines := strings.Split(strings.TrimRight(buf.String(), "\n"), "\n")
	require.Len(t, lines, 3, "one line out per line in, the empty one included")
	require.Equal(t, "", lines[1], "an empty line gives an empty line")
	for i, line := range []string{lines[0], lines[2]} {
		f := strings.Split(line, "\t")
		require.Len(t, f, 3, line)
		require.Contains(t, datasets.SNIPSIntents, f[0])
		require.Len(t, f[1], 6, "a probability with 4 decimals: %s", line)
		require.Equal(t, []string{"please cue2 now", "play cue4"}[i], f[2])
	}
}

func TestClassifyUsageErrors(t *testing.T) {
	dir := t.TempDir()
	require.Equal(t, 0, run([]string{"classify", "--help"}))
	require.Equal(t, 0, run([]string{"classify", "predict", "--help"}))
	require.Equal(t, 2, run([]string{"classify", "--dataset", "imdb", "--out", dir}))
	require.Equal(t, 2, run([]string{"classify", "--buckets", "32,16", "--out", dir}))
	require.Equal(t, 2, run([]string{"classify", "--no-such-flag"}))
	require.Equal(t, 2, run([]string{"classify", "--data-dir", filepath.Join(dir, "missing"), "--out", dir}), "no dataset there")
	require.Equal(t, 2, run([]string{"classify", "predict"}), "--run is required")
	require.Equal(t, 2, run([]string{"classify", "predict", "--run", dir}), "not a run")
	require.NoError(t, os.Mkdir(filepath.Join(dir, "fold-01"), 0o755))
	err := classifyPredict([]string{"--run", dir}, strings.NewReader("x\n"), io.Discard)
	require.ErrorContains(t, err, "pass one fold's directory", "a cross-validation run has no single model")
}

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
		"--max-digits", "3", "--buckets", "12,24,36", "--eval-size", "6", "--eval-batch", "4", "--beam", "3",
		"--log-every", "1"}))

	cfg := ctc.DefaultConfig()
	cfg.DataDir, cfg.Out, cfg.Threads, cfg.LogEvery = data, runDir, 1, 1
	cfg.Hidden, cfg.Mels, cfg.Batch, cfg.StepsPerEpoch, cfg.Epochs, cfg.Warmup = 8, 16, 4, 2, 2, 1
	cfg.MaxDigits, cfg.Buckets, cfg.EvalSize, cfg.EvalBatch, cfg.Beam = 3, "12,24,36", 6, 4, 3
	_, err := ctc.Run(context.Background(), cfg, io.Discard)
	require.NoError(t, err)

	requireSameMetrics(t, cmdDir, runDir)
}

// TestSummarizeCommandMatchesRun runs the command and summarize.Run with the
// same settings and requires the same metrics, then decodes stdin with the run.
func TestSummarizeCommandMatchesRun(t *testing.T) {
	data := t.TempDir()
	require.NoError(t, summarize.WriteToyGigaword(data, 40, 6))
	cmdOut, apiOut := filepath.Join(t.TempDir(), "cmd"), filepath.Join(t.TempDir(), "api")
	require.Equal(t, 0, run([]string{"summarize", "--data-dir", data, "--out", cmdOut, "--max-steps", "4", "--eval-every", "2",
		"--log-every", "1", "--batch", "8", "--embed", "8", "--hidden", "8", "--attn-dim", "8", "--beam", "2",
		"--eval-size", "4", "--lead-max", "6", "--threads", "1"}))
	cfg := summarize.DefaultConfig()
	cfg.DataDir, cfg.Out, cfg.MaxSteps, cfg.EvalEvery, cfg.LogEvery, cfg.Threads = data, apiOut, 4, 2, 1, 1
	cfg.Batch, cfg.Embed, cfg.Hidden, cfg.AttnDim, cfg.Beam, cfg.EvalSize, cfg.LeadMax = 8, 8, 8, 8, 2, 4, 6
	_, err := summarize.Run(context.Background(), cfg, io.Discard)
	require.NoError(t, err)
	requireSameMetrics(t, apiOut, cmdOut)

	// decode: one headline per line, whatever the line; flags override the run's settings
	in := strings.NewReader("ZQABCX opened the bank in Paris on Monday , officials said .\n\n" + strings.Repeat("word ", 300) + "\n")
	var buf, errs bytes.Buffer
	require.NoError(t, summarizeDecode([]string{"--run", cmdOut, "--beam", "1", "--no-unk=false", "--threads", "1"}, in, &buf, &errs))
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	require.Len(t, lines, 3, "one line out per line in: %q", buf.String())
	require.Equal(t, "", lines[1], "an empty article gives an empty headline")
	require.Equal(t, "summarize decode: line 3: 300 words, cut to the run's 60\n", errs.String(), "a cut article is noted")
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
	require.Equal(t, 6, strings.Count(testenv.ReadFile(t, filepath.Join(dirA, "metrics.jsonl")), "\n"))
	requireSameMetrics(t, dirA, dirB)

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

// requireSameMetrics requires two runs to have written the same, non-empty,
// metrics.jsonl.
func requireSameMetrics(t *testing.T, dirA, dirB string) {
	t.Helper()
	testenv.RequireSameFile(t, "metrics.jsonl", dirA, dirB)
}

// requireSampleCommand checks `triad <name> sample` on the run in dir: with
// args (and --run, --threads 1) it exits 0 and prints what the loaded run's
// Sample(prompt, opts) returns; --help exits 0, and no --run exits 2.
func requireSampleCommand[O sampleOptions, M sampler[O]](t *testing.T, name, dir string, load func(string) (M, error),
	prompt string, opts O, args ...string) {
	t.Helper()
	m, err := load(dir)
	require.NoError(t, err)
	defer m.Close()
	want, err := m.Sample(prompt, opts)
	require.NoError(t, err)
	args = append([]string{name, "sample", "--run", dir, "--threads", "1"}, args...)
	require.Equal(t, want+"\n", capture(t, &os.Stdout, func() { require.Equal(t, 0, run(args)) }))
	require.Equal(t, 0, run([]string{name, "sample", "--help"}))
	require.Equal(t, 2, run([]string{name, "sample"}), "--run is required")
}

// The gpt command and gpt.Run with the same settings write the same metrics, and
// `gpt sample` prints what Model.Sample returns.
func TestGPTCommandMatchesRun(t *testing.T) {
	data, root := lmFixture(t), t.TempDir()
	cmd := filepath.Join(root, "cmd")
	require.Equal(t, 0, run([]string{"gpt", "--data-dir", data, "--out", cmd, "--layers", "1", "--heads", "2",
		"--embed", "8", "--block", "8", "--batch", "3", "--grad-accum", "2", "--warmup", "2", "--eval-iters", "2",
		"--max-steps", "6", "--eval-every", "3", "--log-every", "2", "--threads", "1"}))

	cfg := gpt.DefaultConfig()
	cfg.DataDir, cfg.Out = data, filepath.Join(root, "api")
	cfg.Layers, cfg.Heads, cfg.Embed, cfg.Block, cfg.Batch, cfg.GradAccum, cfg.Warmup, cfg.EvalIters = 1, 2, 8, 8, 3, 2, 2, 2
	cfg.MaxSteps, cfg.EvalEvery, cfg.LogEvery, cfg.Threads = 6, 3, 2, 1
	_, err := gpt.Run(context.Background(), cfg, io.Discard)
	require.NoError(t, err)
	requireSameMetrics(t, cfg.Out, cmd)

	requireSampleCommand(t, "gpt", cmd, gpt.Load, "the ", gpt.SampleOptions{N: 20, Temperature: 0.9, TopK: 5, TopP: 0.9, Seed: 3},
		"--prompt", "the ", "--n", "20", "--top-k", "5", "--top-p", "0.9", "--temperature", "0.9", "--seed", "3")
	require.Equal(t, 2, run([]string{"gpt", "sample", "--run", cmd, "--top-p", "2"}))
	require.Equal(t, 2, run([]string{"gpt", "sample", "--run", filepath.Join(root, "none")}), "no run there")
	require.Equal(t, 2, run([]string{"gpt", "--tokens", "word", "--out", filepath.Join(root, "x")}))
	require.Equal(t, 2, run([]string{"gpt", "--data-dir", filepath.Join(root, "none"), "--out", filepath.Join(root, "y")}), "no input.txt")
	require.Equal(t, 2, run([]string{"gpt", "--data-dir", data, "--init", filepath.Join(root, "none.safetensors"), "--out", filepath.Join(root, "z")}), "no init file")

	// `gpt eval` prints what Model.ValidationLoss and Model.Loss return
	m, err := gpt.Load(cmd)
	require.NoError(t, err)
	defer m.Close()
	want, err := m.ValidationLoss()
	require.NoError(t, err)
	require.Equal(t, want.String()+"\n", capture(t, &os.Stdout, func() { require.Equal(t, 0, run([]string{"gpt", "eval", "--run", cmd, "--threads", "1"})) }))
	text := filepath.Join(root, "text.txt")
	require.NoError(t, os.WriteFile(text, []byte("the cat sat"), 0o644))
	want, err = m.Loss("the cat sat")
	require.NoError(t, err)
	require.Equal(t, 10, want.Tokens)
	require.Equal(t, want.String()+"\n", capture(t, &os.Stdout, func() {
		require.Equal(t, 0, run([]string{"gpt", "eval", "--run", cmd, "--text", text, "--threads", "1"}))
	}))
	require.Equal(t, 2, run([]string{"gpt", "eval", "--run", cmd, "--text", filepath.Join(root, "none.txt")}), "no text file")
	require.NoError(t, os.WriteFile(text, []byte("the zebra"), 0o644))
	require.Equal(t, 2, run([]string{"gpt", "eval", "--run", cmd, "--text", text}), "a character outside the vocabulary")
}

// The config.json of every published run (results/EXPERIMENT/RUN) loads into
// its experiment's Config, and every setting it records reads back as it was
// written: a reorganised Config (a setting moved into an embedded struct) keeps
// the runs of older binaries loadable and their meaning unchanged.
func TestResultsConfigsLoad(t *testing.T) {
	root := filepath.Join("..", "..", "results")
	load := map[string]func(dir string) (any, error){
		"classify":  readConfig(classify.DefaultConfig),
		"ctc":       readConfig(ctc.DefaultConfig),
		"demo":      readConfig(demo.DefaultConfig),
		"gpt":       readConfig(gpt.DefaultConfig),
		"lm":        readConfig(lm.DefaultConfig),
		"summarize": readConfig(summarize.DefaultConfig),
		"translate": readConfig(translate.DefaultConfig),
		"vae":       readConfig(vae.DefaultConfig),
	}
	files, err := filepath.Glob(filepath.Join(root, "*", "*", "config.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, file := range files {
		dir := filepath.Dir(file)
		exp := filepath.Base(filepath.Dir(dir))
		t.Run(exp+"/"+filepath.Base(dir), func(t *testing.T) {
			read, ok := load[exp]
			require.True(t, ok, "no Config for experiment %q", exp)
			cfg, err := read(dir)
			require.NoError(t, err)
			var want, got map[string]any
			raw, err := os.ReadFile(file)
			require.NoError(t, err)
			require.NoError(t, json.Unmarshal(raw, &want))
			raw, err = json.Marshal(cfg)
			require.NoError(t, err)
			require.NoError(t, json.Unmarshal(raw, &got))
			for _, skipped := range []string{"env", "resume", "overwrite"} {
				delete(want, skipped)
			}
			for key, v := range want {
				if now, ok := renamed[exp][key]; ok {
					key = now
				}
				require.Contains(t, got, key)
				require.Equal(t, v, got[key], key)
			}
		})
	}
}

// renamed maps the old keys of an experiment's renamed settings, which the
// published runs may still use, to their keys now.
var renamed = map[string]map[string]string{
	"ctc":       {"test_utterances": "eval_size"},
	"demo":      {"alpha": "length_penalty", "test_size": "eval_size"},
	"summarize": {"val_size": "eval_size"},
	"translate": {"alpha": "length_penalty", "decay_after": "lr_decay_after", "val_size": "eval_size"},
}

// readConfig returns the reader of a run's config.json over an experiment's
// defaults.
func readConfig[C any](defaults func() C) func(dir string) (any, error) {
	return func(dir string) (any, error) {
		cfg := defaults()
		err := train.ReadConfig(dir, &cfg)
		return cfg, err
	}
}
