package attention

import (
	"fmt"
	"math"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/losses"
)

// TransformerConfig describes an encoder-decoder Transformer (Vaswani et al. 2017).
type TransformerConfig struct {
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
	Tokens
}

// Transformer is an encoder-decoder Transformer. Embeddings are scaled by
// sqrt(Dim) and summed with positions (sec. 3.4-3.5); each stack ends with a layer
// norm, as torch.nn.Transformer's. Parameters: src_embed.weight and
// tgt_embed.weight (or embed.weight when shared), src_pos.weight and
// tgt_pos.weight (learned positions), encoder.layers.N.*, encoder.norm.*,
// decoder.layers.N.*, decoder.norm.*, generator.weight (unless tied) and
// generator.bias.
type Transformer struct {
	Config             TransformerConfig
	SrcEmbed, TgtEmbed *graph.Embedding
	SrcPos, TgtPos     Positional
	Encoder            []*EncoderLayer
	Decoder            []*DecoderLayer
	EncNorm, DecNorm   *graph.LayerNorm
	GenWeight, GenBias *graph.Param
}

// NewTransformer creates the model's parameters in s. Matrices of the layers are
// initialised as PyTorch's modules do; embeddings N(0, 1/Dim), so that the scaled
// embeddings have unit variance.
func NewTransformer(s *graph.Store, cfg TransformerConfig) (*Transformer, error) {
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
	m := &Transformer{Config: cfg}
	embed := func(name string, n int) (*graph.Embedding, error) {
		w, err := s.New(name+".weight", []int{n, cfg.Dim}, graph.Normal(0, 1/math.Sqrt(float64(cfg.Dim))))
		if err != nil {
			return nil, err
		}
		return &graph.Embedding{Weight: w, Num: n, Dim: cfg.Dim}, nil
	}
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
	for i := 0; i < cfg.EncoderLayers; i++ {
		l, err := NewEncoderLayer(s, fmt.Sprintf("encoder.layers.%d", i), lc)
		if err != nil {
			return nil, err
		}
		m.Encoder = append(m.Encoder, l)
	}
	if m.EncNorm, err = graph.NewLayerNorm(s, "encoder.norm", cfg.Dim); err != nil {
		return nil, err
	}
	for i := 0; i < cfg.DecoderLayers; i++ {
		l, err := NewDecoderLayer(s, fmt.Sprintf("decoder.layers.%d", i), lc)
		if err != nil {
			return nil, err
		}
		m.Decoder = append(m.Decoder, l)
	}
	if m.DecNorm, err = graph.NewLayerNorm(s, "decoder.norm", cfg.Dim); err != nil {
		return nil, err
	}
	bound := 1 / math.Sqrt(float64(cfg.Dim))
	if cfg.TieOutput {
		m.GenWeight = m.TgtEmbed.Weight
	} else if m.GenWeight, err = s.New("generator.weight", []int{cfg.TgtVocab, cfg.Dim}, graph.Uniform(-bound, bound)); err != nil {
		return nil, err
	}
	if m.GenBias, err = s.New("generator.bias", []int{cfg.TgtVocab}, graph.Zeros()); err != nil {
		return nil, err
	}
	return m, nil
}

// embed returns dropout(pos(sqrt(Dim) E[ids])) for ids (B, T).
func (m *Transformer) embed(b *graph.Builder, e *graph.Embedding, pos Positional, ids *G.Node) *G.Node {
	if !m.Config.Unfused {
		if x, ok := m.fusedEmbed(b, e, pos, ids); ok {
			return x
		}
	}
	x := graph.Scale(b, e.Forward(b, ids), math.Sqrt(float64(m.Config.Dim)))
	return graph.Dropout(b, pos.Add(b, x), m.Config.Dropout)
}

// Encode builds the encoder over src (B, S) tensor.Int ids with srcKeep (B, S) (1
// for real tokens, 0 for padding) and returns the memory (B, S, Dim).
func (m *Transformer) Encode(b *graph.Builder, src, srcKeep *G.Node) *G.Node {
	if src == nil || srcKeep == nil {
		return b.Fail(errors.New("transformer: nil source"))
	}
	x := m.embed(b, m.SrcEmbed, m.SrcPos, src)
	mask := AttentionMask(b, srcKeep, src.Shape()[1], false)
	for _, l := range m.Encoder {
		x, _ = l.Forward(b, x, mask)
	}
	return m.EncNorm.Forward(b, x)
}

// Decode builds the decoder over tgt (B, T) ids (BOS first) given the memory and
// the keep masks of source (B, S) and target (B, T); self-attention is causal. It
// returns the logits (B, T, TgtVocab) and the last layer's attention weights over
// the source, averaged over the heads (B, T, S).
func (m *Transformer) Decode(b *graph.Builder, tgt, memory, srcKeep, tgtKeep *G.Node) (logits, weights *G.Node) {
	x, weights := m.decodeHidden(b, tgt, memory, srcKeep, tgtKeep)
	if x == nil {
		return nil, nil
	}
	return b.Check(graph.Affine(x, b.Param(m.GenWeight), b.Param(m.GenBias))), weights
}

// decodeHidden builds the decoder up to its final norm: it returns the decoder's
// output (B, T, Dim) and the head-averaged memory-attention weights of the last
// layer (B, T, S).
func (m *Transformer) decodeHidden(b *graph.Builder, tgt, memory, srcKeep, tgtKeep *G.Node) (x, weights *G.Node) {
	if tgt == nil || memory == nil || srcKeep == nil || tgtKeep == nil {
		return b.Fail(errors.New("transformer: nil decoder input")), nil
	}
	t := tgt.Shape()[1]
	x = m.embed(b, m.TgtEmbed, m.TgtPos, tgt)
	selfMask := AttentionMask(b, tgtKeep, t, true)
	memMask := AttentionMask(b, srcKeep, t, false)
	var cross *G.Node
	for _, l := range m.Decoder {
		x, _, cross = l.Forward(b, x, memory, selfMask, memMask)
	}
	x = m.DecNorm.Forward(b, x)
	if x == nil {
		return nil, nil
	}
	return x, MeanHeads(b, cross, m.Config.Heads)
}

// loss builds the masked mean cross-entropy of the generator's logits over the
// decoder's output x against tgtOut, weighted by tgtKeep: fused into one node
// unless Unfused.
func (m *Transformer) loss(b *graph.Builder, x, tgtOut, tgtKeep *G.Node, labelSmoothing float64) *G.Node {
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

// TransformerProgram is a compiled teacher-forced Transformer graph for a fixed
// batch and lengths. Inputs "src" (B, S) and "tgt_in", "tgt_out" (B, T) ids,
// "src_keep" and "tgt_keep" masks, set by Feed (their graph names may carry a
// suffix: see graph.CompileSalted); outputs "loss" and "attn" (B, T, S).
type TransformerProgram struct {
	*graph.Program
	Batch, SrcLen, TgtLen int
	tok                   Tokens
	dtype                 tensor.Dtype
	salt                  int
}

// Build compiles a teacher-forced program (see Seq2Seq.Build).
func (m *Transformer) Build(s *graph.Store, mode graph.Mode, batch, srcLen, tgtLen int, labelSmoothing float64) (*TransformerProgram, error) {
	if batch <= 0 || srcLen <= 0 || tgtLen <= 0 || srcLen > m.Config.MaxLen || tgtLen > m.Config.MaxLen {
		return nil, errors.Errorf("transformer: batch %d, lengths %d/%d (max %d)", batch, srcLen, tgtLen, m.Config.MaxLen)
	}
	p, err := graph.CompileSalted(func(b graph.SaltedBuilder) (*graph.Program, error) {
		b.Builder = graph.NewBuilder(s, mode)
		src := b.In("src", tensor.Int, batch, srcLen)
		srcKeep := b.In("src_keep", s.Dtype(), batch, srcLen)
		tgtIn := b.In("tgt_in", tensor.Int, batch, tgtLen)
		tgtOut := b.In("tgt_out", tensor.Int, batch, tgtLen)
		tgtKeep := b.In("tgt_keep", s.Dtype(), batch, tgtLen)
		memory := m.Encode(b.Builder, src, srcKeep)
		x, w := m.decodeHidden(b.Builder, tgtIn, memory, srcKeep, tgtKeep)
		if b.Err() != nil {
			return nil, b.Err()
		}
		loss := m.loss(b.Builder, x, tgtOut, tgtKeep, labelSmoothing)
		b.Output("loss", loss)
		b.Output("attn", w)
		if mode == graph.Train {
			return b.Compile(loss)
		}
		return b.Compile(nil)
	})
	if err != nil {
		return nil, errors.Wrap(err, "transformer")
	}
	return &TransformerProgram{Program: p.Program, Batch: batch, SrcLen: srcLen, TgtLen: tgtLen, tok: m.Config.Tokens, dtype: s.Dtype(), salt: p.Salt}, nil
}

// Feed sets a batch of pairs and returns the number of target tokens.
func (p *TransformerProgram) Feed(srcs, tgts [][]int) (int, error) {
	if len(srcs) != p.Batch {
		return 0, errors.Errorf("transformer: %d pairs for a batch of %d", len(srcs), p.Batch)
	}
	pb, err := makePairs(p.tok, srcs, tgts, p.SrcLen, p.TgtLen)
	if err != nil {
		return 0, errors.Wrap(err, "transformer")
	}
	for _, in := range []struct {
		name string
		v    *tensor.Dense
	}{
		{"src", graph.FromInts(pb.src, pb.b, pb.s)},
		{"src_keep", graph.FromFloat64s(p.dtype, pb.srcKeep, pb.b, pb.s)},
		{"tgt_in", graph.FromInts(pb.tgtIn, pb.b, pb.t)},
		{"tgt_out", graph.FromInts(pb.tgtOut, pb.b, pb.t)},
		{"tgt_keep", graph.FromFloat64s(p.dtype, pb.tgtKeep, pb.b, pb.t)},
	} {
		if err := p.Set(graph.SaltName(in.name, p.salt), in.v); err != nil {
			return 0, err
		}
	}
	n := 0
	for _, l := range pb.tgtLens {
		n += l
	}
	return n, nil
}

// TransformerDecoder runs a trained Transformer one token at a time (a
// StepModel). The encoder runs once per batch of sources. The one-step graph has
// static shapes: it takes the prefix padded to a multiple of PrefixBucket (at
// most MaxLen), recomputes the decoder over it (the causal mask keeps the padding
// after the current position from mattering) and applies the output layer to
// the current position alone; no key/value cache. Programs are compiled per
// (rows, source length, prefix length) on first use and share the store's
// weights.
type TransformerDecoder struct {
	Model *Transformer
	Store *graph.Store
	// Bucket rounds source lengths up to a multiple of it.
	Bucket int
	// PrefixBucket rounds prefix lengths up to a multiple of it: small values
	// recompute less per step and compile more programs; MaxLen gives one
	// program per (rows, source length).
	PrefixBucket int
	enc          map[[2]int]graph.SaltedProgram
	steps        map[[3]int]graph.SaltedProgram
}

// NewDecoder returns a decoder over the model's weights in s.
func (m *Transformer) NewDecoder(s *graph.Store) *TransformerDecoder {
	return &TransformerDecoder{Model: m, Store: s, Bucket: 8, PrefixBucket: 8,
		enc: map[[2]int]graph.SaltedProgram{}, steps: map[[3]int]graph.SaltedProgram{}}
}

// Close releases the compiled programs.
func (d *TransformerDecoder) Close() error {
	var first error
	for k, p := range d.enc {
		if err := p.Close(); err != nil && first == nil {
			first = err
		}
		delete(d.enc, k)
	}
	for k, p := range d.steps {
		if err := p.Close(); err != nil && first == nil {
			first = err
		}
		delete(d.steps, k)
	}
	return first
}

type transformerState struct {
	memory, srcKeep *tensor.Dense
	prefix          [][]int // tokens fed so far, BOS first
}

func (s *transformerState) Rows() int { return len(s.prefix) }

func (s *transformerState) Select(rows []int) (DecodeState, error) {
	mem, err := graph.SelectRows(s.memory, rows)
	if err != nil {
		return nil, err
	}
	keep, err := graph.SelectRows(s.srcKeep, rows)
	if err != nil {
		return nil, err
	}
	prefix := make([][]int, len(rows))
	for i, r := range rows {
		prefix[i] = append([]int(nil), s.prefix[r]...)
	}
	return &transformerState{memory: mem, srcKeep: keep, prefix: prefix}, nil
}

func (d *TransformerDecoder) encoder(batch, srcLen int) (graph.SaltedProgram, error) {
	key := [2]int{batch, srcLen}
	if p, ok := d.enc[key]; ok {
		return p, nil
	}
	p, err := graph.CompileSalted(func(b graph.SaltedBuilder) (*graph.Program, error) {
		b.Builder = graph.NewBuilder(d.Store, graph.Eval)
		src := b.In("src", tensor.Int, batch, srcLen)
		keep := b.In("src_keep", d.Store.Dtype(), batch, srcLen)
		b.Output("memory", d.Model.Encode(b.Builder, src, keep))
		return b.Compile(nil)
	})
	if err != nil {
		return p, errors.Wrap(err, "transformer encoder")
	}
	d.enc[key] = p
	return p, nil
}

func (d *TransformerDecoder) stepper(rows, srcLen, t int) (graph.SaltedProgram, error) {
	key := [3]int{rows, srcLen, t}
	if p, ok := d.steps[key]; ok {
		return p, nil
	}
	m := d.Model
	dt := d.Store.Dtype()
	p, err := graph.CompileSalted(func(b graph.SaltedBuilder) (*graph.Program, error) {
		b.Builder = graph.NewBuilder(d.Store, graph.Eval)
		prefix := b.In("prefix", tensor.Int, rows, t)
		prefixKeep := b.In("prefix_keep", dt, rows, t)
		pos := b.In("pos", tensor.Int, rows)
		memory := b.In("memory", dt, rows, srcLen, m.Config.Dim)
		srcKeep := b.In("src_keep", dt, rows, srcLen)
		x, w := m.decodeHidden(b.Builder, prefix, memory, srcKeep, prefixKeep)
		last := graph.Pick(b.Builder, x, pos)
		if last == nil {
			return nil, b.Err()
		}
		logits := b.Check(graph.Affine(last, b.Param(m.GenWeight), b.Param(m.GenBias)))
		b.Output("logp", b.Check(graph.LogSoftMax(logits, 1, nil)))
		b.Output("attn", graph.Pick(b.Builder, w, pos))
		return b.Compile(nil)
	})
	if err != nil {
		return p, errors.Wrap(err, "transformer step")
	}
	ones := make([]float64, rows*t)
	for i := range ones {
		ones[i] = 1
	}
	if err := p.SetInput("prefix_keep", graph.FromFloat64s(dt, ones, rows, t)); err != nil {
		return p, err
	}
	d.steps[key] = p
	return p, nil
}

// Encode implements StepModel.
func (d *TransformerDecoder) Encode(srcs [][]int) (DecodeState, error) {
	srcLen := min(bucket(maxLen(srcs), d.Bucket), d.Model.Config.MaxLen)
	pb, err := makePairs(d.Model.Config.Tokens, srcs, nil, srcLen, 1)
	if err != nil {
		return nil, errors.Wrap(err, "transformer encoder")
	}
	p, err := d.encoder(len(srcs), srcLen)
	if err != nil {
		return nil, err
	}
	keep := graph.FromFloat64s(d.Store.Dtype(), pb.srcKeep, pb.b, pb.s)
	if err := p.SetInput("src", graph.FromInts(pb.src, pb.b, pb.s)); err != nil {
		return nil, err
	}
	if err := p.SetInput("src_keep", keep); err != nil {
		return nil, err
	}
	if err := p.Run(); err != nil {
		return nil, errors.Wrap(err, "transformer encoder")
	}
	mem, err := p.Output("memory")
	if err != nil {
		return nil, err
	}
	return &transformerState{memory: mem.Clone().(*tensor.Dense), srcKeep: keep, prefix: make([][]int, len(srcs))}, nil
}

// Step implements StepModel.
func (d *TransformerDecoder) Step(state DecodeState, tokens []int) (StepOutput, DecodeState, error) {
	st, ok := state.(*transformerState)
	if !ok {
		return StepOutput{}, nil, errors.Errorf("transformer step: state of type %T", state)
	}
	rows := st.Rows()
	if len(tokens) != rows {
		return StepOutput{}, nil, errors.Errorf("transformer step: %d tokens for %d rows", len(tokens), rows)
	}
	maxLen := d.Model.Config.MaxLen
	next := &transformerState{memory: st.memory, srcKeep: st.srcKeep, prefix: make([][]int, rows)}
	longest := 0
	for r := range tokens {
		next.prefix[r] = append(append([]int(nil), st.prefix[r]...), tokens[r])
		longest = max(longest, len(next.prefix[r]))
	}
	if longest > maxLen {
		return StepOutput{}, nil, errors.Errorf("transformer step: prefix of %d tokens exceeds the maximum length %d", longest, maxLen)
	}
	t := min(bucket(longest, d.PrefixBucket), maxLen)
	ids := make([]int, rows*t)
	pos := make([]int, rows)
	for r, p := range next.prefix {
		for i := 0; i < t; i++ {
			ids[r*t+i] = d.Model.Config.Pad
			if i < len(p) {
				ids[r*t+i] = p[i]
			}
		}
		pos[r] = len(p) - 1
	}
	p, err := d.stepper(rows, st.srcKeep.Shape()[1], t)
	if err != nil {
		return StepOutput{}, nil, err
	}
	for _, in := range []struct {
		name string
		v    *tensor.Dense
	}{{"prefix", graph.FromInts(ids, rows, t)}, {"pos", graph.FromInts(pos, rows)}, {"memory", st.memory}, {"src_keep", st.srcKeep}} {
		if err := p.SetInput(in.name, in.v); err != nil {
			return StepOutput{}, nil, err
		}
	}
	if err := p.Run(); err != nil {
		return StepOutput{}, nil, errors.Wrap(err, "transformer step")
	}
	logp, _ := p.Output("logp")
	w, _ := p.Output("attn")
	return StepOutput{LogProbs: graph.Rows(logp), Weights: graph.Rows(w)}, next, nil
}

var _ StepModel = (*TransformerDecoder)(nil)
