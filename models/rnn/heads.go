package rnn

import (
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"

	"github.com/triadml/triad/graph"
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
