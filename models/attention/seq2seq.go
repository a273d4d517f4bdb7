package attention

import (
	"fmt"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/losses"
	"github.com/triadml/triad/models/rnn"
)

// Seq2SeqConfig describes a recurrent encoder-decoder with attention (Bahdanau,
// Cho and Bengio 2015).
type Seq2SeqConfig struct {
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
	Tokens
}

// Seq2Seq is a recurrent encoder-decoder with attention. The encoder reads the
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
type Seq2Seq struct {
	Config    Seq2SeqConfig
	SrcEmbed  *graph.Embedding
	TgtEmbed  *graph.Embedding
	Encoder   *rnn.RNN
	Decoder   *rnn.RNN
	Bridge    *graph.Linear
	BridgeC   *graph.Linear // LSTM only
	Attention Recurrent
	PreOut    *graph.Linear
	Generator *graph.Linear
}

// DecoderWidth returns the decoder's state width (and the memory's).
func (c Seq2SeqConfig) DecoderWidth() int {
	if c.Bidirectional {
		return 2 * c.Hidden
	}
	return c.Hidden
}

// NewSeq2Seq creates the model's parameters in s.
func NewSeq2Seq(s *graph.Store, cfg Seq2SeqConfig) (*Seq2Seq, error) {
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
	m := &Seq2Seq{Config: cfg}
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
	if m.Attention, err = NewRecurrent(s, "attention", cfg.Attention, hd, hd, cfg.AttnDim); err != nil {
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

// encode builds the encoder over per-step ids (B) and keep masks (B, 1).
func (m *Seq2Seq) encode(b graph.SaltedBuilder, ids, keeps []*G.Node) encoded {
	xs := make([]*G.Node, len(ids))
	for t, id := range ids {
		xs[t] = graph.Dropout(b.Builder, m.SrcEmbed.Forward(b.Builder, id), m.Config.Dropout)
	}
	batch := ids[0].Shape()[0]
	outs, final := m.Encoder.Forward(b.Builder, xs, m.Encoder.ZeroState(b.Builder, graph.SaltName("encoder_state", b.Salt), batch), keeps)
	if b.Err() != nil {
		return encoded{}
	}
	var e encoded
	e.memory = graph.Stack(b.Builder, outs)
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

// step builds one decoder step from the previous token ids (B) and state; it
// returns the new state, the output features [s_i; c_i; e(y_{i-1})] and the
// attention weights (B, S).
func (m *Seq2Seq) step(b *graph.Builder, prev, h, c, memory, keys, mask *G.Node) (hNew, cNew, feat, weights *G.Node) {
	e := graph.Dropout(b, m.TgtEmbed.Forward(b, prev), m.Config.Dropout)
	ctx, weights := m.Attention.Attend(b, h, keys, memory, mask)
	if e == nil || ctx == nil {
		return nil, nil, nil, nil
	}
	x := graph.Concat(b, e, ctx)
	st := rnn.State{H: []*G.Node{h}}
	if c != nil {
		st.C = []*G.Node{c}
	}
	_, final := m.Decoder.Forward(b, []*G.Node{x}, st, nil)
	if b.Err() != nil {
		return nil, nil, nil, nil
	}
	hNew = final.H[0]
	if final.C != nil {
		cNew = final.C[0]
	}
	feat = graph.Concat(b, hNew, ctx, e)
	return hNew, cNew, feat, weights
}

// logits maps output features (..., 2H+E) to vocabulary logits.
func (m *Seq2Seq) logits(b *graph.Builder, feat *G.Node) *G.Node {
	o := m.PreOut.Forward(b, feat)
	if o == nil {
		return nil
	}
	o = graph.Dropout(b, b.Check(G.Tanh(o)), m.Config.Dropout)
	return m.Generator.Forward(b, o)
}

// Seq2SeqProgram is a compiled teacher-forced graph of a Seq2Seq for a fixed batch
// and source/target lengths. Feed sets a batch (the inputs, one per source and
// target step, may carry a suffix in the graph: see graph.CompileSalted); outputs: "loss"
// (mean cross-entropy per target token, EOS included) and "attn" (B, TgtLen,
// SrcLen), the attention weights of every target step.
type Seq2SeqProgram struct {
	*graph.Program
	Batch, SrcLen, TgtLen int
	tok                   Tokens
	dtype                 tensor.Dtype
	salt                  int
}

// Build compiles a teacher-forced program for batch pairs of sources of at most
// srcLen tokens and targets of at most tgtLen-1 tokens (plus EOS). A Train program
// differentiates the loss; labelSmoothing is the loss's epsilon.
func (m *Seq2Seq) Build(s *graph.Store, mode graph.Mode, batch, srcLen, tgtLen int, labelSmoothing float64) (*Seq2SeqProgram, error) {
	if batch <= 0 || srcLen <= 0 || tgtLen <= 0 {
		return nil, errors.Errorf("seq2seq: batch %d, lengths %d/%d", batch, srcLen, tgtLen)
	}
	p, err := graph.CompileSalted(func(b graph.SaltedBuilder) (*graph.Program, error) {
		b.Builder = graph.NewBuilder(s, mode)
		ids, keeps := make([]*G.Node, srcLen), make([]*G.Node, srcLen)
		for t := range ids {
			ids[t] = b.In(fmt.Sprintf("src.%d", t), tensor.Int, batch)
			keeps[t] = b.In(fmt.Sprintf("src_keep.%d", t), s.Dtype(), batch, 1)
		}
		mask := b.In("src_mask", s.Dtype(), batch, srcLen)
		enc := m.encode(b, ids, keeps)
		h, c := enc.h0, enc.c0
		feats, ws := make([]*G.Node, tgtLen), make([]*G.Node, tgtLen)
		for t := 0; t < tgtLen; t++ {
			prev := b.In(fmt.Sprintf("tgt_in.%d", t), tensor.Int, batch)
			h, c, feats[t], ws[t] = m.step(b.Builder, prev, h, c, enc.memory, enc.keys, mask)
			if b.Err() != nil {
				return nil, b.Err()
			}
		}
		logits := m.logits(b.Builder, graph.Stack(b.Builder, feats))
		target := b.In("tgt_out", tensor.Int, batch, tgtLen)
		keep := b.In("tgt_keep", s.Dtype(), batch, tgtLen)
		if b.Err() != nil {
			return nil, b.Err()
		}
		loss := b.Check(losses.SequenceCrossEntropy(logits, target, keep, losses.CEOptions{LabelSmoothing: labelSmoothing}))
		b.Output("loss", loss)
		b.Output("attn", graph.Stack(b.Builder, ws))
		if mode == graph.Train {
			return b.Compile(loss)
		}
		return b.Compile(nil)
	})
	if err != nil {
		return nil, errors.Wrap(err, "seq2seq")
	}
	return &Seq2SeqProgram{Program: p.Program, Batch: batch, SrcLen: srcLen, TgtLen: tgtLen, tok: m.Config.Tokens, dtype: s.Dtype(), salt: p.Salt}, nil
}

// Feed sets a batch of (source, target) pairs (token ids without BOS/EOS; padded
// here). It returns the number of target tokens (EOS included) in the batch.
func (p *Seq2SeqProgram) Feed(srcs, tgts [][]int) (int, error) {
	if len(srcs) != p.Batch {
		return 0, errors.Errorf("seq2seq: %d pairs for a batch of %d", len(srcs), p.Batch)
	}
	pb, err := makePairs(p.tok, srcs, tgts, p.SrcLen, p.TgtLen)
	if err != nil {
		return 0, errors.Wrap(err, "seq2seq")
	}
	set := func(name string, v *tensor.Dense) {
		if err == nil {
			err = p.Set(graph.SaltName(name, p.salt), v)
		}
	}
	for t := 0; t < p.SrcLen; t++ {
		set(fmt.Sprintf("src.%d", t), column(pb.src, pb.b, pb.s, t))
		set(fmt.Sprintf("src_keep.%d", t), columnF(p.dtype, pb.srcKeep, pb.b, pb.s, t))
	}
	set("src_mask", graph.FromFloat64s(p.dtype, pb.srcAdd, pb.b, pb.s))
	for t := 0; t < p.TgtLen; t++ {
		set(fmt.Sprintf("tgt_in.%d", t), column(pb.tgtIn, pb.b, pb.t, t))
	}
	set("tgt_out", graph.FromInts(pb.tgtOut, pb.b, pb.t))
	set("tgt_keep", graph.FromFloat64s(p.dtype, pb.tgtKeep, pb.b, pb.t))
	n := 0
	for _, l := range pb.tgtLens {
		n += l
	}
	return n, err
}

// Seq2SeqDecoder runs a trained Seq2Seq one token at a time (a StepModel): an
// encoder graph per (batch, source length) and a one-step decoder graph per
// (rows, source length), compiled on first use and cached, all sharing the
// store's weights. Source lengths are padded up to a multiple of Bucket.
type Seq2SeqDecoder struct {
	Model  *Seq2Seq
	Store  *graph.Store
	Bucket int
	enc    map[[2]int]graph.SaltedProgram
	steps  map[[2]int]graph.SaltedProgram
}

// NewDecoder returns a decoder over the model's weights in s.
func (m *Seq2Seq) NewDecoder(s *graph.Store) *Seq2SeqDecoder {
	return &Seq2SeqDecoder{Model: m, Store: s, Bucket: 8, enc: map[[2]int]graph.SaltedProgram{}, steps: map[[2]int]graph.SaltedProgram{}}
}

// rnnDecodeState is the per-row state of recurrent decoding.
type rnnDecodeState struct {
	memory, keys, mask, h, c *tensor.Dense
}

func (s *rnnDecodeState) Rows() int { return s.h.Shape()[0] }

func (s *rnnDecodeState) Select(rows []int) (DecodeState, error) {
	out := &rnnDecodeState{}
	var err error
	for _, p := range []struct{ dst, src **tensor.Dense }{{&out.memory, &s.memory}, {&out.keys, &s.keys}, {&out.mask, &s.mask}, {&out.h, &s.h}, {&out.c, &s.c}} {
		if err == nil {
			*p.dst, err = graph.SelectRows(*p.src, rows)
		}
	}
	return out, err
}

func (d *Seq2SeqDecoder) encoder(batch, srcLen int) (graph.SaltedProgram, error) {
	key := [2]int{batch, srcLen}
	if p, ok := d.enc[key]; ok {
		return p, nil
	}
	p, err := graph.CompileSalted(func(b graph.SaltedBuilder) (*graph.Program, error) {
		b.Builder = graph.NewBuilder(d.Store, graph.Eval)
		ids, keeps := make([]*G.Node, srcLen), make([]*G.Node, srcLen)
		for t := range ids {
			ids[t] = b.In(fmt.Sprintf("src.%d", t), tensor.Int, batch)
			keeps[t] = b.In(fmt.Sprintf("src_keep.%d", t), d.Store.Dtype(), batch, 1)
		}
		e := d.Model.encode(b, ids, keeps)
		b.Output("memory", e.memory)
		b.Output("keys", e.keys)
		b.Output("h0", e.h0)
		b.Output("c0", e.c0)
		return b.Compile(nil)
	})
	if err != nil {
		return p, errors.Wrap(err, "seq2seq encoder")
	}
	d.enc[key] = p
	return p, nil
}

func (d *Seq2SeqDecoder) stepper(rows, srcLen int) (graph.SaltedProgram, error) {
	key := [2]int{rows, srcLen}
	if p, ok := d.steps[key]; ok {
		return p, nil
	}
	m := d.Model
	hd := m.Config.DecoderWidth()
	dt := d.Store.Dtype()
	p, err := graph.CompileSalted(func(b graph.SaltedBuilder) (*graph.Program, error) {
		b.Builder = graph.NewBuilder(d.Store, graph.Eval)
		prev := b.In("token", tensor.Int, rows)
		h := b.In("h", dt, rows, hd)
		var c *G.Node
		if m.Config.Cell == rnn.LSTM {
			c = b.In("c", dt, rows, hd)
		}
		memory := b.In("memory", dt, rows, srcLen, hd)
		keys := b.In("keys", dt, rows, srcLen, m.keyWidth())
		mask := b.In("mask", dt, rows, srcLen)
		hNew, cNew, feat, w := m.step(b.Builder, prev, h, c, memory, keys, mask)
		logits := m.logits(b.Builder, feat)
		if logits == nil {
			return nil, b.Err()
		}
		b.Output("logp", b.Check(graph.LogSoftMax(logits, 1, nil)))
		b.Output("h", hNew)
		b.Output("c", cNew)
		b.Output("attn", w)
		return b.Compile(nil)
	})
	if err != nil {
		return p, errors.Wrap(err, "seq2seq step")
	}
	d.steps[key] = p
	return p, nil
}

// keyWidth is the width of the attention keys.
func (m *Seq2Seq) keyWidth() int {
	if a, ok := m.Attention.(*Additive); ok {
		return a.Dim
	}
	return m.Config.DecoderWidth()
}

// Encode implements StepModel.
func (d *Seq2SeqDecoder) Encode(srcs [][]int) (DecodeState, error) {
	srcLen := bucket(maxLen(srcs), d.Bucket)
	pb, err := makePairs(d.Model.Config.Tokens, srcs, nil, srcLen, 1)
	if err != nil {
		return nil, errors.Wrap(err, "seq2seq encoder")
	}
	p, err := d.encoder(len(srcs), srcLen)
	if err != nil {
		return nil, err
	}
	dt := d.Store.Dtype()
	for t := 0; t < srcLen; t++ {
		if err := p.SetInput(fmt.Sprintf("src.%d", t), column(pb.src, pb.b, pb.s, t)); err != nil {
			return nil, err
		}
		if err := p.SetInput(fmt.Sprintf("src_keep.%d", t), columnF(dt, pb.srcKeep, pb.b, pb.s, t)); err != nil {
			return nil, err
		}
	}
	if err := p.Run(); err != nil {
		return nil, errors.Wrap(err, "seq2seq encoder")
	}
	st := &rnnDecodeState{mask: graph.FromFloat64s(dt, pb.srcAdd, pb.b, pb.s)}
	for name, dst := range map[string]**tensor.Dense{"memory": &st.memory, "keys": &st.keys, "h0": &st.h} {
		out, err := p.Output(name)
		if err != nil {
			return nil, err
		}
		*dst = out.Clone().(*tensor.Dense)
	}
	if d.Model.Config.Cell == rnn.LSTM {
		out, err := p.Output("c0")
		if err != nil {
			return nil, err
		}
		st.c = out.Clone().(*tensor.Dense)
	}
	return st, nil
}

// Step implements StepModel.
func (d *Seq2SeqDecoder) Step(state DecodeState, tokens []int) (StepOutput, DecodeState, error) {
	st, ok := state.(*rnnDecodeState)
	if !ok {
		return StepOutput{}, nil, errors.Errorf("seq2seq step: state of type %T", state)
	}
	rows, srcLen := st.Rows(), st.mask.Shape()[1]
	if len(tokens) != rows {
		return StepOutput{}, nil, errors.Errorf("seq2seq step: %d tokens for %d rows", len(tokens), rows)
	}
	p, err := d.stepper(rows, srcLen)
	if err != nil {
		return StepOutput{}, nil, err
	}
	set := func(name string, v *tensor.Dense) {
		if err == nil && v != nil {
			err = p.SetInput(name, v)
		}
	}
	set("token", graph.FromInts(tokens, rows))
	set("h", st.h)
	set("c", st.c)
	set("memory", st.memory)
	set("keys", st.keys)
	set("mask", st.mask)
	if err == nil {
		err = p.Run()
	}
	if err != nil {
		return StepOutput{}, nil, errors.Wrap(err, "seq2seq step")
	}
	next := &rnnDecodeState{memory: st.memory, keys: st.keys, mask: st.mask}
	h, _ := p.Output("h")
	next.h = h.Clone().(*tensor.Dense)
	if st.c != nil {
		c, _ := p.Output("c")
		next.c = c.Clone().(*tensor.Dense)
	}
	logp, _ := p.Output("logp")
	w, _ := p.Output("attn")
	return StepOutput{LogProbs: graph.Rows(logp), Weights: graph.Rows(w)}, next, nil
}

var _ StepModel = (*Seq2SeqDecoder)(nil)
