package pointer

import (
	"maps"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/losses"
	"github.com/triadml/triad/models/attention"
	"github.com/triadml/triad/models/seq2seq"
)

// Program is a compiled teacher-forced graph of a Model for a fixed batch and
// source and target lengths. Outputs: "loss" (the mean of -log P(w*) over the
// real target tokens, EOS included), "attn" (B, TgtLen, SrcLen), the attention
// weights of every step, and with Copy "p_gen" (B, TgtLen, 1).
type Program struct {
	graph.SaltedProgram
	Batch, SrcLen, TgtLen int
	model                 *Model
	dtype                 tensor.Dtype
}

var _ seq2seq.PairProgram = (*Program)(nil)

// Build compiles a teacher-forced program for at most batch pairs of sources of
// at most srcLen tokens and targets of at most tgtLen-1 tokens (plus EOS). A
// Train program differentiates the loss.
func (m *Model) Build(s *graph.Store, mode graph.Mode, batch, srcLen, tgtLen int) (*Program, error) {
	if batch <= 0 || srcLen <= 0 || tgtLen <= 0 {
		return nil, errors.Errorf("pointer: batch %d, lengths %d/%d", batch, srcLen, tgtLen)
	}
	p, err := seq2seq.CompilePairs(s, mode, func(b graph.SaltedBuilder) (loss, attn *G.Node) {
		mask := b.In("src_mask", s.Dtype(), batch, srcLen)
		enc := m.encode(b, batch, srcLen)
		if b.Err() != nil {
			return nil, nil
		}
		st := seq2seq.StepState{H: enc.h0}
		if m.Config.StateFirst {
			st.Ctx = b.In("ctx0", s.Dtype(), batch, m.Config.DecoderWidth()) // never set: c_0 = 0
		}
		feat, attn := m.step().Unroll(b, batch, tgtLen, st, enc.memory, enc.keys, mask)
		if b.Err() != nil {
			return nil, nil
		}
		logits, z := m.head(b.Builder, feat)
		target := b.In("tgt_out", tensor.Int, batch, tgtLen)
		keep := b.In("tgt_keep", s.Dtype(), batch, tgtLen)
		if b.Err() != nil {
			return nil, nil
		}
		if m.Config.Copy {
			ext := b.In("src_ext", tensor.Int, batch, srcLen)
			nll := b.Check(Mixture(logits, attn, z, ext, target))
			if nll != nil {
				loss = b.Check(losses.Reduce(nll, keep, losses.Mean))
			}
			if z != nil {
				b.Output("p_gen", b.Check(G.Sigmoid(z)))
			}
		} else {
			loss = b.Check(losses.SequenceCrossEntropy(logits, target, keep, losses.CEOptions{}))
		}
		return loss, attn
	})
	if err != nil {
		return nil, errors.Wrap(err, "pointer")
	}
	return &Program{SaltedProgram: p, Batch: batch, SrcLen: srcLen, TgtLen: tgtLen, model: m, dtype: s.Dtype()}, nil
}

// Feed sets a batch of (source, target) pairs given in extended ids (see
// ExtendSource and ExtendTarget), without BOS or EOS; fewer pairs than the
// program's batch leave the remaining rows as padding. Ids of V or more are fed
// to the embeddings as Unk; a target id of V or more that is not in its source
// is taken as Unk (as is every id of V or more in plain-attention mode). It
// returns the number of target tokens (EOS included).
func (p *Program) Feed(srcs, tgts [][]int) (int, error) {
	a, err := p.model.arrange(srcs, tgts, p.Batch, p.SrcLen, p.TgtLen)
	if err != nil {
		return 0, errors.Wrap(err, "pointer")
	}
	feeds := seq2seq.TargetInputs(a.tgtIn, a.b, a.t)
	maps.Copy(feeds, a.sourceFeeds(p.dtype))
	feeds["src_mask"] = graph.FromFloat64s(p.dtype, a.srcAdd, a.b, a.s)
	if p.model.Config.Copy {
		feeds["src_ext"] = graph.FromInts(a.srcExt, a.b, a.s)
	}
	feeds["tgt_out"] = graph.FromInts(a.tgtOut, a.b, a.t)
	feeds["tgt_keep"] = graph.FromFloat64s(p.dtype, a.tgtKeep, a.b, a.t)
	return a.tokens, p.SetInputs(feeds)
}

// arranged is a padded batch laid out for feeding.
type arranged struct {
	b, s, t int
	src     []int     // (S*B) time-major vocabulary ids (Unk for ids of V or more), Pad on padding
	srcKeep []float64 // (S*B) time-major: 1 on real tokens
	srcAdd  []float64 // (B, S): 0 on real tokens, attention.MaskValue on padding
	srcExt  []int     // (B, S) extended ids, Pad on padding
	tgtIn   []int     // (B, T): BOS y_1 ... (vocabulary ids), Pad after
	tgtOut  []int     // (B, T): y_1 ... EOS, Pad after
	tgtKeep []float64 // (B, T): 1 on the real target positions
	tokens  int       // real target positions
}

// sourceFeeds returns the encoder's inputs "src" and "src_keep".
func (a *arranged) sourceFeeds(dtype tensor.Dtype) map[string]*tensor.Dense {
	return map[string]*tensor.Dense{
		"src":      graph.FromInts(a.src, a.s*a.b),
		"src_keep": graph.FromFloat64s(dtype, a.srcKeep, a.s*a.b, 1),
	}
}

// vocabID maps an extended id to the id the embeddings see.
func (m *Model) vocabID(id int) int {
	if id >= m.Config.Vocab {
		return m.Config.Tokens.Unk
	}
	return id
}

// arrange pads srcs to s tokens and tgts (nil for none) to t-1 tokens plus EOS,
// in batch rows.
func (m *Model) arrange(srcs, tgts [][]int, batch, s, t int) (*arranged, error) {
	if len(srcs) == 0 || len(srcs) > batch {
		return nil, errors.Errorf("%d sources for a batch of %d", len(srcs), batch)
	}
	if tgts != nil && len(tgts) != len(srcs) {
		return nil, errors.Errorf("%d sources but %d targets", len(srcs), len(tgts))
	}
	tok := m.Config.Tokens
	a := &arranged{b: batch, s: s, t: t, src: make([]int, s*batch), srcKeep: make([]float64, s*batch),
		srcAdd: make([]float64, batch*s), srcExt: make([]int, batch*s)}
	for i := range a.src {
		a.src[i] = tok.Pad
	}
	for i := range a.srcExt {
		a.srcExt[i] = tok.Pad
		a.srcAdd[i] = attention.MaskValue
	}
	for i, x := range srcs {
		if len(x) > s {
			return nil, errors.Errorf("source %d has %d tokens; at most %d fit", i, len(x), s)
		}
		for j, id := range x {
			if id < 0 {
				return nil, errors.Errorf("source %d: negative id %d at position %d", i, id, j)
			}
			a.src[j*batch+i] = m.vocabID(id)
			a.srcKeep[j*batch+i] = 1
			a.srcAdd[i*s+j] = 0
			a.srcExt[i*s+j] = id
		}
	}
	if tgts == nil {
		return a, nil
	}
	a.tgtIn, a.tgtOut, a.tgtKeep = make([]int, batch*t), make([]int, batch*t), make([]float64, batch*t)
	for i := range a.tgtIn {
		a.tgtIn[i], a.tgtOut[i] = tok.Pad, tok.Pad
	}
	for i, y := range tgts {
		if len(y)+1 > t {
			return nil, errors.Errorf("target %d has %d tokens; at most %d fit with EOS", i, len(y), t-1)
		}
		inSrc := map[int]bool{}
		for _, id := range srcs[i] {
			inSrc[id] = true
		}
		row := i * t
		a.tgtIn[row] = tok.BOS
		for j, id := range y {
			if id < 0 {
				return nil, errors.Errorf("target %d: negative id %d at position %d", i, id, j)
			}
			out := id
			if id >= m.Config.Vocab && (!m.Config.Copy || !inSrc[id]) {
				out = tok.Unk
			}
			a.tgtOut[row+j] = out
			a.tgtIn[row+j+1] = m.vocabID(id)
		}
		a.tgtOut[row+len(y)] = tok.EOS
		for j := 0; j <= len(y); j++ {
			a.tgtKeep[row+j] = 1
		}
		a.tokens += len(y) + 1
	}
	return a, nil
}
