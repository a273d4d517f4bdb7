package demo

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/triadml/triad/internal/testenv"

	"github.com/stretchr/testify/require"

	"github.com/triadml/triad/datasets"
	"github.com/triadml/triad/train"
)

// tiny returns a configuration that runs in a few seconds.
func tiny(model, dir string) Config {
	cfg := DefaultConfig()
	cfg.Out, cfg.Model = dir, model
	cfg.MaxSteps, cfg.EvalEvery, cfg.LogEvery = 3, 3, 1
	cfg.EvalSize, cfg.BeamEval, cfg.Examples, cfg.Batch = 12, 2, 2, 4
	cfg.Embed, cfg.Hidden, cfg.AttnDim = 8, 8, 8
	cfg.Dim, cfg.Heads, cfg.FF, cfg.Layers = 8, 2, 8, 1
	return cfg
}

func TestVocab(t *testing.T) {
	v := newCharVocab(targetChars)
	require.Equal(t, "2026-11-28", v.decode(v.encode("2026-11-28")))
	require.Equal(t, []int{unk, 4}, v.encode("x-"))
	require.Equal(t, "?-", v.decode([]int{tokens.EOS, 4}))
	alphabet, _ := datasets.DateAlphabet()
	require.Equal(t, 4+len([]rune(alphabet)), newCharVocab(alphabet).size())
}

// The demo runs end to end in a few steps and writes its run directory, and the
// run loads for inference.
func TestRunsAFewSteps(t *testing.T) {
	for _, model := range []string{"rnn", "transformer"} {
		t.Run(model, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "run")
			sum, err := Run(context.Background(), tiny(model, dir), io.Discard)
			require.NoError(t, err)
			require.Equal(t, dir, sum.Dir)
			for _, f := range []string{"config.json", "metrics.jsonl", "summary.json", "results.json", "attention.png", "attention_3.png"} {
				require.FileExists(t, filepath.Join(dir, f))
			}
			res := testenv.ReadJSON[Results](t, filepath.Join(dir, "results.json"))
			require.Equal(t, 12, res.TestSize)
			require.Equal(t, 3, res.Steps)
			require.Len(t, res.Examples, 2)
			require.Equal(t, res, *sum.Results)
			require.Len(t, res.Examples[0].Target, len(datasets.DateISO))

			m, err := Load(dir)
			require.NoError(t, err)
			defer func() { require.NoError(t, m.Close()) }()
			require.Equal(t, model, m.Config.Model)
			dates := []string{res.Examples[0].Source, res.Examples[1].Source}
			greedy, err := m.Normalize(dates, 1)
			require.NoError(t, err)
			require.Equal(t, []string{res.Examples[0].Prediction, res.Examples[1].Prediction}, greedy)
			beam, err := m.Normalize(dates, res.Beam)
			require.NoError(t, err)
			require.Equal(t, []string{res.Examples[0].Beam, res.Examples[1].Beam}, beam)
		})
	}
}

// oneStep trains the rnn model for one step and returns the run directory.
func oneStep(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "run")
	cfg := tiny("rnn", dir)
	cfg.MaxSteps, cfg.BeamEval = 1, 0
	_, err := Run(context.Background(), cfg, io.Discard)
	require.NoError(t, err)
	return dir
}

func TestNormalizeRejectsBadInput(t *testing.T) {
	m, err := Load(oneStep(t))
	require.NoError(t, err)
	defer m.Close()
	_, err = m.Normalize([]string{"28/11/2026", ""}, 1)
	require.ErrorContains(t, err, "date 1")
	_, err = m.Normalize([]string{strings.Repeat("9", 200)}, 1)
	require.ErrorContains(t, err, "200 characters")
	_, err = m.Normalize([]string{"28/11/2026"}, 0)
	require.ErrorContains(t, err, "beam 0")
	out, err := m.Normalize(nil, 1)
	require.NoError(t, err)
	require.Empty(t, out)
}

// A run written when the length penalty was called alpha still loads.
func TestLoadAcceptsTheOldLengthPenaltyKey(t *testing.T) {
	dir := oneStep(t)
	path := filepath.Join(dir, "config.json")
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Contains(t, string(raw), `"length_penalty": 0.6`)
	raw = []byte(strings.Replace(string(raw), `"length_penalty": 0.6`, `"alpha": 0.25`, 1))
	require.NoError(t, os.WriteFile(path, raw, 0o644))
	m, err := Load(dir)
	require.NoError(t, err)
	defer m.Close()
	require.Equal(t, 0.25, m.Config.LengthPenalty)
}

func TestBadConfig(t *testing.T) {
	cfg := tiny("cnn", t.TempDir())
	_, err := Run(context.Background(), cfg, io.Discard)
	require.ErrorContains(t, err, `unknown model "cnn"`)
	require.True(t, train.IsUsage(err))
	for _, bad := range []func(*Config){
		func(c *Config) { c.Batch = 0 },
		func(c *Config) { c.EvalSize = 0 },
		func(c *Config) { c.Beam = 0 },
		func(c *Config) { c.Examples = -1 },
		func(c *Config) { c.BeamEval = -1 },
	} {
		cfg := tiny("rnn", t.TempDir())
		bad(&cfg)
		require.ErrorContains(t, cfg.Validate(), "must be positive")
	}
	cfg = tiny("rnn", t.TempDir())
	cfg.Cell = "elman"
	_, err = Run(context.Background(), cfg, io.Discard)
	require.True(t, train.IsUsage(err), "%v", err)
}

// A cancelled context stops the run as Ctrl-C does.
func TestInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Run(ctx, tiny("rnn", t.TempDir()), io.Discard)
	require.ErrorIs(t, err, train.ErrInterrupted)
}
