package classify

import (
	"math/rand/v2"

	"github.com/triadml/triad/graph"
	classifier "github.com/triadml/triad/models/classify"
	"github.com/triadml/triad/train"
)

// shard is the task's part of every batch in a data-parallel group, and the
// store of the parameters whose gradients it scales.
type shard struct {
	train.Shard
	store *graph.Store
}

// SetShard makes the task train on sentences [rank*n/size, (rank+1)*n/size) of
// every batch of n (at most B, with training programs of B/size rows). Every
// rank draws the whole batch and its word dropout (functions of the seed and
// the step) and keeps its part. The loss is a mean over the batch's
// sentences, and the last batch of a bucket may not split evenly, so each
// rank scales its loss and gradient by size*sentences/n, which makes their
// mean over the ranks the batch's. Rank 0 evaluates alone, on all the
// validation sentences, and alone writes the reports.
func (t *task) SetShard(rank, size int) error {
	return t.Set("classify", rank, size, t.cfg.Batch, t.progs.Len() > 0, func(rows int) {
		t.progs = graph.NewPrograms(func(length int) (*classifier.Program, error) {
			return t.model.Build(t.store, graph.Train, rows, length)
		})
	})
}

// trainShard is TrainStep on the shard's sentences of the step's batch (more
// than one rank), with prog, the shard's program of the batch's bucket.
func (t *task) trainShard(prog *classifier.Program, seqs [][]int, ys []int, noise *rand.Rand) (train.Result, error) {
	lo, hi := t.Span(len(seqs))
	if lo == hi { // a batch of fewer sentences than ranks
		return train.Result{}, nil
	}
	if _, err := prog.Feed(seqs[lo:hi], ys[lo:hi]); err != nil {
		return train.Result{}, err
	}
	prog.SetNoise(noise)
	if err := prog.Run(); err != nil {
		return train.Result{}, err
	}
	w := t.ScaleGrads(t.store.Params(), hi-lo, len(seqs))
	return train.Result{Loss: prog.Loss() * w, Items: hi - lo}, nil
}
