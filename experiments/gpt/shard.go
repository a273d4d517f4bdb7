package gpt

import (
	"github.com/pkg/errors"

	"github.com/triadml/triad/train"
)

// SetShard makes the task train and evaluate on rows [rank*B/size,
// (rank+1)*B/size) of every batch of B windows.
func (t *task) SetShard(rank, size int) error {
	if size <= 0 || rank < 0 || rank >= size {
		return errors.Errorf("gpt: shard %d of %d", rank, size)
	}
	if t.cfg.Batch%size != 0 {
		return train.Usage(errors.Errorf("gpt: batch %d does not split evenly into %d ranks; use a multiple of %d", t.cfg.Batch, size, size))
	}
	if t.prog != nil || t.eval != nil {
		return errors.New("gpt: SetShard after the programs were built")
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
