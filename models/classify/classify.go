package classify

import (
	"github.com/pkg/errors"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/models/decode"
	"github.com/triadml/triad/models/rnn"
	"github.com/triadml/triad/models/transformer"
)

// Encoder names a sentence encoder.
type Encoder string

// The encoders.
const (
	// BiLSTMAttn is a bidirectional recurrent network with self-attentive pooling.
	BiLSTMAttn Encoder = "bilstm-attn"
	// Transformer is a stack of Transformer encoder layers with mean or
	// first-token pooling.
	Transformer Encoder = "transformer"
)

// Pool names the Transformer encoder's pooling.
type Pool string

// The Transformer poolings.
const (
	// PoolMean averages the outputs over the real tokens.
	PoolMean Pool = "mean"
	// PoolFirst takes the output at the first position, a <bos> token prepended
	// to every sentence.
	PoolFirst Pool = "first"
)

// Config describes a classifier.
type Config struct {
	Encoder Encoder
	Vocab   int // vocabulary size, special tokens included (vocab.Vocab.Len())
	Classes int
	// Embed is the embedding width; for the Transformer it is the model width d.
	Embed int
	// EmbedStd is the standard deviation of the recurrent encoder's initial
	// embeddings, N(0, EmbedStd^2); 0 means 1, torch.nn.Embedding's default.
	// Kim (2014) draws unknown words' vectors from U(-0.25, 0.25), a standard
	// deviation of 0.144.
	EmbedStd float64
	// Hidden is the recurrent encoder's width per direction.
	Hidden int
	// Cell is the recurrent cell, rnn.LSTM (default) or rnn.GRU.
	Cell rnn.Cell
	// Layers is the number of recurrent or Transformer layers (default 1).
	Layers int
	// AttnDim is the width d_a of the self-attentive pooling (default Hidden).
	AttnDim int
	// Heads and FF are the Transformer's attention heads and feed-forward width
	// (defaults 4 and 4*Embed).
	Heads, FF int
	// Pool is the Transformer's pooling (default PoolMean).
	Pool Pool
	// Dropout is the probability of dropping an embedding or sentence-vector
	// element, and inside the Transformer's layers, in training.
	Dropout float64
	// Tokens are the special ids: Pad the padding token's, Unk that of the
	// token an empty sentence becomes and BOS that of the token first-token
	// pooling prepends (package vocab's are 0, 1 and 2); EOS is not read.
	decode.Tokens
}

// WithDefaults returns c with its zero fields set to their defaults, or an error
// naming what is invalid.
func (c Config) WithDefaults() (Config, error) {
	if c.Layers == 0 {
		c.Layers = 1
	}
	if c.Vocab <= 0 || c.Classes < 2 || c.Embed <= 0 || c.Layers < 0 {
		return c, errors.Errorf("classifier: vocabulary %d, classes %d, embedding %d, layers %d (want positive sizes and 2 classes or more)",
			c.Vocab, c.Classes, c.Embed, c.Layers)
	}
	for _, id := range []int{c.Pad, c.Unk, c.BOS} {
		if id < 0 || id >= c.Vocab {
			return c, errors.Errorf("classifier: special token id %d outside the vocabulary of %d", id, c.Vocab)
		}
	}
	if c.EmbedStd < 0 {
		return c, errors.Errorf("classifier: embedding standard deviation %g is negative", c.EmbedStd)
	}
	if c.Dropout < 0 || c.Dropout >= 1 {
		return c, errors.Errorf("classifier: dropout %g outside [0, 1)", c.Dropout)
	}
	switch c.Encoder {
	case BiLSTMAttn:
		if c.Cell == "" {
			c.Cell = rnn.LSTM
		}
		if c.Cell != rnn.LSTM && c.Cell != rnn.GRU {
			return c, errors.Errorf("classifier: cell %q (lstm, gru)", c.Cell)
		}
		if c.Hidden <= 0 {
			return c, errors.Errorf("classifier: hidden %d must be positive", c.Hidden)
		}
		if c.AttnDim == 0 {
			c.AttnDim = c.Hidden
		}
	case Transformer:
		if c.Heads == 0 {
			c.Heads = 4
		}
		if c.FF == 0 {
			c.FF = 4 * c.Embed
		}
		if c.Pool == "" {
			c.Pool = PoolMean
		}
		if c.Pool != PoolMean && c.Pool != PoolFirst {
			return c, errors.Errorf("classifier: pooling %q (mean, first)", c.Pool)
		}
		if c.Heads <= 0 || c.Embed%c.Heads != 0 {
			return c, errors.Errorf("classifier: %d heads do not divide the width %d", c.Heads, c.Embed)
		}
	default:
		return c, errors.Errorf("classifier: unknown encoder %q (%s, %s)", c.Encoder, BiLSTMAttn, Transformer)
	}
	return c, nil
}

// Classifier is a sentence classifier: embedding, encoder, pooling, linear output.
type Classifier struct {
	Config Config
	Embed  *graph.Embedding
	// RNN and Attn make the recurrent encoder.
	RNN  *rnn.RNN
	Attn *SelfAttentivePool
	// Layers make the Transformer encoder.
	Layers []*transformer.EncoderLayer
	Out    *graph.Linear
}

// New creates a classifier's parameters in s (see the package documentation for
// their names). The recurrent encoder's embedding is N(0, EmbedStd^2); the
// Transformer's is N(0, 1/d), scaled by sqrt(d) in the graph (Vaswani et al. 2017,
// sec. 3.4).
func New(s *graph.Store, cfg Config) (*Classifier, error) {
	cfg, err := cfg.WithDefaults()
	if err != nil {
		return nil, err
	}
	c := &Classifier{Config: cfg}
	width := cfg.Embed
	switch cfg.Encoder {
	case BiLSTMAttn:
		std := cfg.EmbedStd
		if std == 0 {
			std = 1
		}
		w, err := s.New("embed.weight", []int{cfg.Vocab, cfg.Embed}, graph.Normal(0, std))
		if err != nil {
			return nil, err
		}
		c.Embed = &graph.Embedding{Weight: w, Num: cfg.Vocab, Dim: cfg.Embed}
		if c.RNN, err = rnn.New(s, "rnn", rnn.Config{Cell: cfg.Cell, Input: cfg.Embed, Hidden: cfg.Hidden, Layers: cfg.Layers,
			Dropout: cfg.Dropout, Bidirectional: true}); err != nil {
			return nil, err
		}
		width = c.RNN.OutputSize()
		if c.Attn, err = NewSelfAttentivePool(s, "pool", width, cfg.AttnDim); err != nil {
			return nil, err
		}
	case Transformer:
		if c.Embed, err = transformer.NewEmbedding(s, "embed", cfg.Vocab, cfg.Embed); err != nil {
			return nil, err
		}
		lc := transformer.LayerConfig{Dim: cfg.Embed, Heads: cfg.Heads, FF: cfg.FF, Dropout: cfg.Dropout}
		if c.Layers, err = transformer.NewEncoderLayers(s, cfg.Layers, lc); err != nil {
			return nil, err
		}
	}
	if c.Out, err = graph.NewLinear(s, "out", width, cfg.Classes, true); err != nil {
		return nil, err
	}
	return c, nil
}

// Prepare returns the ids the model sees for a sentence's token ids in a program
// of length positions: the ids cut to length, after the BOS token for first-token
// pooling. An empty sentence becomes one Unk token, so every row has a real
// token.
func (c *Classifier) Prepare(ids []int, length int) []int {
	if len(ids) == 0 {
		ids = []int{c.Config.Unk}
	}
	var row []int
	if c.Config.Encoder == Transformer && c.Config.Pool == PoolFirst {
		row = append(row, c.Config.BOS)
	}
	row = append(row, ids...)
	if len(row) > length {
		row = row[:length]
	}
	return row
}
