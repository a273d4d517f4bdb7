package attention

import (
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"

	"github.com/triadml/triad/graph"
)

// Recurrent is an attention for recurrent decoders: a query (B, Hq) (the decoder
// state) attends over a memory (B, S, Hm) (the encoder outputs) with a padding
// mask. Keys computes the memory's side of the score once per source sentence, so
// that a one-step decoding graph takes the keys as an input and does not recompute
// them at every step.
type Recurrent interface {
	// Keys returns the keys of memory (B, S, Hm) as the score needs them.
	Keys(b *graph.Builder, memory *G.Node) *G.Node
	// Attend returns the context (B, Hm) = sum_s weights_bs memory_bs and the
	// weights (B, S) = softmax_s(score(query_b, keys_bs) + mask_bs). mask is nil or
	// an additive (B, S) float node (0 for real positions, MaskValue for padding):
	// a padding position gets exactly zero weight.
	Attend(b *graph.Builder, query, keys, memory, mask *G.Node) (context, weights *G.Node)
}

// Additive is the attention of Bahdanau, Cho and Bengio (2015), appendix A.1.2:
//
//	e_bs = v^T tanh(W_q q_b + W_k m_bs + b_k)
//
// Parameters: query.weight (A, Hq), key.weight (A, Hm), key.bias (A), v.weight (1, A).
type Additive struct {
	Query, Key *graph.Linear
	V          *graph.Param
	Dim        int
}

// NewAdditive creates an additive attention of width dim (A) under name in s, for
// queries of width query and a memory of width memory; weights are uniform in
// +-1/sqrt(fan_in) as torch.nn.Linear's.
func NewAdditive(s *graph.Store, name string, query, memory, dim int) (*Additive, error) {
	if query <= 0 || memory <= 0 || dim <= 0 {
		return nil, errors.Errorf("additive attention %q: invalid sizes query %d memory %d width %d", name, query, memory, dim)
	}
	s = s.Sub(name)
	q, err := graph.NewLinear(s, "query", query, dim, false)
	if err != nil {
		return nil, err
	}
	k, err := graph.NewLinear(s, "key", memory, dim, true)
	if err != nil {
		return nil, err
	}
	v, err := s.New("v.weight", []int{1, dim}, graph.UniformFan(dim))
	if err != nil {
		return nil, err
	}
	return &Additive{Query: q, Key: k, V: v, Dim: dim}, nil
}

// Keys returns W_k m + b_k (B, S, A).
func (a *Additive) Keys(b *graph.Builder, memory *G.Node) *G.Node {
	if memory == nil {
		return nil
	}
	if memory.Dims() != 3 {
		return b.Fail(errors.Errorf("additive attention: memory %v, want (B, S, H)", memory.Shape()))
	}
	return a.Key.Forward(b, memory)
}

// Attend implements Recurrent.
func (a *Additive) Attend(b *graph.Builder, query, keys, memory, mask *G.Node) (*G.Node, *G.Node) {
	if query == nil || keys == nil || memory == nil {
		return nil, nil
	}
	qp := a.Query.Forward(b, query)
	if qp == nil {
		return nil, nil
	}
	t := b.Check(graph.Apply(addTanhKernel{}, keys, qp))
	if t == nil {
		return nil, nil
	}
	scores := b.Check(graph.Apply(vecScoreKernel{}, t, b.Param(a.V)))
	return attendScores(b, scores, memory, mask)
}

// LuongScore names a multiplicative score of Luong, Pham and Manning (2015), sec. 3.1.
type LuongScore string

// The multiplicative scores.
const (
	// Dot is score(q, m) = q . m (needs equal widths).
	Dot LuongScore = "dot"
	// General is score(q, m) = q^T W_a m with W_a (Hq, Hm).
	General LuongScore = "general"
)

// Multiplicative is Luong's dot or general attention. General has one parameter,
// weight (Hq, Hm).
type Multiplicative struct {
	Score  LuongScore
	Weight *graph.Param // General only
}

// NewMultiplicative creates a dot or general attention under name in s, for
// queries of width query and a memory of width memory.
func NewMultiplicative(s *graph.Store, name string, score LuongScore, query, memory int) (*Multiplicative, error) {
	switch score {
	case Dot:
		if query != memory {
			return nil, errors.Errorf("dot attention %q: query width %d differs from memory width %d", name, query, memory)
		}
		return &Multiplicative{Score: Dot}, nil
	case General:
		if query <= 0 || memory <= 0 {
			return nil, errors.Errorf("general attention %q: invalid sizes query %d memory %d", name, query, memory)
		}
		w, err := s.Sub(name).New("weight", []int{query, memory}, graph.UniformFan(memory))
		if err != nil {
			return nil, err
		}
		return &Multiplicative{Score: General, Weight: w}, nil
	}
	return nil, errors.Errorf("attention %q: unknown score %q (dot, general)", name, score)
}

// Keys returns m (dot) or m W_a^T (general), (B, S, Hq), so that the score is
// q . key.
func (m *Multiplicative) Keys(b *graph.Builder, memory *G.Node) *G.Node {
	if memory == nil {
		return nil
	}
	if memory.Dims() != 3 {
		return b.Fail(errors.Errorf("%s attention: memory %v, want (B, S, H)", m.Score, memory.Shape()))
	}
	if m.Score == Dot {
		return memory
	}
	return b.Check(graph.Affine(memory, b.Param(m.Weight), nil))
}

// Attend implements Recurrent.
func (m *Multiplicative) Attend(b *graph.Builder, query, keys, memory, mask *G.Node) (*G.Node, *G.Node) {
	if query == nil || keys == nil || memory == nil {
		return nil, nil
	}
	scores := b.Check(graph.Apply(dotKernel, query, keys))
	return attendScores(b, scores, memory, mask)
}

// attendScores normalises scores (B, S) with the mask and forms the context.
func attendScores(b *graph.Builder, scores, memory, mask *G.Node) (*G.Node, *G.Node) {
	if scores == nil {
		return nil, nil
	}
	if mask != nil && !mask.Shape().Eq(scores.Shape()) {
		return b.Fail(errors.Errorf("attention: mask %v, scores %v", mask.Shape(), scores.Shape())), nil
	}
	w := b.Check(graph.SoftMax(scores, 1, mask))
	if w == nil {
		return nil, nil
	}
	return b.Check(graph.Apply(contextKernel, w, memory)), w
}

// NewRecurrent returns the attention a config names: "bahdanau" (or "additive"),
// "dot" or "general"; dim is the additive attention's width.
func NewRecurrent(s *graph.Store, name, kind string, query, memory, dim int) (Recurrent, error) {
	switch kind {
	case "bahdanau", "additive":
		return NewAdditive(s, name, query, memory, dim)
	case "dot":
		return NewMultiplicative(s, name, Dot, query, memory)
	case "general":
		return NewMultiplicative(s, name, General, query, memory)
	}
	return nil, errors.Errorf("unknown attention %q (bahdanau, dot, general)", kind)
}
