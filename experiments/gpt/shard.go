package gpt

// SetShard makes the task train and evaluate on rows [rank*B/size,
// (rank+1)*B/size) of every batch of B windows.
func (t *task) SetShard(rank, size int) error {
	return t.Set("gpt", rank, size, t.cfg.Batch, t.prog != nil || t.eval != nil, nil)
}

// rows is the number of windows of the shard's part of a batch.
func (t *task) rows() int {
	lo, hi := t.Span(t.cfg.Batch)
	return hi - lo
}

// shard returns the shard's rows of a batch (the batch itself in one process).
func (t *task) shard(x, y [][]int) batch {
	lo, hi := t.Span(len(x))
	return batch{x[lo:hi], y[lo:hi]}
}
