package gpt

import (
	"github.com/triadml/triad/train"
)

// SetShard makes the task train and evaluate on rows [rank*B/size,
// (rank+1)*B/size) of every batch of B windows.
func (t *task) SetShard(rank, size int) error {
	if err := train.CheckShard("gpt", rank, size, t.cfg.Batch, t.prog != nil || t.eval != nil); err != nil {
		return err
	}
	t.rank, t.size = rank, size
	return nil
}

// rows is the number of windows of the shard's part of a batch.
func (t *task) rows() int { return t.cfg.Batch / t.size }

// shard returns the shard's rows of a batch (the batch itself in one process).
func (t *task) shard(x, y [][]int) batch {
	if t.size == 1 {
		return batch{x, y}
	}
	lo, hi := t.rank*t.rows(), (t.rank+1)*t.rows()
	return batch{x[lo:hi], y[lo:hi]}
}
