package rnn

import (
	"github.com/pkg/errors"
	"github.com/triadml/triad/graph"
	G "gorgonia.org/gorgonia"
)

// LMHead maps hidden states to vocabulary logits, logits = h W^T + b, with W its
// own (Vocab, Hidden) matrix or, tied, the input embedding's table (Press and Wolf
// 2017; Inan et al. 2017), which needs Hidden equal to the embedding size.
type LMHead struct {
	Weight *graph.Param // (Vocab, Hidden); the embedding's table when tied
	Bias   *graph.Param // (Vocab)
	Tied   bool
}

// NewLMHead creates name.weight (unless tied to tie) and name.bias in s.
func NewLMHead(s *graph.Store, name string, hidden, vocab int, tie *graph.Embedding) (*LMHead, error) {
	if tie != nil {
		if tie.Dim != hidden || tie.Num != vocab {
			return nil, errors.Errorf("lm head: cannot tie a (%d, %d) embedding to hidden %d, vocabulary %d", tie.Num, tie.Dim, hidden, vocab)
		}
		bias, err := s.New(name+".bias", []int{vocab}, graph.Zeros())
		if err != nil {
			return nil, err
		}
		return &LMHead{Weight: tie.Weight, Bias: bias, Tied: true}, nil
	}
	lin, err := graph.NewLinear(s, name, hidden, vocab, true)
	if err != nil {
		return nil, err
	}
	return &LMHead{Weight: lin.Weight, Bias: lin.Bias}, nil
}

// Forward returns the logits (..., Vocab) of h (..., Hidden).
func (h *LMHead) Forward(b *graph.Builder, x *G.Node) *G.Node {
	if x == nil {
		return nil
	}
	return b.Check(graph.Affine(x, b.Param(h.Weight), b.Param(h.Bias)))
}

// Pooling says how a sequence classifier summarises a sequence.
type Pooling string

// The poolings.
const (
	// PoolLast uses the final state of the last layer (both directions when
	// bidirectional: the forward state after the last real step and the reverse
	// state after the first).
	PoolLast Pooling = "last"
	// PoolMean averages the last layer's outputs over the real steps.
	PoolMean Pooling = "mean"
)

// SequenceClassifier is a linear classifier over a pooled recurrent encoding.
type SequenceClassifier struct {
	Pool Pooling
	Proj *graph.Linear
}

// NewSequenceClassifier creates name.weight and name.bias for an encoder of the
// given output size.
func NewSequenceClassifier(s *graph.Store, name string, encoded, classes int, pool Pooling) (*SequenceClassifier, error) {
	if pool != PoolLast && pool != PoolMean {
		return nil, errors.Errorf("classifier: unknown pooling %q (last, mean)", pool)
	}
	lin, err := graph.NewLinear(s, name, encoded, classes, true)
	if err != nil {
		return nil, err
	}
	return &SequenceClassifier{Pool: pool, Proj: lin}, nil
}

// Forward returns class logits (B, classes) from a stack's outputs, final state
// and masks (T nodes (B,1); nil when no step is padded).
func (c *SequenceClassifier) Forward(b *graph.Builder, r *RNN, outs []*G.Node, final State, masks []*G.Node) *G.Node {
	var pooled *G.Node
	switch c.Pool {
	case PoolLast:
		k := (r.Layers - 1) * r.Directions()
		pooled = final.H[k]
		if r.Directions() == 2 {
			pooled = b.Check(G.Concat(1, pooled, final.H[k+1]))
		}
	case PoolMean:
		sum := outs[0]
		for _, o := range outs[1:] {
			sum = b.Check(G.Add(sum, o))
		}
		if masks == nil {
			pooled = b.Check(G.Div(sum, G.NewConstant(float64OrFloat32(b, float64(len(outs))))))
		} else {
			n := masks[0]
			for _, m := range masks[1:] {
				n = b.Check(G.Add(n, m))
			}
			pooled = b.Check(G.BroadcastHadamardDiv(sum, n, nil, []byte{1}))
		}
	}
	return c.Proj.Forward(b, pooled)
}

func float64OrFloat32(b *graph.Builder, v float64) any {
	if b.Dtype().Name() == "float32" {
		return float32(v)
	}
	return v
}
