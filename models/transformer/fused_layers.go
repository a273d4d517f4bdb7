package transformer

import (
	"math"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/models/attention"
)

// The fused form of the Transformer (the default; LayerConfig.Unfused and
// Config.Unfused select the reference form built from MultiHead,
// graph.LayerNorm, graph.Dropout and losses.SequenceCrossEntropy): each
// sub-layer is one node (fused_attention.go, fused_ffn.go), the input layer is
// one node and the output layer with its loss another (fused_embed.go,
// fused_loss.go). Both forms compute the same function of the same parameters
// and, in a training graph, draw the same dropout masks in the same order from
// the program's noise stream (fused_test.go compares them in float64).

// dropoutMask declares a dropout mask input of the given shape in a training
// graph with p > 0, in the place graph.Dropout would; otherwise it returns nil.
func dropoutMask(b *graph.Builder, p float64, shape ...int) *G.Node {
	if p == 0 || !b.Training() {
		return nil
	}
	if p < 0 || p >= 1 {
		return b.Fail(errors.Errorf("dropout: probability %g outside [0, 1)", p))
	}
	return b.Random(b.UniqueName("dropout"), graph.BernoulliMask(p), shape...)
}

// appendDropout appends to in the dropout mask of dropoutMask(b, p, shape...),
// when there is one, and says whether there was.
func appendDropout(b *graph.Builder, in []*G.Node, p float64, shape ...int) ([]*G.Node, bool) {
	mask := dropoutMask(b, p, shape...)
	if mask == nil {
		return in, false
	}
	return append(in, mask), true
}

// fusedAttention builds an attention sub-layer (self-attention when memory is
// nil) and returns its output and the node of its attention weights.
func fusedAttention(b *graph.Builder, cfg LayerConfig, mh *attention.MultiHead, norm *graph.LayerNorm, x, memory, mask *G.Node) (out, weights *G.Node) {
	if x == nil || b.Err() != nil {
		return nil, nil
	}
	kv := x
	if memory != nil {
		kv = memory
	}
	if x.Dims() != 3 || kv.Dims() != 3 {
		return b.Fail(errors.Errorf("multi-head attention: query %v, memory %v, want (B, T, E)", x.Shape(), kv.Shape())), nil
	}
	bs, tq, tk := x.Shape()[0], x.Shape()[1], kv.Shape()[1]
	in := []*G.Node{x}
	if memory != nil {
		in = append(in, memory)
	}
	in = append(in, b.Param(mh.InWeight), b.Param(mh.InBias), b.Param(mh.OutWeight), b.Param(mh.OutBias), b.Param(norm.Weight), b.Param(norm.Bias))
	if mask != nil {
		if mask.Dtype() != x.Dtype() {
			return b.Fail(errors.Errorf("multi-head attention: mask dtype %v, input dtype %v", mask.Dtype(), x.Dtype())), nil
		}
		in = append(in, mask)
	}
	if kv.Dtype() != x.Dtype() {
		return b.Fail(errors.Errorf("multi-head attention: memory dtype %v, input dtype %v", kv.Dtype(), x.Dtype())), nil
	}
	in, attnDrop := appendDropout(b, in, mh.Dropout, bs*mh.Heads, tq, tk)
	in, residDrop := appendDropout(b, in, cfg.Dropout, x.Shape()...)
	if b.Err() != nil {
		return nil, nil
	}
	k := newAttnSubKernel(mh.Heads, memory != nil, cfg.PreLN, norm.Eps, mask != nil, attnDrop, residDrop)
	out = b.Check(graph.Apply(k, in...))
	if out == nil {
		return nil, nil
	}
	return out, b.Check(graph.Apply(newAttnWeights(mh.Heads, tk, k.st), out))
}

// fusedFeedForward builds a feed-forward sub-layer.
func fusedFeedForward(b *graph.Builder, cfg LayerConfig, ff *feedForward, norm *graph.LayerNorm, x *G.Node) *G.Node {
	if x == nil || b.Err() != nil {
		return nil
	}
	in := []*G.Node{x, b.Param(ff.Linear1.Weight), b.Param(ff.Linear1.Bias), b.Param(ff.Linear2.Weight), b.Param(ff.Linear2.Bias), b.Param(norm.Weight), b.Param(norm.Bias)}
	hidden := append(append([]int(nil), x.Shape()[:x.Dims()-1]...), ff.Linear1.Out)
	in, hidDrop := appendDropout(b, in, ff.dropout, hidden...)
	in, residDrop := appendDropout(b, in, cfg.Dropout, x.Shape()...)
	if b.Err() != nil {
		return nil
	}
	return b.Check(graph.Apply(newFFSubKernel(cfg.Activation == "gelu", cfg.PreLN, norm.Eps, hidDrop, residDrop), in...))
}

// fusedEmbed builds dropout(pos(sqrt(Dim) E[ids])) as one node, or returns nil
// and false for a Positional it does not know.
func (m *Model) fusedEmbed(b *graph.Builder, e *graph.Embedding, pos Positional, ids *G.Node) (*G.Node, bool) {
	in := []*G.Node{b.Param(e.Weight), ids}
	learned := false
	switch p := pos.(type) {
	case SinusoidalPositions:
	case *LearnedPositions:
		learned = true
		in = append(in, b.Param(p.Weight))
	default:
		return nil, false
	}
	if ids.Dims() != 2 || ids.Dtype() != tensor.Int {
		return b.Fail(errors.Errorf("transformer: ids %v of %v, want (B, T) of int", ids.Shape(), ids.Dtype())), true
	}
	drop := dropoutMask(b, m.Config.Dropout, ids.Shape()[0], ids.Shape()[1], m.Config.Dim)
	if drop != nil {
		in = append(in, drop)
	}
	if b.Err() != nil {
		return nil, true
	}
	return b.Check(graph.Apply(newEmbedKernel(math.Sqrt(float64(m.Config.Dim)), learned, drop != nil), in...)), true
}
