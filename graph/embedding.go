package graph

import (
	G "gorgonia.org/gorgonia"
)

// Embedding maps integer ids to rows of a (Num, Dim) table, as torch.nn.Embedding;
// the table is initialised N(0, 1) like PyTorch's.
type Embedding struct {
	Weight *Param
	Num    int
	Dim    int
}

// NewEmbedding creates name.weight (num, dim) in s.
func NewEmbedding(s *Store, name string, num, dim int) (*Embedding, error) {
	w, err := s.New(name+".weight", []int{num, dim}, Normal(0, 1))
	if err != nil {
		return nil, err
	}
	return &Embedding{Weight: w, Num: num, Dim: dim}, nil
}

// Forward looks up ids (a tensor.Int node of any shape S) and returns S + (Dim).
// The table's gradient accumulates over repeated ids.
func (e *Embedding) Forward(b *Builder, ids *G.Node) *G.Node {
	if ids == nil {
		return nil
	}
	return b.Check(Gather(b.Param(e.Weight), ids))
}
