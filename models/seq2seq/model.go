package seq2seq

import (
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/models/attention"
	"github.com/triadml/triad/models/decode"
	"github.com/triadml/triad/models/rnn"
)

// Config describes a recurrent encoder-decoder with attention (Bahdanau, Cho
// and Bengio 2015).
type Config struct {
	SrcVocab, TgtVocab int
	Embed              int      // embedding width of both sides
	Hidden             int      // encoder units per direction; the decoder has Hidden*directions
	Cell               rnn.Cell // gru (default) or lstm
	EncoderLayers      int      // default 1
	Bidirectional      bool
	// Attention is "bahdanau" (default), "dot" or "general".
	Attention string
	AttnDim   int     // width of the additive attention (0: the decoder's width)
	Dropout   float64 // on embeddings, between encoder layers and before the output layer
	// Tokens are the special ids; the model reads Pad, BOS and EOS.
	decode.Tokens
}

// Model is a recurrent encoder-decoder with attention. The encoder reads the
// embedded source into a memory m_1..m_S (both directions concatenated when
// bidirectional); the decoder starts from s_0 = tanh(W_b [h_fwd; h_bwd] + b_b) and
// at step i
//
//	c_i, a_i = attention(s_{i-1}, m)          (context and weights over the source)
//	s_i      = cell([e(y_{i-1}); c_i], s_{i-1})
//	o_i      = tanh(W_p [s_i; c_i; e(y_{i-1})] + b_p)
//	p(y_i)   = softmax(W_g o_i + b_g)
//
// (Bahdanau et al. 2015, with the deep output's maxout replaced by tanh).
// Parameters: src_embed.weight, tgt_embed.weight, encoder.* and decoder.* (PyTorch
// nn.GRU/nn.LSTM names), bridge.* (bridge_c.* for an LSTM), attention.*,
// pre_out.*, generator.*.
type Model struct {
	Config    Config
	SrcEmbed  *graph.Embedding
	TgtEmbed  *graph.Embedding
	Encoder   *rnn.RNN
	Decoder   *rnn.RNN
	Bridge    *graph.Linear
	BridgeC   *graph.Linear // LSTM only
	Attention attention.Recurrent
	PreOut    *graph.Linear
	Generator *graph.Linear
}

// DecoderWidth returns the decoder's state width (and the memory's).
func (c Config) DecoderWidth() int {
	if c.Bidirectional {
		return 2 * c.Hidden
	}
	return c.Hidden
}

// New creates the model's parameters in s.
func New(s *graph.Store, cfg Config) (*Model, error) {
	if cfg.Cell == "" {
		cfg.Cell = rnn.GRU
	}
	if cfg.Cell != rnn.GRU && cfg.Cell != rnn.LSTM {
		return nil, errors.Errorf("seq2seq: cell %q (gru, lstm)", cfg.Cell)
	}
	if cfg.Attention == "" {
		cfg.Attention = "bahdanau"
	}
	if cfg.EncoderLayers == 0 {
		cfg.EncoderLayers = 1
	}
	if cfg.SrcVocab <= 0 || cfg.TgtVocab <= 0 || cfg.Embed <= 0 || cfg.Hidden <= 0 {
		return nil, errors.Errorf("seq2seq: invalid sizes vocabularies %d/%d embed %d hidden %d", cfg.SrcVocab, cfg.TgtVocab, cfg.Embed, cfg.Hidden)
	}
	if cfg.Dropout < 0 || cfg.Dropout >= 1 {
		return nil, errors.Errorf("seq2seq: dropout %g outside [0, 1)", cfg.Dropout)
	}
	hd := cfg.DecoderWidth()
	if cfg.AttnDim == 0 {
		cfg.AttnDim = hd
	}
	m := &Model{Config: cfg}
	var err error
	if m.SrcEmbed, err = graph.NewEmbedding(s, "src_embed", cfg.SrcVocab, cfg.Embed); err != nil {
		return nil, err
	}
	if m.TgtEmbed, err = graph.NewEmbedding(s, "tgt_embed", cfg.TgtVocab, cfg.Embed); err != nil {
		return nil, err
	}
	if m.Encoder, err = rnn.New(s, "encoder", rnn.Config{Cell: cfg.Cell, Input: cfg.Embed, Hidden: cfg.Hidden,
		Layers: cfg.EncoderLayers, Dropout: cfg.Dropout, Bidirectional: cfg.Bidirectional}); err != nil {
		return nil, err
	}
	if m.Bridge, err = graph.NewLinear(s, "bridge", hd, hd, true); err != nil {
		return nil, err
	}
	if cfg.Cell == rnn.LSTM {
		if m.BridgeC, err = graph.NewLinear(s, "bridge_c", hd, hd, true); err != nil {
			return nil, err
		}
	}
	if m.Attention, err = attention.NewRecurrent(s, "attention", cfg.Attention, hd, hd, cfg.AttnDim); err != nil {
		return nil, err
	}
	if m.Decoder, err = rnn.New(s, "decoder", rnn.Config{Cell: cfg.Cell, Input: cfg.Embed + hd, Hidden: hd}); err != nil {
		return nil, err
	}
	if m.PreOut, err = graph.NewLinear(s, "pre_out", 2*hd+cfg.Embed, hd, true); err != nil {
		return nil, err
	}
	if m.Generator, err = graph.NewLinear(s, "generator", hd, cfg.TgtVocab, true); err != nil {
		return nil, err
	}
	return m, nil
}

// encoded is the encoder's result in a graph.
type encoded struct {
	memory, keys, h0, c0 *G.Node
}

// sources declares the encoder's inputs: the source ids "src" (S*B, time-major:
// row t*B+b is position t of sequence b) and their keep masks "src_keep"
// (S*B, 1).
func (m *Model) sources(b graph.SaltedBuilder, batch, srcLen int) (ids, keep *G.Node) {
	return b.In("src", tensor.Int, srcLen*batch), b.In("src_keep", b.Dtype(), srcLen*batch, 1)
}

// encode builds the encoder over time-major ids (S*B) and keep masks (S*B, 1):
// one lookup and one dropout mask for the whole source, the encoder's fused
// kernels over the whole sequence (rnn.ForwardSeq), and its outputs reordered
// batch-major into the memory (B, S, H).
func (m *Model) encode(b graph.SaltedBuilder, ids, keep *G.Node, srcLen int) encoded {
	x := graph.Dropout(b.Builder, m.SrcEmbed.Forward(b.Builder, ids), m.Config.Dropout)
	if b.Err() != nil {
		return encoded{}
	}
	batch := ids.Shape()[0] / srcLen
	seq, final := m.Encoder.ForwardSeq(b.Builder, x, srcLen, m.Encoder.ZeroState(b.Builder, graph.SaltName("encoder_state", b.Salt), batch), keep)
	if b.Err() != nil {
		return encoded{}
	}
	var e encoded
	e.memory = rnn.BatchMajor(b.Builder, seq, srcLen)
	k := (m.Encoder.Layers - 1) * m.Encoder.Directions()
	last := final.H[k]
	if m.Encoder.Directions() == 2 {
		last = graph.Concat(b.Builder, last, final.H[k+1])
	}
	e.h0 = b.Check(G.Tanh(m.Bridge.Forward(b.Builder, last)))
	if m.BridgeC != nil {
		e.c0 = b.Check(G.Tanh(m.BridgeC.Forward(b.Builder, last)))
	}
	e.keys = m.Attention.Keys(b.Builder, e.memory)
	return e
}

// step is the decoder's step: Bahdanau order, the cell's state and no more.
func (m *Model) step() DecoderStep {
	return DecoderStep{Embed: m.TgtEmbed, Attention: m.Attention, Cell: m.Decoder, Dropout: m.Config.Dropout}
}

// logits maps output features (..., 2H+E) to vocabulary logits.
func (m *Model) logits(b *graph.Builder, feat *G.Node) *G.Node {
	o := m.PreOut.Forward(b, feat)
	if o == nil {
		return nil
	}
	o = graph.Dropout(b, b.Check(G.Tanh(o)), m.Config.Dropout)
	return m.Generator.Forward(b, o)
}

// keyWidth is the width of the attention keys.
func (m *Model) keyWidth() int {
	if a, ok := m.Attention.(*attention.Additive); ok {
		return a.Dim
	}
	return m.Config.DecoderWidth()
}
