package attention

import (
	"math"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"

	"github.com/triadml/triad/graph"
)

// ScaledDotProduct is the attention of Vaswani et al. (2017), eq. 1:
//
//	weights = softmax(Q K^T / sqrt(d_k) + mask),  out = weights V
//
// for q (N, Tq, d_k), k (N, Tk, d_k) and v (N, Tk, d_v), with the softmax over the
// keys. mask is nil or an additive (N, Tq, Tk) float node (0 to keep, MaskValue to
// exclude): an excluded key gets exactly zero weight, and a query whose keys are
// all excluded gets all-zero weights and a zero output (not NaN). dropout, in a
// training graph, drops attention weights (inverted dropout). It returns the output
// (N, Tq, d_v) and the weights (N, Tq, Tk).
func ScaledDotProduct(b *graph.Builder, q, k, v, mask *G.Node, dropout float64) (out, weights *G.Node) {
	if q == nil || k == nil || v == nil {
		return b.Fail(errors.New("attention: nil query, key or value")), nil
	}
	if q.Dims() != 3 || k.Dims() != 3 || v.Dims() != 3 || k.Shape()[1] != v.Shape()[1] {
		return b.Fail(errors.Errorf("attention: query %v, key %v, value %v; want (N,Tq,d), (N,Tk,d), (N,Tk,dv)", q.Shape(), k.Shape(), v.Shape())), nil
	}
	scores := b.Check(graph.Apply(bmmKernel{transB: true}, q, k))
	if scores == nil {
		return nil, nil
	}
	scores = graph.Scale(b, scores, 1/math.Sqrt(float64(q.Shape()[2])))
	if mask != nil && !mask.Shape().Eq(scores.Shape()) {
		return b.Fail(errors.Errorf("attention: mask %v, scores %v", mask.Shape(), scores.Shape())), nil
	}
	weights = b.Check(graph.SoftMax(scores, -1, mask))
	dropped := graph.Dropout(b, weights, dropout)
	if dropped == nil {
		return nil, nil
	}
	out = b.Check(graph.Apply(bmmKernel{}, dropped, v))
	return out, weights
}
