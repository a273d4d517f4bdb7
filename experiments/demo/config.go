package demo

import (
	"github.com/pkg/errors"

	"github.com/triadml/triad/experiments/internal/encdec"
	"github.com/triadml/triad/train"
)

// Config holds the hyperparameters of the demo.
type Config struct {
	train.Common
	train.Optim        `help.batch:"pairs per training step (fresh dates every step)" help.lr:"Adam learning rate"`
	Model              string `json:"model" help:"rnn (GRU/LSTM encoder-decoder with attention) or transformer"`
	Cell               string `json:"cell" help:"rnn model: gru or lstm"`
	Attention          string `json:"attention" help:"rnn model: bahdanau, dot or general"`
	encdec.RNN         `help.embed:"rnn model: character embedding size" help.hidden:"rnn model: encoder units per direction (the decoder has twice as many)" help.attn_dim:"rnn model: width of the additive attention (0: the decoder's)"`
	encdec.Transformer `help.dim:"transformer: model width"`
	Dropout            float64 `json:"dropout" help:"dropout"`
	LabelSmoothing     float64 `json:"label_smoothing" help:"label smoothing of the cross-entropy"`
	Warmup             int     `json:"warmup" help:"linear warm-up steps of the learning rate, then cosine decay to 0.1x at the end"`
	train.EvalSet      `alias.eval_size:"test_size"`
	encdec.BeamSearch  `help.beam:"beam size of the beam-search evaluation" help.length_penalty:"length-penalty exponent of beam search (Wu et al. 2016)"`
	BeamEval           int `json:"beam_eval" help:"held-out pairs also decoded with beam search at the end"`
	Examples           int `json:"examples" help:"held-out examples printed at the end"`
}

// DefaultConfig returns the settings of results/demo/default: a bidirectional
// GRU encoder-decoder with Bahdanau attention, 8 epochs of 100 steps.
func DefaultConfig() Config {
	return Config{
		Common: train.Common{Seed: 1, Epochs: 8, LogEvery: 50, EvalEvery: 200},
		Model:  "rnn", Cell: "gru", Attention: "bahdanau", RNN: encdec.RNN{Embed: 32, Hidden: 32, AttnDim: 32},
		Transformer: encdec.Transformer{Dim: 64, Heads: 4, FF: 128, Layers: 2},
		Optim:       train.Optim{Batch: 64, LR: 3e-3, ClipNorm: 1}, Warmup: 100, EvalSet: train.EvalSet{EvalSize: 1000}, BeamSearch: encdec.BeamSearch{Beam: 4, LengthPenalty: 0.6}, BeamEval: 100, Examples: 8,
	}
}

// StepsPerEpoch is the length of the demo's "epoch": the data are drawn fresh at
// every step, so an epoch is only a unit of Epochs.
const StepsPerEpoch = 100

// Validate reports settings the demo cannot run with; the model's own settings
// (cell, attention, widths) are checked when it is built.
func (c Config) Validate() error {
	if c.Batch <= 0 || c.EvalSize <= 0 || c.Beam <= 0 || c.Examples < 0 || c.BeamEval < 0 || c.LengthPenalty < 0 {
		return errors.New("batch, eval_size and beam must be positive; examples, beam_eval and length_penalty non-negative")
	}
	switch c.Model {
	case "rnn", "transformer":
		return nil
	}
	return errors.Errorf("unknown model %q (rnn, transformer)", c.Model)
}
