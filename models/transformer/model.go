package transformer

import (
	"math"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/losses"
	"github.com/triadml/triad/models/attention"
	"github.com/triadml/triad/models/decode"
)

// Config describes an encoder-decoder Transformer (Vaswani et al. 2017).
type Config struct {
	SrcVocab, TgtVocab           int
	Dim, Heads, FF               int
	EncoderLayers, DecoderLayers int
	Dropout                      float64
	Activation                   string // relu (default) or gelu
	PreLN                        bool   // pre-LN sub-layers (default post-LN)
	// MaxLen is the longest source or target (with BOS/EOS) the model takes: the
	// size of learned position tables and of the decoding prefix.
	MaxLen int
	// Positions is "sinusoidal" (default) or "learned".
	Positions string
	// ShareEmbeddings uses one embedding table for source and target (a joint
	// vocabulary: SrcVocab must equal TgtVocab); named embed.weight.
	ShareEmbeddings bool
	// TieOutput uses the target embedding table as the output projection (Press
	// and Wolf 2017); the generator keeps its own bias.
	TieOutput bool
	// Unfused builds the reference form of every layer (LayerConfig.Unfused), of
	// the input layers and of the training loss: separate nodes, slower. The
	// default fused form computes the same function (fused_layers.go).
	Unfused bool
	// Tokens are the special ids; the model reads Pad, BOS and EOS.
	decode.Tokens
}

// Model is an encoder-decoder Transformer. Embeddings are scaled by
// sqrt(Dim) and summed with positions (sec. 3.4-3.5); each stack ends with a layer
// norm, as torch.nn.Transformer's. Parameters: src_embed.weight and
// tgt_embed.weight (or embed.weight when shared), src_pos.weight and
// tgt_pos.weight (learned positions), encoder.layers.N.*, encoder.norm.*,
// decoder.layers.N.*, decoder.norm.*, generator.weight (unless tied) and
// generator.bias.
type Model struct {
	Config             Config
	SrcEmbed, TgtEmbed *graph.Embedding
	SrcPos, TgtPos     Positional
	Encoder            []*EncoderLayer
	Decoder            []*DecoderLayer
	EncNorm, DecNorm   *graph.LayerNorm
	GenWeight, GenBias *graph.Param
}

// New creates the model's parameters in s. Matrices of the layers are
// initialised as PyTorch's modules do; embeddings N(0, 1/Dim), so that the scaled
// embeddings have unit variance.
func New(s *graph.Store, cfg Config) (*Model, error) {
	if cfg.SrcVocab <= 0 || cfg.TgtVocab <= 0 || cfg.MaxLen <= 0 || cfg.EncoderLayers <= 0 || cfg.DecoderLayers <= 0 {
		return nil, errors.Errorf("transformer: vocabularies %d/%d, max length %d, layers %d/%d must be positive",
			cfg.SrcVocab, cfg.TgtVocab, cfg.MaxLen, cfg.EncoderLayers, cfg.DecoderLayers)
	}
	if cfg.ShareEmbeddings && cfg.SrcVocab != cfg.TgtVocab {
		return nil, errors.Errorf("transformer: shared embeddings need one vocabulary (%d and %d)", cfg.SrcVocab, cfg.TgtVocab)
	}
	lc := LayerConfig{Dim: cfg.Dim, Heads: cfg.Heads, FF: cfg.FF, Dropout: cfg.Dropout, Activation: cfg.Activation, PreLN: cfg.PreLN, Unfused: cfg.Unfused}
	if err := lc.validate(); err != nil {
		return nil, errors.Wrap(err, "transformer")
	}
	m := &Model{Config: cfg}
	embed := func(name string, n int) (*graph.Embedding, error) { return NewEmbedding(s, name, n, cfg.Dim) }
	var err error
	if cfg.ShareEmbeddings {
		if m.SrcEmbed, err = embed("embed", cfg.SrcVocab); err != nil {
			return nil, err
		}
		m.TgtEmbed = m.SrcEmbed
	} else {
		if m.SrcEmbed, err = embed("src_embed", cfg.SrcVocab); err != nil {
			return nil, err
		}
		if m.TgtEmbed, err = embed("tgt_embed", cfg.TgtVocab); err != nil {
			return nil, err
		}
	}
	switch cfg.Positions {
	case "", "sinusoidal":
		m.SrcPos, m.TgtPos = SinusoidalPositions{}, SinusoidalPositions{}
	case "learned":
		if m.SrcPos, err = NewLearnedPositions(s, "src_pos", cfg.MaxLen, cfg.Dim); err != nil {
			return nil, err
		}
		if m.TgtPos, err = NewLearnedPositions(s, "tgt_pos", cfg.MaxLen, cfg.Dim); err != nil {
			return nil, err
		}
	default:
		return nil, errors.Errorf("transformer: positions %q (sinusoidal, learned)", cfg.Positions)
	}
	if m.Encoder, err = NewEncoderLayers(s, cfg.EncoderLayers, lc); err != nil {
		return nil, err
	}
	if m.EncNorm, err = graph.NewLayerNorm(s, "encoder.norm", cfg.Dim); err != nil {
		return nil, err
	}
	if m.Decoder, err = NewDecoderLayers(s, cfg.DecoderLayers, lc); err != nil {
		return nil, err
	}
	if m.DecNorm, err = graph.NewLayerNorm(s, "decoder.norm", cfg.Dim); err != nil {
		return nil, err
	}
	if cfg.TieOutput {
		m.GenWeight = m.TgtEmbed.Weight
	} else if m.GenWeight, err = s.New("generator.weight", []int{cfg.TgtVocab, cfg.Dim}, graph.UniformFan(cfg.Dim)); err != nil {
		return nil, err
	}
	if m.GenBias, err = s.New("generator.bias", []int{cfg.TgtVocab}, graph.Zeros()); err != nil {
		return nil, err
	}
	return m, nil
}

// embed returns dropout(pos(sqrt(Dim) E[ids])) for ids (B, T).
func (m *Model) embed(b *graph.Builder, e *graph.Embedding, pos Positional, ids *G.Node) *G.Node {
	if !m.Config.Unfused {
		if x, ok := m.fusedEmbed(b, e, pos, ids); ok {
			return x
		}
	}
	return graph.Dropout(b, pos.Add(b, ScaledEmbed(b, e, ids)), m.Config.Dropout)
}

// NewEmbedding creates an embedding table of n rows of width dim under name in
// s, N(0, 1/dim), so that ScaledEmbed has unit variance.
func NewEmbedding(s *graph.Store, name string, n, dim int) (*graph.Embedding, error) {
	w, err := s.New(name+".weight", []int{n, dim}, graph.Normal(0, 1/math.Sqrt(float64(dim))))
	if err != nil {
		return nil, err
	}
	return &graph.Embedding{Weight: w, Num: n, Dim: dim}, nil
}

// ScaledEmbed returns sqrt(Dim) e[ids], the input scaling of the Transformer.
func ScaledEmbed(b *graph.Builder, e *graph.Embedding, ids *G.Node) *G.Node {
	return graph.Scale(b, e.Forward(b, ids), math.Sqrt(float64(e.Dim)))
}

// Encode builds the encoder over src (B, S) tensor.Int ids with srcKeep (B, S) (1
// for real tokens, 0 for padding) and returns the memory (B, S, Dim).
func (m *Model) Encode(b *graph.Builder, src, srcKeep *G.Node) *G.Node {
	if src == nil || srcKeep == nil {
		return b.Fail(errors.New("transformer: nil source"))
	}
	x := m.embed(b, m.SrcEmbed, m.SrcPos, src)
	mask := attention.AttentionMask(b, srcKeep, src.Shape()[1], false)
	for _, l := range m.Encoder {
		x, _ = l.Forward(b, x, mask)
	}
	return m.EncNorm.Forward(b, x)
}

// Decode builds the decoder over tgt (B, T) ids (BOS first) given the memory and
// the keep masks of source (B, S) and target (B, T); self-attention is causal. It
// returns the logits (B, T, TgtVocab) and the last layer's attention weights over
// the source, averaged over the heads (B, T, S).
func (m *Model) Decode(b *graph.Builder, tgt, memory, srcKeep, tgtKeep *G.Node) (logits, weights *G.Node) {
	x, weights := m.decodeHidden(b, tgt, memory, srcKeep, tgtKeep)
	if x == nil {
		return nil, nil
	}
	return b.Check(graph.Affine(x, b.Param(m.GenWeight), b.Param(m.GenBias))), weights
}

// decodeHidden builds the decoder up to its final norm: it returns the decoder's
// output (B, T, Dim) and the head-averaged memory-attention weights of the last
// layer (B, T, S).
func (m *Model) decodeHidden(b *graph.Builder, tgt, memory, srcKeep, tgtKeep *G.Node) (x, weights *G.Node) {
	if tgt == nil || memory == nil || srcKeep == nil || tgtKeep == nil {
		return b.Fail(errors.New("transformer: nil decoder input")), nil
	}
	t := tgt.Shape()[1]
	x = m.embed(b, m.TgtEmbed, m.TgtPos, tgt)
	selfMask := attention.AttentionMask(b, tgtKeep, t, true)
	memMask := attention.AttentionMask(b, srcKeep, t, false)
	var cross *G.Node
	for _, l := range m.Decoder {
		x, _, cross = l.Forward(b, x, memory, selfMask, memMask)
	}
	x = m.DecNorm.Forward(b, x)
	if x == nil {
		return nil, nil
	}
	return x, attention.MeanHeads(b, cross, m.Config.Heads)
}

// loss builds the masked mean cross-entropy of the generator's logits over the
// decoder's output x against tgtOut, weighted by tgtKeep: fused into one node
// unless Unfused.
func (m *Model) loss(b *graph.Builder, x, tgtOut, tgtKeep *G.Node, labelSmoothing float64) *G.Node {
	if x == nil {
		return nil
	}
	if !m.Config.Unfused {
		if err := (graph.CEOptions{LabelSmoothing: labelSmoothing}).Validate(); err != nil {
			return b.Fail(errors.Wrap(err, "transformer loss"))
		}
		if tgtOut.Dtype() != tensor.Int || tgtKeep.Dtype() != x.Dtype() {
			return b.Fail(errors.Errorf("transformer loss: targets of %v and mask of %v, want int and %v", tgtOut.Dtype(), tgtKeep.Dtype(), x.Dtype()))
		}
		k := newGenLossKernel(labelSmoothing, graph.DefaultIgnoreIndex)
		return b.Check(graph.Apply(k, x, b.Param(m.GenWeight), b.Param(m.GenBias), tgtOut, tgtKeep))
	}
	logits := b.Check(graph.Affine(x, b.Param(m.GenWeight), b.Param(m.GenBias)))
	if logits == nil {
		return nil
	}
	return b.Check(losses.SequenceCrossEntropy(logits, tgtOut, tgtKeep, losses.CEOptions{LabelSmoothing: labelSmoothing}))
}
