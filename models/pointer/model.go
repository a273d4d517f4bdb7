package pointer

import (
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/models/attention"
	"github.com/triadml/triad/models/decode"
	"github.com/triadml/triad/models/rnn"
	"github.com/triadml/triad/models/seq2seq"
)

// Config describes a pointer-generator network.
type Config struct {
	// Vocab is the size V of the fixed vocabulary, shared by sources and targets;
	// extended ids V, V+1, ... number each source's out-of-vocabulary words.
	Vocab int
	// Embed is the width of the word embeddings.
	Embed int
	// Hidden is the number of encoder units per direction; the decoder state and
	// the memory have 2*Hidden.
	Hidden int
	// AttnDim is the width of the additive attention (0: 2*Hidden).
	AttnDim int
	// Dropout is applied to the embeddings and before the output layer in training.
	Dropout float64
	// Copy selects the pointer-generator; false is plain attention, p_gen = 1,
	// which without StateFirst is seq2seq.Model with a bidirectional GRU
	// encoder and Bahdanau attention (and the same parameter names, without
	// ShareEmbeddings).
	Copy bool
	// ShareEmbeddings uses one table, embed.weight, for source and target words
	// (See et al. 2017 share it); otherwise src_embed.weight and tgt_embed.weight.
	ShareEmbeddings bool
	// TieOutput makes the output layer's weight the target embedding table (Press
	// and Wolf 2017): pre_out then maps to Embed features and the output layer
	// has only its bias, generator.bias.
	TieOutput bool
	// StateFirst updates the decoder state before attending, as See et al.
	// (2017) and Luong et al. (2015): s_t = GRU([x_t; c_{t-1}], s_{t-1}) (c_0 = 0),
	// then a_t and c_t from s_t, so the attention that chooses what to copy
	// knows the word just written. False is Bahdanau order (attention from
	// s_{t-1}, then s_t = GRU([x_t; c_t], s_{t-1})), which seq2seq.Model uses.
	// The parameters are the same in both orders.
	StateFirst bool
	// Tokens are the special ids, each in [0, Vocab) and all different.
	decode.Tokens
}

// DecoderWidth returns the width of the decoder state and of the memory.
func (c Config) DecoderWidth() int { return 2 * c.Hidden }

// validate checks the sizes and the special ids and fills AttnDim.
func (c *Config) validate() error {
	if c.Vocab <= 0 || c.Embed <= 0 || c.Hidden <= 0 || c.AttnDim < 0 {
		return errors.Errorf("pointer: invalid sizes vocabulary %d embed %d hidden %d attention %d", c.Vocab, c.Embed, c.Hidden, c.AttnDim)
	}
	if c.Dropout < 0 || c.Dropout >= 1 {
		return errors.Errorf("pointer: dropout %g outside [0, 1)", c.Dropout)
	}
	t := c.Tokens
	ids := map[int]string{}
	for _, s := range []struct {
		name string
		id   int
	}{{"pad", t.Pad}, {"unk", t.Unk}, {"bos", t.BOS}, {"eos", t.EOS}} {
		if s.id < 0 || s.id >= c.Vocab {
			return errors.Errorf("pointer: %s id %d outside the vocabulary of %d", s.name, s.id, c.Vocab)
		}
		if other, dup := ids[s.id]; dup {
			return errors.Errorf("pointer: %s and %s share id %d", other, s.name, s.id)
		}
		ids[s.id] = s.name
	}
	if c.AttnDim == 0 {
		c.AttnDim = c.DecoderWidth()
	}
	return nil
}

// Model is a pointer-generator network (See, Liu and Manning 2017, sec. 2.1-2.2)
// over a recurrent encoder-decoder with attention; see the package comment for
// its equations. Parameters: src_embed.weight and tgt_embed.weight (or
// embed.weight), encoder.* (bidirectional GRU, PyTorch names), bridge.*,
// attention.* (attention.Additive), decoder.* (GRU), pre_out.*, generator.* (only
// generator.bias with TieOutput), and with Copy p_gen.weight
// (1, 2*DecoderWidth+Embed) and p_gen.bias.
type Model struct {
	Config    Config
	SrcEmbed  *graph.Embedding
	TgtEmbed  *graph.Embedding // the same as SrcEmbed with ShareEmbeddings
	Encoder   *rnn.RNN
	Bridge    *graph.Linear
	Attention *attention.Additive
	Decoder   *rnn.RNN
	PreOut    *graph.Linear
	Generator *graph.Linear // nil with TieOutput
	GenBias   *graph.Param  // the output bias with TieOutput
	PGen      *graph.Linear // nil without Copy
}

// New creates the model's parameters in s, in the order seq2seq.New
// creates its own (so that the same seed gives the same initial weights), p_gen
// last.
func New(s *graph.Store, cfg Config) (*Model, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	hd := cfg.DecoderWidth()
	m := &Model{Config: cfg}
	var err error
	if cfg.ShareEmbeddings {
		if m.SrcEmbed, err = graph.NewEmbedding(s, "embed", cfg.Vocab, cfg.Embed); err != nil {
			return nil, err
		}
		m.TgtEmbed = m.SrcEmbed
	} else {
		if m.SrcEmbed, err = graph.NewEmbedding(s, "src_embed", cfg.Vocab, cfg.Embed); err != nil {
			return nil, err
		}
		if m.TgtEmbed, err = graph.NewEmbedding(s, "tgt_embed", cfg.Vocab, cfg.Embed); err != nil {
			return nil, err
		}
	}
	if m.Encoder, err = rnn.New(s, "encoder", rnn.Config{Cell: rnn.GRU, Input: cfg.Embed, Hidden: cfg.Hidden, Bidirectional: true}); err != nil {
		return nil, err
	}
	if m.Bridge, err = graph.NewLinear(s, "bridge", hd, hd, true); err != nil {
		return nil, err
	}
	if m.Attention, err = attention.NewAdditive(s, "attention", hd, hd, cfg.AttnDim); err != nil {
		return nil, err
	}
	if m.Decoder, err = rnn.New(s, "decoder", rnn.Config{Cell: rnn.GRU, Input: cfg.Embed + hd, Hidden: hd}); err != nil {
		return nil, err
	}
	out := hd
	if cfg.TieOutput {
		out = cfg.Embed
	}
	if m.PreOut, err = graph.NewLinear(s, "pre_out", 2*hd+cfg.Embed, out, true); err != nil {
		return nil, err
	}
	if cfg.TieOutput {
		if m.GenBias, err = s.New("generator.bias", []int{cfg.Vocab}, graph.UniformFan(out)); err != nil {
			return nil, err
		}
	} else if m.Generator, err = graph.NewLinear(s, "generator", hd, cfg.Vocab, true); err != nil {
		return nil, err
	}
	if cfg.Copy {
		if m.PGen, err = graph.NewLinear(s, "p_gen", 2*hd+cfg.Embed, 1, true); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// encoded is the encoder's result in a graph.
type encoded struct {
	memory, keys, h0 *G.Node
}

// encode builds the encoder over the inputs "src" (srcLen*batch ids, time-major)
// and "src_keep" (srcLen*batch, 1): the fused bidirectional GRU, its outputs
// reordered batch-major into the memory (B, S, 2H), the attention keys and the
// decoder's first state tanh(W_b [h_fwd; h_bwd] + b_b).
func (m *Model) encode(b graph.SaltedBuilder, batch, srcLen int) encoded {
	ids := b.In("src", tensor.Int, srcLen*batch)
	keep := b.In("src_keep", b.Dtype(), srcLen*batch, 1)
	x := graph.Dropout(b.Builder, m.SrcEmbed.Forward(b.Builder, ids), m.Config.Dropout)
	if b.Err() != nil {
		return encoded{}
	}
	seq, final := m.Encoder.ForwardSeq(b.Builder, x, srcLen, m.Encoder.ZeroState(b.Builder, graph.SaltName("encoder_state", b.Salt), batch), keep)
	if b.Err() != nil {
		return encoded{}
	}
	var e encoded
	e.memory = rnn.BatchMajor(b.Builder, seq, srcLen)
	last := graph.Concat(b.Builder, final.H[0], final.H[1])
	bridge := m.Bridge.Forward(b.Builder, last)
	if b.Err() != nil {
		return encoded{}
	}
	e.h0 = b.Check(G.Tanh(bridge))
	e.keys = m.Attention.Keys(b.Builder, e.memory)
	return e
}

// step is the decoder's step (see Config.StateFirst for its two orders).
func (m *Model) step() seq2seq.DecoderStep {
	return seq2seq.DecoderStep{Embed: m.TgtEmbed, Attention: m.Attention, Cell: m.Decoder, Dropout: m.Config.Dropout, StateFirst: m.Config.StateFirst}
}

// head maps features (..., 2H'+E) to vocabulary logits W_g dropout(tanh(W_p f +
// b_p)) + b_g (W_g the target embedding table with TieOutput) and, with Copy, the
// logit z of p_gen = sigmoid(w^T f + b).
func (m *Model) head(b *graph.Builder, feat *G.Node) (logits, z *G.Node) {
	o := m.PreOut.Forward(b, feat)
	if o == nil || b.Err() != nil {
		return nil, nil
	}
	o = graph.Dropout(b, b.Check(G.Tanh(o)), m.Config.Dropout)
	if m.Config.TieOutput {
		if o != nil {
			logits = b.Check(graph.Affine(o, b.Param(m.TgtEmbed.Weight), b.Param(m.GenBias)))
		}
	} else {
		logits = m.Generator.Forward(b, o)
	}
	if m.PGen != nil {
		z = m.PGen.Forward(b, feat)
	}
	return logits, z
}
