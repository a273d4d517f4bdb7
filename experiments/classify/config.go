package classify

import (
	"strings"

	"github.com/pkg/errors"

	"github.com/triadml/triad/datasets/batch"
	"github.com/triadml/triad/datasets/vocab"
	classifier "github.com/triadml/triad/models/classify"
	"github.com/triadml/triad/models/decode"
	"github.com/triadml/triad/models/rnn"
	"github.com/triadml/triad/train"
)

// Config holds the hyperparameters of a classification run; its json and help
// tags name the command's flags.
type Config struct {
	train.Common
	train.Optim `help.batch:"sentences per batch" help.lr:"Adam learning rate"`
	Dataset     string `json:"dataset" help:"rt-polarity (k-fold cross-validation) or snips (train, valid)"`
	train.Data
	Encoder     string  `json:"encoder" help:"bilstm-attn or transformer"`
	Level       string  `json:"level" help:"word or char"`
	Lower       bool    `json:"lower" help:"lowercase the text"`
	MinFreq     int     `json:"min_freq" help:"minimum count of a vocabulary token in the training text"`
	MaxLen      int     `json:"max_len" help:"cut sentences to this many tokens"`
	Buckets     string  `json:"buckets" help:"padded lengths of the length buckets, comma-separated (empty: the 50th and 90th percentiles and the longest)"`
	Embed       int     `json:"embed" help:"embedding width (the transformer's model width)"`
	EmbedStd    float64 `json:"embed_std" help:"bilstm-attn: standard deviation of the initial embeddings (0: 1, PyTorch's default)"`
	Hidden      int     `json:"hidden" help:"bilstm-attn: recurrent units per direction"`
	Cell        string  `json:"cell" help:"bilstm-attn: lstm or gru"`
	Layers      int     `json:"layers" help:"recurrent or transformer layers"`
	AttnDim     int     `json:"attn_dim" help:"bilstm-attn: width d_a of the self-attentive pooling (0: hidden)"`
	Heads       int     `json:"heads" help:"transformer: attention heads"`
	FF          int     `json:"ff" help:"transformer: feed-forward width (0: 4 x embed)"`
	Pool        string  `json:"pool" help:"transformer: mean or first (a <bos> token is prepended)"`
	Dropout     float64 `json:"dropout" help:"dropout on embeddings and the sentence vector (and in transformer layers)"`
	WordDrop    float64 `json:"word_dropout" help:"probability of replacing a training token by <unk> (word dropout)"`
	Decay       float64 `json:"lr_decay" help:"learning-rate factor per epoch after the first (1: constant)"`
	WeightDecay float64 `json:"weight_decay" help:"Adam's L2 weight decay"`
	Folds       int     `json:"folds" help:"rt-polarity: cross-validation folds"`
	Fold        int     `json:"fold" help:"rt-polarity: run only this fold, 1 to folds (0: every fold)"`
	Show        int     `json:"show" help:"validation sentences drawn in attention.html (per fold)"`
}

// DefaultConfig is the configuration of the published rt-polarity figure
// (results/classify): a bidirectional LSTM of 100 units per direction over
// 128-dimensional embeddings learned from scratch, started small (standard
// deviation 0.1, near the 0.144 of Kim 2014's U(-0.25, 0.25)), dropout 0.5 and
// word dropout 0.4, Adam at 1e-3 decayed by 0.7 per epoch for 6 epochs. Kim's
// batch of 50 sentences.
func DefaultConfig() Config {
	return Config{
		Common:  train.Common{Seed: 1, Epochs: 6, LogEvery: 50},
		Dataset: "rt-polarity", Encoder: string(classifier.BiLSTMAttn), Level: "word", Lower: true, MinFreq: 1, MaxLen: 64,
		Embed: 128, EmbedStd: 0.1, Hidden: 100, Cell: string(rnn.LSTM), Layers: 1, AttnDim: 64, Heads: 4,
		Pool: string(classifier.PoolMean), Dropout: 0.5, WordDrop: 0.4, Optim: train.Optim{Batch: 50, LR: 1e-3}, Decay: 0.7, Folds: 10, Show: 20,
	}
}

// Validate reports a setting out of range or a model that cannot be built.
func (c Config) Validate() error {
	switch c.Dataset {
	case "rt-polarity", "snips":
	default:
		return errors.Errorf("unknown dataset %q (rt-polarity, snips)", c.Dataset)
	}
	if c.Level != "word" && c.Level != "char" {
		return errors.Errorf("unknown level %q (word, char)", c.Level)
	}
	if _, err := batch.ParseLengths(c.Buckets); err != nil {
		return err
	}
	if c.Batch <= 0 || c.MaxLen <= 0 || c.LR <= 0 || c.Decay <= 0 {
		return errors.New("batch, max_len, lr and lr_decay must be positive")
	}
	if c.WordDrop < 0 || c.WordDrop >= 1 {
		return errors.Errorf("word_dropout %g outside [0, 1)", c.WordDrop)
	}
	if c.crossValidated() && (c.Folds < 2 || c.Fold < 0 || c.Fold > c.Folds) {
		return errors.Errorf("folds %d must be at least 2 and fold %d in 0..folds", c.Folds, c.Fold)
	}
	_, err := c.model(10, 2).WithDefaults()
	return err
}

// crossValidated reports whether the dataset is evaluated by k-fold
// cross-validation (it has no validation split of its own).
func (c Config) crossValidated() bool { return c.Dataset == "rt-polarity" }

// model returns the classifier's configuration for a vocabulary and classes.
func (c Config) model(vocabSize, classes int) classifier.Config {
	return classifier.Config{Encoder: classifier.Encoder(c.Encoder), Vocab: vocabSize, Classes: classes, Embed: c.Embed, EmbedStd: c.EmbedStd,
		Hidden: c.Hidden, Cell: rnn.Cell(c.Cell), Layers: c.Layers, AttnDim: c.AttnDim, Heads: c.Heads, FF: c.FF,
		Pool: classifier.Pool(c.Pool), Dropout: c.Dropout, Tokens: decode.Tokens{Pad: vocab.PadID, Unk: vocab.UnkID, BOS: vocab.BOSID}}
}

// tokenize splits a sentence at the configured level.
func (c Config) tokenize(text string) []string {
	if c.Lower {
		text = strings.ToLower(text)
	}
	if c.Level == "char" {
		return vocab.CharTokenizer{}.Tokenize(text)
	}
	return vocab.WordTokenizer{}.Tokenize(text)
}

// encode returns the ids of tokens in voc, cut to MaxLen.
func (c Config) encode(voc *vocab.Vocab, toks []string) []int {
	ids := voc.Encode(toks)
	if len(ids) > c.MaxLen {
		ids = ids[:c.MaxLen]
	}
	return ids
}
