package gpt

import (
	"context"
	"io"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/datasets"
	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/internal/testenv"
	"github.com/triadml/triad/train"
	"github.com/triadml/triad/train/traintest"
)

func tinyConfig(t *testing.T) Config {
	t.Helper()
	cfg := DefaultConfig()
	cfg.DataDir = testenv.TextDir(t, strings.Repeat("first citizen: before we proceed any further, hear me speak.\n", 40))
	cfg.Out = filepath.Join(t.TempDir(), "run")
	cfg.Layers, cfg.Heads, cfg.Embed, cfg.Block, cfg.Batch = 1, 2, 8, 8, 3
	cfg.MaxSteps, cfg.EvalEvery, cfg.LogEvery, cfg.EvalIters, cfg.Warmup, cfg.Threads = 6, 3, 1, 2, 2, 1
	return cfg
}

func TestValidate(t *testing.T) {
	testenv.RequireInvalid(t, DefaultConfig, map[string]func(*Config){
		"tokens":     func(c *Config) { c.Tokens = "word" },
		"block":      func(c *Config) { c.Block = 0 },
		"grad_accum": func(c *Config) { c.GradAccum = 0 },
		"context":    func(c *Config) { c.Context = 10 },
		"min_lr":     func(c *Config) { c.MinLR = 1 },
		"train_frac": func(c *Config) { c.TrainFrac = 1 },
		"eval_iters": func(c *Config) { c.EvalIters = 0 },
	})
}

func TestCharsRoundTrip(t *testing.T) {
	c := charsOf("hello, world\n")
	require.Equal(t, "\n ,dehlorw", c.Chars)
	ids, err := c.encode("held")
	require.NoError(t, err)
	require.Equal(t, "held", c.decode(ids))
	_, err = c.encode("x")
	require.Error(t, err)
}

// The matrices are decayed, the vectors not, and the state of both groups
// round-trips through one map.
func TestSplitDecay(t *testing.T) {
	s := graph.NewStore(tensor.Float32, graph.NewRNG(1, "init"))
	w, err := s.New("w", []int{2, 2}, graph.Ones())
	require.NoError(t, err)
	b, err := s.New("b", []int{2}, graph.Ones())
	require.NoError(t, err)
	cfg := DefaultConfig()
	cfg.WeightDecay = 0.5
	sd, err := newSplitDecay(cfg, s.Params())
	require.NoError(t, err)
	require.True(t, sd.decayed["w"])
	require.False(t, sd.decayed["b"])
	sd.SetLR(0.1)
	require.NoError(t, sd.Step(s.Params())) // zero gradients: only the decay moves a weight
	require.InDelta(t, 1-0.1*0.5, graph.Slice[float32](w.Value)[0], 1e-6)
	require.Equal(t, float32(1), graph.Slice[float32](b.Value)[0])
	st := sd.State()
	require.Contains(t, st, "w.exp_avg")
	require.Contains(t, st, "b.exp_avg")
	again, err := newSplitDecay(cfg, s.Params())
	require.NoError(t, err)
	require.NoError(t, again.LoadState(st))
	require.Equal(t, len(st), len(again.State()))
}

// A run with gradient accumulation trains, a resumed run repeats the
// uninterrupted one, and sampling slides its context past the block.
func TestRunResumeAndSample(t *testing.T) {
	cfg := tinyConfig(t)
	cfg.GradAccum = 2
	sum, err := Run(context.Background(), cfg, io.Discard)
	require.NoError(t, err)
	require.Equal(t, 6, sum.Steps)
	require.Less(t, sum.Final["val_loss"], 4.0)

	half := cfg
	half.Out, half.MaxSteps = filepath.Join(t.TempDir(), "half"), 3
	_, err = Run(context.Background(), half, io.Discard)
	require.NoError(t, err)
	resume := cfg
	resume.Out, resume.Resume = half.Out, half.Out
	_, err = Run(context.Background(), resume, io.Discard)
	require.NoError(t, err)
	testenv.RequireSameFile(t, "metrics.jsonl", sum.Dir, half.Out)

	m, err := Load(sum.Dir)
	require.NoError(t, err)
	defer m.Close()
	opts := SampleOptions{N: 30, Temperature: 1, TopK: 5, TopP: 0.9, Seed: 4}
	a, err := m.Sample("first", opts)
	require.NoError(t, err)
	b, err := m.Sample("first", opts)
	require.NoError(t, err)
	require.Equal(t, a, b)
	require.Len(t, []rune(a), len("first")+30, "the context slides past the block of 8")
	_, err = m.Sample("", opts)
	require.True(t, train.IsUsage(err), "%v", err)
	_, err = m.Sample("QUEEN", opts)
	require.True(t, train.IsUsage(err), "%v", err)
}

// --init starts from a GPT-2-layout file, here a run's best checkpoint: the
// model takes the file's sizes, and its first steps start from the trained
// weights.
func TestInit(t *testing.T) {
	cfg := tinyConfig(t)
	sum, err := Run(context.Background(), cfg, io.Discard)
	require.NoError(t, err)
	ft := cfg
	ft.Out, ft.Init, ft.Layers, ft.Embed = filepath.Join(t.TempDir(), "ft"), filepath.Join(sum.Dir, "checkpoints", "best.safetensors"), 3, 4
	fsum, err := Run(context.Background(), ft, io.Discard)
	require.NoError(t, err)
	m, err := Load(fsum.Dir)
	require.NoError(t, err)
	defer m.Close()
	require.Equal(t, 1, m.Config.Layers)
	require.Equal(t, 8, m.Config.Embed)
	require.Equal(t, 8, m.Config.Context)
	first := func(dir string) float64 {
		pts, err := train.ReadMetrics(dir)
		require.NoError(t, err)
		return pts[0].Metrics["loss"]
	}
	require.Less(t, first(fsum.Dir), first(sum.Dir))

	bad := cfg
	bad.Out, bad.Init, bad.Block = filepath.Join(t.TempDir(), "bad"), ft.Init, 9
	_, err = Run(context.Background(), bad, io.Discard)
	require.True(t, train.IsUsage(err), "a block longer than the file's positions: %v", err)
}

// GPT-2 tokens: the run trains over GPT-2's vocabulary and its sample decodes
// back to text. It skips when the gpt2-bpe dataset is not at hand.
func TestGPT2Tokens(t *testing.T) {
	t.Setenv(datasets.EnvOffline, "1")
	if _, err := datasets.Find("gpt2-bpe"); err != nil {
		t.Skipf("gpt2-bpe not found: %v", err)
	}
	cfg := tinyConfig(t)
	cfg.Tokens, cfg.MaxSteps, cfg.EvalEvery = "gpt2", 2, 2
	sum, err := Run(context.Background(), cfg, io.Discard)
	require.NoError(t, err)
	require.InDelta(t, math.Log(50257), sum.Final["val_loss"], 0.5)
	m, err := Load(sum.Dir)
	require.NoError(t, err)
	defer m.Close()
	out, err := m.Sample("first citizen:", SampleOptions{N: 3, Seed: 1})
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(out, "first citizen:"), out)
}

// runGroup trains cfg on data with a group of n ranks (0: one process alone)
// and returns the run directory.
func runGroup(t *testing.T, cfg Config, data *corpus, n int) string {
	t.Helper()
	return traintest.Group(t, n, func(dir string, comm train.Comm) error {
		c := cfg
		loop := &train.Loop{Dir: dir, Common: c.Common, Comm: comm, Log: io.Discard}
		if _, err := prepare(&c, data, loop); err != nil {
			return err
		}
		_, err := loop.Run(context.Background())
		return err
	})
}

// Two ranks, each on half the rows of every batch, train and evaluate as one
// process does, to rounding; a group of one is one process, bit for bit (with
// one micro-batch a step, whose loss is a float32 that the group's float32
// reduction keeps as it is).
func TestSharded(t *testing.T) {
	cfg := tinyConfig(t)
	cfg.Batch = 4
	data, err := loadCorpus(cfg)
	require.NoError(t, err)
	traintest.RequireSameMetrics(t, runGroup(t, cfg, data, 0), runGroup(t, cfg, data, 1), 0)

	cfg.GradAccum = 2
	single := runGroup(t, cfg, data, 0)
	traintest.RequireSameMetrics(t, single, runGroup(t, cfg, data, 2), 1e-4)
	require.Len(t, traintest.Points(t, single, "val"), 2, "evaluations")

	odd := cfg
	odd.Batch = 3
	tk, err := prepare(&odd, data, &train.Loop{})
	require.NoError(t, err)
	err = tk.SetShard(0, 2)
	require.True(t, train.IsUsage(err), "batch 3 does not split into 2 ranks: %v", err)
	require.NotContains(t, err.Error(), "\n")
	require.Error(t, tk.SetShard(2, 2))
}
