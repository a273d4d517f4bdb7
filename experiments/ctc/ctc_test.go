package ctc

import (
	"context"
	"io"
	"math"
	"path/filepath"
	"testing"

	"github.com/triadml/triad/internal/testenv"

	"github.com/stretchr/testify/require"

	"github.com/triadml/triad/datasets/audio"
	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/train"
)

func tinyConfig() Config {
	cfg := DefaultConfig()
	cfg.Hidden, cfg.Mels, cfg.Batch, cfg.StepsPerEpoch, cfg.Epochs = 8, 16, 4, 2, 2
	cfg.MaxDigits, cfg.Buckets, cfg.EvalSize, cfg.EvalBatch, cfg.Warmup = 3, "12,24,36", 6, 4, 1
	cfg.Beam = 3
	return cfg
}

func TestValidate(t *testing.T) {
	require.NoError(t, DefaultConfig().Validate())
	for _, bad := range []func(*Config){
		func(c *Config) { c.Cell = "elman" },
		func(c *Config) { c.Pad = "zeros" },
		func(c *Config) { c.Buckets = "10,x" },
		func(c *Config) { c.MinDigits, c.MaxDigits = 3, 2 },
		func(c *Config) { c.Beam = 0 },
		func(c *Config) { c.GapMinMs = 300 },
		func(c *Config) { c.LR = -1 },
		func(c *Config) { c.Stack = 0 },
		func(c *Config) { c.EvalBatch = 0 },
	} {
		cfg := DefaultConfig()
		bad(&cfg)
		require.Error(t, cfg.Validate(), "%+v", cfg)
	}
}

// TestBatches: a step's utterances share one digit count and one bucket, come
// from the training takes, and depend on the step only (the batch drawn ahead
// equals the one drawn in place); the test set comes from the test takes. (The
// audio package's tests check that an utterance has one speaker.)
func TestBatches(t *testing.T) {
	cfg := tinyConfig()
	// training takes: speaker a says 1 and 2, speaker b 7; test takes: both say 3
	train := audio.ToneCorpus([]string{"a"}, []int{1, 2}, 8)
	other := audio.ToneCorpus([]string{"b"}, []int{7}, 8)
	test := audio.ToneCorpus([]string{"a", "b"}, []int{3}, 5)
	c := &audio.DigitCorpus{Speakers: []string{"a", "b"}, Clips: map[string]map[string][]audio.DigitClip{
		"train": {"a": train.Clips["train"]["a"], "b": other.Clips["train"]["b"]},
		"test":  test.Clips["test"],
	}}
	task, err := newTask(cfg, c)
	require.NoError(t, err)
	for step := range 20 {
		us, T, err := task.trainBatch(task.gen, step)
		require.NoError(t, err)
		require.Len(t, us, cfg.Batch)
		require.Contains(t, task.buckets, T)
		n := len(us[0].Digits)
		for _, u := range us {
			require.Len(t, u.Digits, n, "one digit count per step")
			require.Equal(t, T, u.Feats.Frames)
			require.LessOrEqual(t, u.Real, T)
			require.Equal(t, cfg.Mels*cfg.Stack, u.Feats.Dim)
			for _, d := range u.Digits {
				require.Contains(t, []int{1, 2, 7}, d, "training takes only")
			}
		}
		again, T2, err := task.batch(step)
		require.NoError(t, err)
		require.Equal(t, T, T2)
		for i := range us {
			require.Equal(t, us[i].Digits, again[i].Digits)
			require.Equal(t, us[i].Feats.Data, again[i].Feats.Data, "the batch drawn ahead equals the one drawn in place")
		}
	}
	utts, digits := task.testCount()
	require.Equal(t, cfg.EvalSize, utts)
	require.Greater(t, digits, 0)
	for _, batch := range task.test {
		for _, u := range batch {
			for _, d := range u.Digits {
				require.Equal(t, 3, d, "test takes only")
			}
		}
	}
}

// toneData writes the synthetic corpus of speakers a and b saying 0-3 and
// returns its directory.
func toneData(t *testing.T) string {
	dir := t.TempDir()
	require.NoError(t, audio.ToneCorpus([]string{"a", "b"}, []int{0, 1, 2, 3}, 7).WriteFSDD(dir))
	return dir
}

// TestTrainsOnTones runs the experiment for a few steps on synthetic tones,
// with silence padding and with masks, checks the run's files, and recognises
// utterances with the loaded run.
func TestTrainsOnTones(t *testing.T) {
	data := toneData(t)
	for _, pad := range []string{"silence", "mask"} {
		t.Run(pad, func(t *testing.T) {
			cfg := tinyConfig()
			cfg.Pad, cfg.DataDir, cfg.Out = pad, data, t.TempDir()
			if pad == "mask" {
				cfg.Cell, cfg.Layers = "lstm", 2
			}
			sum, err := Run(context.Background(), cfg, io.Discard)
			require.NoError(t, err)
			require.Equal(t, 4, sum.Steps)
			require.Equal(t, cfg.Out, sum.Dir)
			for _, k := range []string{"test_der", "test_der_greedy", "test_seq_acc", "test_loss"} {
				v, ok := sum.Final[k]
				require.True(t, ok, k)
				require.False(t, math.IsNaN(v) || math.IsInf(v, 0), "%s = %v", k, v)
			}
			require.Equal(t, 4, testenv.ReadJSON[train.Summary](t, filepath.Join(cfg.Out, "summary.json")).Steps)

			r, err := Load(sum.Dir)
			require.NoError(t, err)
			defer r.Close()
			require.Equal(t, cfg, r.cfg)
			corpus, err := audio.LoadDigitCorpus(data)
			require.NoError(t, err)
			gen, err := audio.NewUtterances(cfg.utterances(), corpus)
			require.NoError(t, err)
			rng := graph.NewRNG(9, "recognize")
			var waves [][]float64
			for n := range 5 {
				u, err := gen.Draw(rng, "test", 1+n%3)
				require.NoError(t, err)
				waves = append(waves, u.Wave)
			}
			waves = append(waves, make([]float64, 3*audio.FSDDSampleRate)) // 50 frames: longer than the largest bucket
			got, err := r.Recognize(waves)
			require.NoError(t, err)
			require.Len(t, got, len(waves))
			for _, ds := range got {
				for _, d := range ds {
					require.True(t, d >= 0 && d <= 9, "digit %d", d)
				}
			}
			again, err := r.Recognize(waves)
			require.NoError(t, err)
			require.Equal(t, got, again)
			_, err = r.Recognize([][]float64{waves[0], make([]float64, 10)})
			require.ErrorContains(t, err, "utterance 1: 10 samples, shorter than a frame")
		})
	}
}

// TestRunErrors: bad settings and missing data are usage errors.
func TestRunErrors(t *testing.T) {
	cfg := tinyConfig()
	cfg.Cell, cfg.Out = "elman", t.TempDir()
	_, err := Run(context.Background(), cfg, io.Discard)
	require.True(t, train.IsUsage(err), "%v", err)
	cfg = tinyConfig()
	cfg.DataDir, cfg.Out = t.TempDir(), t.TempDir()
	_, err = Run(context.Background(), cfg, io.Discard)
	require.True(t, train.IsUsage(err), "%v", err)
	require.ErrorContains(t, err, "metadata.tsv")
}

// TestInterrupted: a cancelled context stops the run at once with
// train.ErrInterrupted and a checkpoint.
func TestInterrupted(t *testing.T) {
	cfg := tinyConfig()
	cfg.DataDir, cfg.Out = toneData(t), t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	sum, err := Run(ctx, cfg, io.Discard)
	require.ErrorIs(t, err, train.ErrInterrupted)
	require.True(t, sum.Interrupted)
	require.Equal(t, cfg.Out, sum.Dir)
	require.FileExists(t, filepath.Join(cfg.Out, "checkpoints", "last.safetensors"))
}
