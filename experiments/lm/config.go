// Package lm is the language-modelling experiment: a recurrent network (Elman,
// LSTM or GRU) predicts the next character or word of tiny-shakespeare, or of
// any text file, trained by truncated back-propagation through time with
// RMSProp. The defaults are Karpathy's char-rnn defaults
// (github.com/karpathy/char-rnn, train.lua), with a 90/10 split.
//
// From Go:
//
//	cfg := lm.DefaultConfig()
//	cfg.MaxSteps = 100
//	sum, err := lm.Run(ctx, cfg, os.Stderr)
//	m, err := lm.Load(sum.Dir) // or the run directory
//	defer m.Close()
//	text, err := m.Sample("ROMEO:", lm.DefaultSampleOptions())
package lm

import (
	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/datasets/vocab"
	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/models/rnn"
	"github.com/triadml/triad/train"
)

// Config holds the experiment's hyperparameters; its json tags are the keys of
// config.json and, with dashes, the command's flags.
type Config struct {
	train.Common
	train.Optim     `help.batch:"sequences per batch" help.lr:"learning rate (RMSProp's unless --optimizer names another)"`
	train.Data      `help.data_dir:"directory holding input.txt (default: the tinyshakespeare dataset)"`
	Level           string  `json:"level" help:"char or word"`
	Cell            string  `json:"cell" help:"rnn, rnn_relu, lstm or gru"`
	Layers          int     `json:"layers" help:"recurrent layers"`
	Hidden          int     `json:"hidden" help:"hidden units per layer"`
	Embed           int     `json:"embed" help:"embedding size (0: hidden)"`
	SeqLen          int     `json:"seq_len" help:"truncated back-propagation window"`
	Alpha           float64 `json:"alpha" help:"RMSProp smoothing constant (char-rnn's decay_rate)"`
	train.StepDecay `help.lr_decay_after:"epoch after which the learning rate decays"`
	ClipValue       float64 `json:"clip" help:"clip every gradient component to [-clip, clip] (char-rnn's grad_clip)"`
	Dropout         float64 `json:"dropout" help:"dropout on embeddings, between layers and before the head"`
	Tie             bool    `json:"tie" help:"tie the output head to the embedding (needs embed = hidden)"`
	MinFreq         int     `json:"min_freq" help:"word level: minimum count of a vocabulary word"`
	TrainFrac       float64 `json:"train_frac" help:"fraction of the corpus used for training (the rest validates)"`
}

// DefaultConfig returns char-rnn's defaults: a 2x128 character LSTM, windows of
// 50 steps, batches of 50, RMSProp at 2e-3 decaying by 0.97 an epoch after
// epoch 10, gradients clipped to [-5, 5], 50 epochs.
func DefaultConfig() Config {
	return Config{
		Common: train.Common{Seed: 1, Epochs: 50, LogEvery: 50, EvalEvery: 1000},
		Level:  "char", Cell: "lstm", Layers: 2, Hidden: 128, SeqLen: 50, Optim: train.Optim{Batch: 50, LR: 2e-3},
		Alpha: 0.95, StepDecay: train.StepDecay{Decay: 0.97, DecayAfter: 10}, ClipValue: 5, MinFreq: 1, TrainFrac: 0.9,
	}
}

// Validate reports an unknown cell or level, a non-positive size, or a training
// fraction outside (0, 1).
func (c Config) Validate() error {
	switch rnn.Cell(c.Cell) {
	case rnn.Tanh, rnn.ReLU, rnn.LSTM, rnn.GRU:
	default:
		return errors.Errorf("unknown cell %q (rnn, rnn_relu, lstm, gru)", c.Cell)
	}
	if _, err := tokenizer(c.Level); err != nil {
		return err
	}
	if c.Batch <= 0 || c.SeqLen <= 0 || c.Hidden <= 0 || c.Layers <= 0 {
		return errors.New("batch, seq_len, hidden and layers must be positive")
	}
	if c.TrainFrac <= 0 || c.TrainFrac >= 1 {
		return errors.Errorf("train_frac %g outside (0, 1)", c.TrainFrac)
	}
	if c.LR <= 0 || c.ClipValue < 0 || c.ClipNorm < 0 {
		return errors.Errorf("lr %g must be positive, clip %g and clip_norm %g not negative", c.LR, c.ClipValue, c.ClipNorm)
	}
	if c.Dropout < 0 || c.Dropout >= 1 {
		return errors.Errorf("dropout %g outside [0, 1)", c.Dropout)
	}
	return nil
}

func tokenizer(level string) (vocab.Tokenizer, error) {
	switch level {
	case "char":
		return vocab.CharTokenizer{}, nil
	case "word":
		return vocab.WordTokenizer{}, nil
	}
	return nil, errors.Errorf("unknown level %q (char, word)", level)
}

// newModel creates the model's parameters, initialised from the seed's "init"
// stream, in a new float32 store.
func newModel(c Config, vocabSize int) (*rnn.LM, *graph.Store, error) {
	return newModelIn(graph.NewStore(tensor.Float32, graph.NewRNG(c.Seed, "init")), c, vocabSize)
}

// newModelIn is newModel with the parameters created in store.
func newModelIn(store *graph.Store, c Config, vocabSize int) (*rnn.LM, *graph.Store, error) {
	m, err := rnn.NewLM(store, rnn.LMConfig{Vocab: vocabSize, Embed: c.Embed, Hidden: c.Hidden, Layers: c.Layers,
		Cell: rnn.Cell(c.Cell), Dropout: c.Dropout, Tie: c.Tie})
	return m, store, err
}
