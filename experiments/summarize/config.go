package summarize

import (
	"math"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/datasets/batch"
	"github.com/triadml/triad/datasets/vocab"
	"github.com/triadml/triad/experiments/internal/encdec"
	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/models/decode"
	"github.com/triadml/triad/models/pointer"
	"github.com/triadml/triad/train"
)

// Config holds the hyperparameters of a run.
type Config struct {
	train.Common
	train.Optim `help.batch:"pairs per training step" help.lr:"Adam learning rate"`
	train.Data  `help.data_dir:"directory holding the Gigaword sample's files (default: found through $TRIAD_DATA or the cache)"`
	Copy        bool   `json:"copy" help:"pointer-generator, which can copy source words (true), or plain attention with p_gen = 1 (false)"`
	MinFreq     int    `json:"min_freq" help:"minimum count of a vocabulary word in the training articles and headlines"`
	VocabSize   int    `json:"vocab_size" help:"largest vocabulary, the 4 special tokens included (0: no cap)"`
	MaxSrc      int    `json:"max_src" help:"cut articles to this many tokens"`
	MaxTgt      int    `json:"max_tgt" help:"cut headlines to this many tokens for training and the validation loss"`
	Buckets     string `json:"buckets" help:"padded (article, headline+EOS) lengths of the length buckets, ascending, e.g. 24:10,32:12,64:24 (empty: from the data)"`
	encdec.RNN  `help.embed:"word embedding width"`
	StateFirst  bool    `json:"state_first" help:"decoder order: update the state, then attend from it (See et al. 2017), or attend from the previous state first (false: Bahdanau order)"`
	Share       bool    `json:"share_embeddings" help:"one embedding table for articles and headlines"`
	Tie         bool    `json:"tie_output" help:"the output layer's weight is the headline embedding table"`
	Dropout     float64 `json:"dropout" help:"dropout on the embeddings and before the output layer"`
	train.StepDecay
	// EvalSet bounds the validation pairs decoded at each evaluation and at
	// the end (the validation loss covers them all).
	train.EvalSet `alias.eval_size:"val_size"`
	// DecodeOptions decode the headlines of the evaluations, and are a loaded
	// run's default for Summarize.
	DecodeOptions
	BeamEval int `json:"beam_eval" help:"validation pairs decoded with beam search at the end (0: all)"`
	LeadMax  int `json:"lead_max" help:"lead baseline: largest N tried for the first N article words"`
	Samples  int `json:"samples" help:"validation examples written to samples.md"`
}

// DecodeOptions are the settings of decoding a headline. Greedy decoding (the
// evaluations during training) uses all but the beam's.
type DecodeOptions struct {
	// MaxDecode is the largest number of tokens of a headline, EOS included.
	MaxDecode int `json:"max_decode" help:"most tokens a decoded headline may have, EOS included"`
	// Beam is the beam size (1: greedy).
	Beam int `json:"beam" help:"beam size of the final evaluation (1: greedy only)"`
	// LengthPenalty is the exponent alpha of beam search's length penalty.
	LengthPenalty float64 `json:"length_penalty" help:"beam search: length-penalty exponent alpha, lp = ((5+|Y|)/6)^alpha (Wu et al. 2016)"`
	// NoRepeatTrigram blocks every trigram already in the headline.
	NoRepeatTrigram bool `json:"no_repeat_trigram" help:"decoding: never repeat a trigram within a headline"`
	// NoRepeatWords blocks every word already in the headline (and so every
	// repeated trigram).
	NoRepeatWords bool `json:"no_repeat_words" help:"decoding: never write a word twice in a headline (which also blocks repeated trigrams)"`
	// NoUnk never writes <unk>: a pointer-generator copies instead.
	NoUnk bool `json:"no_unk" help:"decoding: never write <unk> (a pointer-generator copies instead)"`
}

// Validate reports a beam below 1, a negative length penalty or no room for a
// token.
func (o DecodeOptions) Validate() error {
	switch {
	case o.Beam < 1:
		return errors.Errorf("beam %d: want at least 1", o.Beam)
	case !(o.LengthPenalty >= 0) || math.IsInf(o.LengthPenalty, 1):
		return errors.Errorf("length_penalty %g: want a finite value not negative", o.LengthPenalty)
	case o.MaxDecode < 1:
		return errors.Errorf("max_decode %d: want at least 1", o.MaxDecode)
	}
	return nil
}

// DefaultConfig is the configuration of the published runs (results/summarize):
// embeddings of 128, a bidirectional GRU of 128 units per direction, a decoder
// of 256 in See et al.'s order (state, then attention) and an attention of 128,
// a vocabulary of the words seen at least twice (capped at 10,000), dropout
// 0.4, Adam at 1e-3 with clipping at 2 for 10 epochs, the rate decayed by 0.7
// per epoch after the fifth. Decoding: beam 8 with length penalty 5, no word
// written twice (which the references almost never do: 4.9% of the training
// headlines repeat a word, mostly "to" or "in") and no <unk>; these settings
// were chosen on the first 300 validation pairs.
func DefaultConfig() Config {
	return Config{
		Common: train.Common{Seed: 1, Epochs: 10, LogEvery: 50},
		Copy:   true, StateFirst: true,
		MinFreq: 2, VocabSize: 10000, MaxSrc: 60, MaxTgt: 24,
		RNN: encdec.RNN{Embed: 128, Hidden: 128, AttnDim: 128}, Dropout: 0.4,
		Optim: train.Optim{Batch: 64, LR: 1e-3, ClipNorm: 2}, StepDecay: train.StepDecay{Decay: 0.7, DecayAfter: 5},
		DecodeOptions: DecodeOptions{MaxDecode: 24, Beam: 8, LengthPenalty: 5, NoRepeatTrigram: true, NoRepeatWords: true, NoUnk: true},
		LeadMax:       30, Samples: 20,
	}
}

// Validate reports settings out of their ranges, bad buckets and a model that
// cannot be built.
func (c Config) Validate() error {
	if c.VocabSize != 0 && c.VocabSize <= vocab.NumSpecial {
		return errors.Errorf("vocab_size %d leaves no room for words beyond the %d special tokens", c.VocabSize, vocab.NumSpecial)
	}
	if c.MaxSrc <= 0 || c.MaxTgt <= 0 || c.Batch <= 0 || c.LeadMax <= 0 {
		return errors.New("max_src, max_tgt, batch and lead_max must be positive")
	}
	if c.LR <= 0 || c.Decay <= 0 || c.DecayAfter < 0 || c.ClipNorm < 0 {
		return errors.New("lr and lr_decay must be positive, lr_decay_after and clip_norm not negative")
	}
	if c.EvalSize < 0 || c.BeamEval < 0 || c.Samples < 0 {
		return errors.New("eval_size, beam_eval and samples must not be negative")
	}
	if err := c.DecodeOptions.Validate(); err != nil {
		return err
	}
	if _, err := batch.ParseShapes(c.Buckets); err != nil {
		return err
	}
	_, err := pointer.New(graph.NewStore(tensor.Float32, graph.NewRNG(0, "check")), c.model(vocab.NumSpecial+1))
	return err
}

// model returns the network's configuration for a vocabulary size.
func (c Config) model(vocabSize int) pointer.Config {
	return pointer.Config{Vocab: vocabSize, Embed: c.Embed, Hidden: c.Hidden, AttnDim: c.AttnDim, Dropout: c.Dropout,
		Copy: c.Copy, StateFirst: c.StateFirst, ShareEmbeddings: c.Share, TieOutput: c.Tie,
		Tokens: decode.Tokens{Pad: vocab.PadID, Unk: vocab.UnkID, BOS: vocab.BOSID, EOS: vocab.EOSID}}
}

// modelName names the configured model.
func (c Config) modelName() string {
	if c.Copy {
		return "pointer-generator"
	}
	return "attention"
}
