package lm

import (
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/train"
)

// SetShard makes the task train and validate on columns [rank*B/size,
// (rank+1)*B/size) of the streams.
func (t *task) SetShard(rank, size int) error {
	if err := train.CheckShard("lm", rank, size, t.cfg.Batch, t.prog != nil || t.eval != nil); err != nil {
		return err
	}
	t.rank, t.size = rank, size
	if size > 1 {
		t.part = t.lm.NewState(tensor.Float32, t.cfg.Batch/size)
	}
	return nil
}

// shard returns the shard's columns of a time-major window of the B-column
// stream (the window itself in one process).
func (t *task) shard(w []int) []int {
	if t.size == 1 {
		return w
	}
	b, cols := t.cfg.Batch, t.cfg.Batch/t.size
	lo := t.rank * cols
	out := make([]int, 0, len(w)/t.size)
	for s := 0; s < len(w); s += b {
		out = append(out, w[s+lo:s+lo+cols]...)
	}
	return out
}

// copyRows copies the shard's rows of the carry into part (toPart) or back, the
// other rows of the carry then being zeroed.
func (t *task) copyRows(toPart bool) {
	cols := t.cfg.Batch / t.size
	full := append(append([]*tensor.Dense(nil), t.carry.H...), t.carry.C...)
	part := append(append([]*tensor.Dense(nil), t.part.H...), t.part.C...)
	for k := range full {
		f, p := graph.Slice[float32](full[k]), graph.Slice[float32](part[k])
		lo := t.rank * cols * (len(p) / cols)
		if toPart {
			copy(p, f[lo:])
			continue
		}
		clear(f)
		copy(f[lo:], p)
	}
}
