// Package ctc is the connected-digit recognition experiment: utterances of 1 to
// 7 digits, made by joining recordings of one speaker of the Free Spoken Digit
// Dataset with short silences (package audio), read as stacked log-mel frames by
// a bidirectional recurrent network (package acoustic) trained with CTC, and
// decoded by prefix beam search. Training utterances are drawn afresh for every
// step from the training takes, test utterances once, with their own seed, from
// the test takes (0-4). The defaults train a 2-layer bidirectional GRU of 128
// units a direction for 1,000 steps of 32 utterances, Adam with a cosine
// schedule (results/ctc/default).
//
// From Go:
//
//	cfg := ctc.DefaultConfig()
//	cfg.MaxSteps = 100
//	sum, err := ctc.Run(ctx, cfg, os.Stderr)
//	r, err := ctc.Load(sum.Dir)
//	defer r.Close()
//	digits, err := r.Recognize(waves) // samples at audio.FSDDSampleRate
package ctc

import (
	"github.com/pkg/errors"

	"github.com/triadml/triad/datasets/audio"
	"github.com/triadml/triad/datasets/batch"
	"github.com/triadml/triad/train"
)

// Config holds the experiment's hyperparameters. Utterances join 1 to 7
// recordings of one speaker with short silences; training utterances are drawn
// afresh for every step from the training takes, test utterances once, with
// their own seed, from the test takes (0-4).
type Config struct {
	train.Common
	train.Optim   `help.batch:"utterances per training step" help.lr:"peak learning rate (of Adam, or of the --optimizer solver)"`
	train.Data    `help.data_dir:"directory holding the Free Spoken Digit Dataset's metadata.tsv and recordings (default: found through $TRIAD_DATA or the cache)"`
	Cell          string  `json:"cell" help:"lstm or gru"`
	Layers        int     `json:"layers" help:"bidirectional recurrent layers"`
	Hidden        int     `json:"hidden" help:"hidden units per direction"`
	Dropout       float64 `json:"dropout" help:"dropout between recurrent layers"`
	Mels          int     `json:"mels" help:"log-mel filters of the 25 ms frames, 10 ms apart (HTK mel scale, Hann window)"`
	Stack         int     `json:"stack" help:"10 ms frames stacked into one input frame, which also subsamples by this factor"`
	MinDigits     int     `json:"min_digits" help:"fewest digits of an utterance"`
	MaxDigits     int     `json:"max_digits" help:"most digits of an utterance"`
	GapMinMs      float64 `json:"gap_min_ms" help:"shortest silence between two digits, in ms"`
	GapMaxMs      float64 `json:"gap_max_ms" help:"longest silence between two digits, in ms"`
	EdgeMaxMs     float64 `json:"edge_max_ms" help:"longest silence before the first and after the last digit, in ms"`
	SilenceNoise  float64 `json:"silence_noise" help:"standard deviation of the Gaussian noise filling the silences (0: digital silence)"`
	Pad           string  `json:"pad" help:"padding of shorter utterances in a batch: silence (more signal, read by the loss) or mask (masked recurrent steps: slower graphs)"`
	Buckets       string  `json:"buckets" help:"padded lengths of the batch shapes, in input frames, comma-separated; longer utterances are redrawn"`
	StepsPerEpoch int     `json:"steps_per_epoch" help:"training steps per epoch (the utterances of every step are new)"`
	train.Cosine
	// the test utterances, built from the test takes
	train.EvalSet `alias.eval_size:"test_utterances"`
	TestSeed      uint64 `json:"test_seed" help:"seed of the test utterances (independent of --seed)"`
	EvalBatch     int    `json:"eval_batch" help:"utterances per evaluation batch"`
	Beam          int    `json:"beam" help:"prefix beam search width of test_der (1: greedy decoding)"`
}

// DefaultConfig returns the settings of results/ctc/default.
func DefaultConfig() Config {
	return Config{
		Common: train.Common{Seed: 1, Epochs: 10, LogEvery: 25},
		Cell:   "gru", Layers: 2, Hidden: 128, Mels: 40, Stack: 6,
		MinDigits: 1, MaxDigits: 7, GapMinMs: 50, GapMaxMs: 200, EdgeMaxMs: 100, SilenceNoise: 1e-3,
		Pad: "silence", Buckets: "20,40,60,80,100", StepsPerEpoch: 100,
		Optim: train.Optim{Batch: 32, LR: 3e-3, ClipNorm: 5}, Cosine: train.Cosine{MinLR: 1e-4, Warmup: 100},
		EvalSet: train.EvalSet{EvalSize: 500}, TestSeed: 1, EvalBatch: 50, Beam: 8,
	}
}

// Validate checks the settings that do not depend on the data.
func (c Config) Validate() error {
	switch {
	case c.Cell != "lstm" && c.Cell != "gru":
		return errors.Errorf("cell %q: want lstm or gru", c.Cell)
	case c.Layers < 1 || c.Hidden < 1 || c.Mels < 1 || c.Stack < 1:
		return errors.New("layers, hidden, mels and stack must be positive")
	case c.MinDigits < 1 || c.MaxDigits < c.MinDigits:
		return errors.Errorf("digits from %d to %d: want 1 <= min_digits <= max_digits", c.MinDigits, c.MaxDigits)
	case c.GapMinMs < 0 || c.GapMaxMs < c.GapMinMs || c.EdgeMaxMs < 0 || c.SilenceNoise < 0:
		return errors.New("silences: want 0 <= gap_min_ms <= gap_max_ms, edge_max_ms >= 0 and silence_noise >= 0")
	case c.Batch < 1 || c.EvalBatch < 1 || c.StepsPerEpoch < 1 || c.EvalSize < 1:
		return errors.New("batch, eval_batch, steps_per_epoch and eval_size must be positive")
	case c.LR <= 0 || c.MinLR < 0 || c.MinLR > c.LR || c.Warmup < 0:
		return errors.New("learning rates: want 0 <= min_lr <= lr, lr > 0 and warmup >= 0")
	case c.Pad != "silence" && c.Pad != "mask":
		return errors.Errorf("pad %q: want silence or mask", c.Pad)
	case c.Beam < 1:
		return errors.Errorf("beam %d: want at least 1", c.Beam)
	}
	_, err := batch.ParseLengthSet(c.Buckets)
	return err
}

// utterances returns the settings of the utterances and their frames.
func (c Config) utterances() audio.UtteranceConfig {
	return audio.UtteranceConfig{Mels: c.Mels, Stack: c.Stack, GapMinMs: c.GapMinMs, GapMaxMs: c.GapMaxMs,
		EdgeMaxMs: c.EdgeMaxMs, SilenceNoise: c.SilenceNoise}
}

// masked reports whether padding is masked rather than filled with silence.
func (c Config) masked() bool { return c.Pad == "mask" }
