package classify

import (
	"strconv"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
)

// SelfAttentivePool is the single-hop self-attentive pooling of Lin et al. (2017),
// eq. 5-6 with r = 1:
//
//	a = softmax_t(w_2^T tanh(W_1 h_t) + m_t),   pooled = sum_t a_t h_t
//
// Parameters: w1.weight (Dim, In) and w2.weight (1, Dim), without biases as in the
// paper, initialised as torch.nn.Linear's weights (uniform in +-1/sqrt(fan_in)).
type SelfAttentivePool struct {
	W1, W2 *graph.Linear
	In     int // width of the states h_t
	Dim    int // width d_a of the attention's hidden layer
}

// NewSelfAttentivePool creates name.w1.weight and name.w2.weight in s for states
// of width in and an attention of width dim.
func NewSelfAttentivePool(s *graph.Store, name string, in, dim int) (*SelfAttentivePool, error) {
	if in <= 0 || dim <= 0 {
		return nil, errors.Errorf("self-attentive pooling %q: widths %d and %d must be positive", name, in, dim)
	}
	w1, err := graph.NewLinear(s, name+".w1", in, dim, false)
	if err != nil {
		return nil, err
	}
	w2, err := graph.NewLinear(s, name+".w2", dim, 1, false)
	if err != nil {
		return nil, err
	}
	return &SelfAttentivePool{W1: w1, W2: w2, In: in, Dim: dim}, nil
}

// Forward pools h (B, T, In) into (B, In). mask is nil or an additive (B, T) float
// node, 0 on real positions and at most graph.MaskThreshold (e.g. -1e9) on
// padding, which then gets a weight of exactly zero. It returns the pooled vectors
// and the weights a (B, T); a row whose positions are all masked pools to zero.
func (p *SelfAttentivePool) Forward(b *graph.Builder, h, mask *G.Node) (pooled, weights *G.Node) {
	if h == nil {
		return nil, nil
	}
	s := h.Shape()
	if s.Dims() != 3 || s[2] != p.In {
		return b.Fail(errors.Errorf("self-attentive pooling: states %v, want (B, T, %d)", s, p.In)), nil
	}
	if mask != nil && !mask.Shape().Eq(tensor.Shape{s[0], s[1]}) {
		return b.Fail(errors.Errorf("self-attentive pooling: mask %v, want (%d, %d)", mask.Shape(), s[0], s[1])), nil
	}
	u := p.W1.Forward(b, h)
	if u == nil {
		return nil, nil
	}
	e := p.W2.Forward(b, b.Check(G.Tanh(u))) // (B, T, 1)
	if e == nil {
		return nil, nil
	}
	e = b.Check(G.Reshape(e, tensor.Shape{s[0], s[1]}))
	if e == nil {
		return nil, nil
	}
	weights = b.Check(graph.SoftMax(e, 1, mask))
	return WeightedSum(b, weights, h), weights
}

// WeightedSum returns out_bd = sum_t w_bt x_btd for weights w (B, T) and x (B, T,
// D...), shape (B, D...): attention pooling, a masked mean (w = 1/length on the
// real positions) or the selection of one position (w one-hot). Both inputs are
// differentiated.
func WeightedSum(b *graph.Builder, w, x *G.Node) *G.Node {
	if w == nil || x == nil {
		return nil
	}
	return b.Check(graph.Apply(wsumKernel{}, w, x))
}

// wsumKernel computes out_bd = sum_t w_bt x_btd (d runs over every trailing
// element); backward: dw_bt = sum_d g_bd x_btd, dx_btd = w_bt g_bd.
type wsumKernel struct{}

func (wsumKernel) Key() string { return "classify.wsum" }

func (wsumKernel) OutputShape(in []tensor.Shape) (tensor.Shape, error) {
	if len(in) != 2 {
		return nil, errors.Errorf("weighted sum: %d inputs, want 2", len(in))
	}
	w, x := in[0], in[1]
	if w.Dims() != 2 || x.Dims() < 3 || w[0] != x[0] || w[1] != x[1] {
		return nil, errors.Errorf("weighted sum: weights %v and values %v, want (B, T) and (B, T, D...)", w, x)
	}
	return append(tensor.Shape{x[0]}, x[2:]...), nil
}

func (wsumKernel) Differentiable(int) []bool { return []bool{true, true} }

func (wsumKernel) ForwardInto(out *tensor.Dense, in []*tensor.Dense) error {
	bt, d := dims(in[1].Shape())
	return graph.Dispatch(out.Dtype(),
		func() {
			wsum(graph.Slice[float32](out), graph.RowMajor[float32](in[0]), graph.RowMajor[float32](in[1]), bt[0], bt[1], d)
		},
		func() {
			wsum(graph.Slice[float64](out), graph.RowMajor[float64](in[0]), graph.RowMajor[float64](in[1]), bt[0], bt[1], d)
		})
}

func (wsumKernel) BackwardInto(grad *tensor.Dense, wrt int, in []*tensor.Dense, _, g *tensor.Dense) error {
	bt, d := dims(in[1].Shape())
	return graph.Dispatch(grad.Dtype(),
		func() {
			wsumGrad(wrt, graph.Slice[float32](grad), graph.RowMajor[float32](in[0]), graph.RowMajor[float32](in[1]), graph.RowMajor[float32](g), bt[0], bt[1], d)
		},
		func() {
			wsumGrad(wrt, graph.Slice[float64](grad), graph.RowMajor[float64](in[0]), graph.RowMajor[float64](in[1]), graph.RowMajor[float64](g), bt[0], bt[1], d)
		})
}

// Overwrites implements graph.Overwriter: the sum is accumulated over the
// positions; both gradients are written whole.
func (wsumKernel) Overwrites(wrt int) bool { return wrt >= 0 }

// dims returns (B, T) and the number of trailing elements per position of x.
func dims(x tensor.Shape) ([2]int, int) {
	return [2]int{x[0], x[1]}, x.TotalSize() / (x[0] * x[1])
}

func wsum[T graph.Float](out, w, x []T, nb, nt, d int) {
	for b := 0; b < nb; b++ {
		o := out[b*d : (b+1)*d]
		for t := 0; t < nt; t++ {
			a := w[b*nt+t]
			if a == 0 {
				continue
			}
			row := x[(b*nt+t)*d : (b*nt+t+1)*d]
			for i, v := range row {
				o[i] += a * v
			}
		}
	}
}

func wsumGrad[T graph.Float](wrt int, grad, w, x, g []T, nb, nt, d int) {
	for b := 0; b < nb; b++ {
		gb := g[b*d : (b+1)*d]
		for t := 0; t < nt; t++ {
			i := b*nt + t
			if wrt == 0 {
				var s T
				for j, v := range x[i*d : (i+1)*d] {
					s += gb[j] * v
				}
				grad[i] = s
				continue
			}
			a := w[i]
			row := grad[i*d : (i+1)*d]
			for j := range row {
				row[j] = a * gb[j]
			}
		}
	}
}

// stepKernel picks step t of a time-major (T, B, D...) tensor: (B, D...). Its
// gradient is zero but for step t.
type stepKernel struct{ t int }

func (k stepKernel) Key() string { return "classify.step(" + strconv.Itoa(k.t) + ")" }

func (k stepKernel) OutputShape(in []tensor.Shape) (tensor.Shape, error) {
	if len(in) != 1 || in[0].Dims() < 2 || k.t < 0 || k.t >= in[0][0] {
		return nil, errors.Errorf("step %d of %v: want a (T, B, ...) input with T > %d", k.t, in, k.t)
	}
	return in[0][1:].Clone(), nil
}

func (stepKernel) Differentiable(int) []bool { return []bool{true} }

func (k stepKernel) ForwardInto(out *tensor.Dense, in []*tensor.Dense) error {
	s := in[0].Shape()
	n := s.TotalSize() / s[0]
	return graph.Dispatch(out.Dtype(),
		func() { copy(graph.Slice[float32](out), graph.RowMajor[float32](in[0])[k.t*n:(k.t+1)*n]) },
		func() { copy(graph.Slice[float64](out), graph.RowMajor[float64](in[0])[k.t*n:(k.t+1)*n]) })
}

func (k stepKernel) BackwardInto(grad *tensor.Dense, _ int, in []*tensor.Dense, _, g *tensor.Dense) error {
	s := in[0].Shape()
	n := s.TotalSize() / s[0]
	return graph.Dispatch(grad.Dtype(),
		func() { copy(graph.Slice[float32](grad)[k.t*n:(k.t+1)*n], graph.RowMajor[float32](g)) },
		func() { copy(graph.Slice[float64](grad)[k.t*n:(k.t+1)*n], graph.RowMajor[float64](g)) })
}

// Overwrites implements graph.Overwriter: the output is copied whole; the
// gradient is zero but at step t.
func (stepKernel) Overwrites(wrt int) bool { return wrt == -1 }
