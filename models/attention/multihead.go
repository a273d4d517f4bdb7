package attention

import (
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
)

// MultiHead is torch.nn.MultiheadAttention (Vaswani et al. 2017, sec. 3.2.2) with
// batch-first inputs and equal query, key and value widths:
//
//	head_i = Attention(Q W_q,i + b_q,i, K W_k,i + b_k,i, V W_v,i + b_v,i)
//	out    = Concat(head_1..head_h) W_o^T + b_o
//
// Parameters, as PyTorch names them: in_proj_weight (3E, E) holding W_q, W_k, W_v
// stacked, in_proj_bias (3E), out_proj.weight (E, E), out_proj.bias (E).
type MultiHead struct {
	InWeight, InBias, OutWeight, OutBias *graph.Param
	Dim, Heads                           int
	// Dropout is the probability of dropping an attention weight in training.
	Dropout float64
}

// NewMultiHead creates the parameters under name in s, initialised as PyTorch
// does: in_proj_weight Xavier-uniform, biases 0, out_proj.weight uniform in
// +-1/sqrt(E).
func NewMultiHead(s *graph.Store, name string, dim, heads int, dropout float64) (*MultiHead, error) {
	if dim <= 0 || heads <= 0 || dim%heads != 0 {
		return nil, errors.Errorf("multi-head attention %q: width %d is not a positive multiple of %d heads", name, dim, heads)
	}
	if dropout < 0 || dropout >= 1 {
		return nil, errors.Errorf("multi-head attention %q: dropout %g outside [0, 1)", name, dropout)
	}
	s = s.Sub(name)
	m := &MultiHead{Dim: dim, Heads: heads, Dropout: dropout}
	var err error
	if m.InWeight, err = s.New("in_proj_weight", []int{3 * dim, dim}, graph.XavierUniform(1)); err != nil {
		return nil, err
	}
	if m.InBias, err = s.New("in_proj_bias", []int{3 * dim}, graph.Zeros()); err != nil {
		return nil, err
	}
	if m.OutWeight, err = s.New("out_proj.weight", []int{dim, dim}, graph.UniformFan(dim)); err != nil {
		return nil, err
	}
	if m.OutBias, err = s.New("out_proj.bias", []int{dim}, graph.Zeros()); err != nil {
		return nil, err
	}
	return m, nil
}

// Forward attends from query (B, Tq, E) over key and value (B, Tk, E). mask is nil
// or an additive (B, Tq, Tk) float node (AttentionMask, PaddingMask, CausalMask),
// shared by all heads. It returns the output (B, Tq, E) and the attention weights
// of every head (B*Heads, Tq, Tk), head-major within each batch row (MeanHeads
// averages them as PyTorch's need_weights does).
func (m *MultiHead) Forward(b *graph.Builder, query, key, value, mask *G.Node) (out, weights *G.Node) {
	if query == nil || key == nil || value == nil {
		return b.Fail(errors.New("multi-head attention: nil input")), nil
	}
	for _, x := range []*G.Node{query, key, value} {
		if x.Dims() != 3 || x.Shape()[2] != m.Dim {
			return b.Fail(errors.Errorf("multi-head attention: input %v, want (B, T, %d)", x.Shape(), m.Dim)), nil
		}
	}
	w, bias := b.Param(m.InWeight), b.Param(m.InBias)
	e := m.Dim
	proj := func(x *G.Node, block int) *G.Node {
		y := b.Check(graph.Apply(affineRowsKernel{lo: block * e, hi: (block + 1) * e}, x, w, bias))
		if y == nil {
			return nil
		}
		return b.Check(graph.Apply(headsKernel{h: m.Heads}, y))
	}
	q, k, v := proj(query, 0), proj(key, 1), proj(value, 2)
	if b.Err() != nil {
		return nil, nil
	}
	var hm *G.Node
	if mask != nil {
		want := tensor.Shape{query.Shape()[0], query.Shape()[1], key.Shape()[1]}
		if !mask.Shape().Eq(want) {
			return b.Fail(errors.Errorf("multi-head attention: mask %v, want %v", mask.Shape(), want)), nil
		}
		hm = b.Check(graph.Apply(repeatMaskKernel{h: m.Heads}, mask))
	}
	o, weights := ScaledDotProduct(b, q, k, v, hm, m.Dropout)
	if o == nil {
		return nil, nil
	}
	merged := b.Check(graph.Apply(headsKernel{h: m.Heads, merge: true}, o))
	if merged == nil {
		return nil, nil
	}
	return b.Check(graph.Affine(merged, b.Param(m.OutWeight), b.Param(m.OutBias))), weights
}

// MeanHeads averages per-head weights (B*heads, Tq, Tk) into (B, Tq, Tk).
func MeanHeads(b *graph.Builder, weights *G.Node, heads int) *G.Node {
	if weights == nil {
		return nil
	}
	return b.Check(graph.Apply(meanHeadsKernel{h: heads}, weights))
}
