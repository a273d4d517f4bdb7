package train

import (
	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/solvers"
)

// Shard is a task's part of every batch in a data-parallel group: rank Rank
// of Size ranks (Size 0 outside a group). A task embeds it and takes it in its
// SetShard with Set.
type Shard struct {
	Rank, Size int
}

// Set takes the shard rank of size for the task named name, whose batches
// have batch rows and whose programs are already built where built, once
// CheckShard accepts it. Where size > 1 it then calls split (unless nil) with
// the rows of the shard's part of a batch, batch/size, for the task to make
// its training programs of that many rows.
func (s *Shard) Set(name string, rank, size, batch int, built bool, split func(rows int)) error {
	if err := CheckShard(name, rank, size, batch, built); err != nil {
		return err
	}
	s.Rank, s.Size = rank, size
	if size > 1 && split != nil {
		split(batch / size)
	}
	return nil
}

// Span returns the shard's rows [lo, hi) of n: [Rank*n/Size,
// (Rank+1)*n/Size), all n outside a group. The spans of the ranks of a group
// cover [0, n) in order, and where n does not split evenly they differ by a
// row at the most.
func (s Shard) Span(n int) (lo, hi int) {
	if s.Size <= 1 {
		return 0, n
	}
	return s.Rank * n / s.Size, (s.Rank + 1) * n / s.Size
}

// Scale returns the weight of the loss and gradient of a shard whose part of
// a batch holds items of the batch's total items (images, sentences, target
// tokens): Size*items/total. Where a batch's loss is a mean over its items,
// the mean over the ranks of their weighted losses and gradients is then the
// batch's, however unevenly the items split.
func (s Shard) Scale(items, total int) float64 {
	return float64(s.Size*items) / float64(total)
}

// ScaleGrads scales the gradients of params by Scale(items, total) (leaving
// them as they are where that is 1) and returns the weight, for the shard's
// loss.
func (s Shard) ScaleGrads(params []*graph.Param, items, total int) float64 {
	w := s.Scale(items, total)
	if w != 1 {
		solvers.ScaleGrads(params, w)
	}
	return w
}
