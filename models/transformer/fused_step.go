package transformer

import (
	"fmt"
	"math"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/models/attention"
)

// stepCaches are the caches a cached decoding step reads and writes, bound by
// the Decoder to the state it steps before each run: per decoder layer, the
// keys and values of the positions fed so far (self) and the keys and values
// of the memory (cross, (B, S, 2E): K then V of each source position, as the
// memory's projections of a fused cross-attention), whose row crossRows[r]
// decoding row r attends to (beam search's hypotheses of one sentence share
// their sentence's memory).
type stepCaches struct {
	self      []*attention.KVCache
	cross     []*tensor.Dense
	crossRows []int
}

// stepAttnKernel is an attention sub-layer of a decoder layer in incremental
// decoding, one node like attnSubKernel (the same residual, norm and
// attention arithmetic), for one new position per row. Self-attention
// appends the position's key and value to the layer's attention.KVCache and
// attends over the columns filled so far (attention.AttendCached);
// cross-attention attends over the memory's keys and values, projected once
// per batch. Inputs: x (B, 1, E), in_proj_weight (3E, E), in_proj_bias (3E),
// out_proj.weight (E, E), out_proj.bias (E), norm weight (E) and bias (E);
// then, self-attention, the new position's column (a (1) tensor.Int), or,
// cross-attention, the additive mask (B, 1, S). Nothing is differentiated.
type stepAttnKernel struct {
	graph.NoGradient
	residualNorm
	heads, layer int
	cross        bool
	caches       *stepCaches
}

func newStepAttnKernel(heads, layer int, cross, preLN bool, eps float64, caches *stepCaches) stepAttnKernel {
	return stepAttnKernel{residualNorm: residualNorm{preLN: preLN, eps: eps, st: &graph.Runs{}},
		heads: heads, layer: layer, cross: cross, caches: caches}
}

// Key names the node itself (its state's address): two nodes are never merged.
func (k stepAttnKernel) Key() string {
	return fmt.Sprintf("transformer.step_attn(h=%d,layer=%d,cross=%t,preln=%t,eps=%g)@%p", k.heads, k.layer, k.cross, k.preLN, k.eps, k.st)
}

func (k stepAttnKernel) OutputShape(in []tensor.Shape) (tensor.Shape, error) {
	if len(in) != 8 {
		return nil, errors.Errorf("decoding step attention: %d inputs, want 8", len(in))
	}
	x := in[0]
	if x.Dims() != 3 || x[1] != 1 || k.heads <= 0 || x[2]%k.heads != 0 {
		return nil, errors.Errorf("decoding step attention: input %v, want (B, 1, E) with E a multiple of %d heads", x, k.heads)
	}
	e := x[2]
	want := []tensor.Shape{{3 * e, e}, {3 * e}, {e, e}, {e}, {e}, {e}}
	for i, w := range want {
		if !in[1+i].Eq(w) {
			return nil, errors.Errorf("decoding step attention: parameter %d has shape %v, want %v", i, in[1+i], w)
		}
	}
	if k.cross {
		if in[7].Dims() != 3 || in[7][0] != x[0] || in[7][1] != 1 {
			return nil, errors.Errorf("decoding step attention: mask %v, want (%d, 1, S)", in[7], x[0])
		}
	} else if in[7].TotalSize() != 1 {
		return nil, errors.Errorf("decoding step attention: column %v, want (1)", in[7])
	}
	return x.Clone(), nil
}

func (stepAttnKernel) Differentiable(n int) []bool { return make([]bool, n) }

// Overwrites implements graph.Overwriter: the output is written whole.
func (stepAttnKernel) Overwrites(int) bool { return true }

func (k stepAttnKernel) ForwardInto(out *tensor.Dense, in []*tensor.Dense) error {
	k.st.Forward()
	return graph.Dispatch(out.Dtype(),
		func() error { return stepAttnForward(k, graph.Slice[float32](out), in) },
		func() error { return stepAttnForward(k, graph.Slice[float64](out), in) })
}

func stepAttnForward[T graph.Float](k stepAttnKernel, out []T, in []*tensor.Dense) error {
	rows, e := in[0].Shape()[0], in[0].Shape()[2]
	x := floats[T](in, 0)
	win, bin, wo, bo, lw, lb := floats[T](in, 1), floats[T](in, 2), floats[T](in, 3), floats[T](in, 4), floats[T](in, 5), floats[T](in, 6)
	bf := graph.Buffers[attnBufs[T]](k.st)
	bf.o, bf.y = graph.Scratch(k.st, bf.o, rows*e), graph.Scratch(k.st, bf.y, rows*e)
	src := bf.branchInput(k.residualNorm, x, lw, lb, rows, e)
	if k.cross {
		if k.layer >= len(k.caches.cross) {
			return errors.New("decoding step attention: no memory bound")
		}
		kv, kvRows := k.caches.cross[k.layer], k.caches.crossRows
		s := kv.Shape()
		if s.Dims() != 3 || s[2] != 2*e || s[1] != in[7].Shape()[2] || len(kvRows) != rows {
			return errors.Errorf("decoding step attention: memory keys and values %v (%d rows mapped) for %d rows of width %d and mask %v", s, len(kvRows), rows, e, in[7].Shape())
		}
		for _, r := range kvRows {
			if r < 0 || r >= s[0] {
				return errors.Errorf("decoding step attention: memory row %d of %d", r, s[0])
			}
		}
		tk := s[1]
		d := attnDims{b: rows, tq: 1, tk: tk, e: e, h: k.heads, d: e / k.heads, ldq: e, ldkv: 2 * e, vOff: e,
			nq: rows, nk: s[0] * tk, cross: true, preLN: k.preLN, masked: true, kvRows: kvRows}
		d.scale = 1 / math.Sqrt(float64(d.d))
		bf.q, bf.kv = graph.Scratch(k.st, bf.q, rows*e), graph.Slice[T](kv)
		bf.p = graph.Scratch(k.st, bf.p, rows*k.heads*tk)
		bf.pd = bf.p
		project(bf.q, e, src, win, bin, rows, e, 0, e)
		attnHeadsForward(d, bf, floats[T](in, 7), nil)
	} else {
		if k.layer >= len(k.caches.self) {
			return errors.New("decoding step attention: no cache bound")
		}
		bf.q = graph.Scratch(k.st, bf.q, rows*3*e)
		project(bf.q, 3*e, src, win, bin, rows, e, 0, 3*e)
		col := graph.Ints(graph.Contiguous(in[7]))[0]
		if err := attention.AttendCached(k.caches.self[k.layer], 1, col, nil, bf.q, bf.o); err != nil {
			return errors.Wrap(err, "decoding step attention")
		}
	}
	project(bf.y, e, bf.o, wo, bo, rows, e, 0, e)
	bf.output(k.residualNorm, out, x, bf.y, nil, lw, lb, e)
	return nil
}

var _ graph.Kernel = stepAttnKernel{}

// crossKV writes into kv (B*S, 2E) the keys and values of cross-attention of
// the decoder layer l over memory (B*S, E) rows: memory W_in[E:3E]^T +
// b_in[E:3E], as the fused cross-attention sub-layer projects them.
func crossKV[T graph.Float](l *DecoderLayer, kv, memory []T, rows, e int) {
	win, bin := graph.Slice[T](l.CrossAttn.InWeight.Value), graph.Slice[T](l.CrossAttn.InBias.Value)
	project(kv, 2*e, memory, win, bin, rows, e, e, 3*e)
}

// memoryKV returns, per decoder layer, the keys and values of cross-attention
// over memory (B, S, Dim): (B, S, 2 Dim) each.
func (m *Model) memoryKV(memory *tensor.Dense) ([]*tensor.Dense, error) {
	s := memory.Shape()
	rows, e := s[0]*s[1], s[2]
	out := make([]*tensor.Dense, len(m.Decoder))
	for i, l := range m.Decoder {
		kv := graph.NewDense(memory.Dtype(), s[0], s[1], 2*e)
		if err := graph.Dispatch(memory.Dtype(),
			func() { crossKV(l, graph.Slice[float32](kv), graph.RowMajor[float32](memory), rows, e) },
			func() { crossKV(l, graph.Slice[float64](kv), graph.RowMajor[float64](memory), rows, e) }); err != nil {
			return nil, err
		}
		out[i] = kv
	}
	return out, nil
}

// decodeStep builds one step of incremental decoding: tok (B, 1) ids at
// position col (a (1) tensor.Int) through every decoder layer over the caches
// (their fused sub-layers whatever Config.Unfused says: the same function),
// given the source's keep mask srcKeep (B, S). It returns the decoder's
// output (B, 1, Dim) and the head-averaged memory-attention weights of the
// last layer (B, 1, S).
func (m *Model) decodeStep(b *graph.Builder, tok, col, srcKeep *G.Node, caches *stepCaches) (x, weights *G.Node) {
	if tok == nil || col == nil || srcKeep == nil {
		return b.Fail(errors.New("transformer: nil decoding step input")), nil
	}
	x = m.embedAt(b, tok, col)
	memMask := attention.AttentionMask(b, srcKeep, 1, false)
	var cross *G.Node
	for i, l := range m.Decoder {
		x = stepAttention(b, l.Config, l.SelfAttn, l.Norm1, x, col, newStepAttnKernel(l.SelfAttn.Heads, i, false, l.Config.PreLN, l.Norm1.Eps, caches))
		k := newStepAttnKernel(l.CrossAttn.Heads, i, true, l.Config.PreLN, l.Norm2.Eps, caches)
		x = stepAttention(b, l.Config, l.CrossAttn, l.Norm2, x, memMask, k)
		if x != nil {
			cross = b.Check(graph.Apply(newAttnWeights(l.CrossAttn.Heads, srcKeep.Shape()[1], k.st), x))
		}
		x = fusedFeedForward(b, l.Config, l.FF, l.Norm3, x)
	}
	x = m.DecNorm.Forward(b, x)
	if x == nil || b.Err() != nil {
		return nil, nil
	}
	return x, attention.MeanHeads(b, cross, m.Config.Heads)
}

// stepAttention applies the step attention node k to x with the parameters of
// mh and norm and its last input extra (the column or the mask).
func stepAttention(b *graph.Builder, cfg LayerConfig, mh *attention.MultiHead, norm *graph.LayerNorm, x, extra *G.Node, k stepAttnKernel) *G.Node {
	if x == nil || extra == nil || b.Err() != nil {
		return nil
	}
	return b.Check(graph.Apply(k, x, b.Param(mh.InWeight), b.Param(mh.InBias), b.Param(mh.OutWeight), b.Param(mh.OutBias),
		b.Param(norm.Weight), b.Param(norm.Bias), extra))
}

// embedAt returns pos(sqrt(Dim) E[tok]) for tok (B, T) at positions col,
// col+1, ... (col a (1) tensor.Int), in one node; no dropout.
func (m *Model) embedAt(b *graph.Builder, tok, col *G.Node) *G.Node {
	e := m.TgtEmbed
	in := []*G.Node{b.Param(e.Weight), tok}
	learned := false
	switch p := m.TgtPos.(type) {
	case SinusoidalPositions:
	case *LearnedPositions:
		learned = true
		in = append(in, b.Param(p.Weight))
	default:
		return b.Fail(errors.Errorf("transformer: incremental decoding with positions of type %T", m.TgtPos))
	}
	if tok.Dims() != 2 || tok.Dtype() != tensor.Int {
		return b.Fail(errors.Errorf("transformer: ids %v of %v, want (B, T) of int", tok.Shape(), tok.Dtype()))
	}
	k := newEmbedKernel(math.Sqrt(float64(m.Config.Dim)), learned, false)
	k.offset = true
	return b.Check(graph.Apply(k, append(in, col)...))
}

// incremental reports whether the model's positions allow incremental
// decoding (the sinusoidal encoding or a learned table).
func (m *Model) incremental() bool {
	switch m.TgtPos.(type) {
	case SinusoidalPositions, *LearnedPositions:
		return true
	}
	return false
}
