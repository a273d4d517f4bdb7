package ctc

import (
	"github.com/triadml/triad/datasets/audio"
	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/models/acoustic"
)

// SetShard makes the task train on utterances [rank*B/size, (rank+1)*B/size)
// of every step's batch of B, with training programs of B/size rows. Every
// rank draws the whole batch (a function of the seed and the step) and keeps
// its part. The CTC loss of a batch is a mean over its rows, each row's loss
// divided by its own label count, so rows weigh the same and the mean of the
// ranks' gradients is the batch's. Rank 0 evaluates alone, on the whole test
// set.
func (t *task) SetShard(rank, size int) error {
	return t.Set("ctc", rank, size, t.cfg.Batch, t.train.Len() > 0, func(rows int) {
		t.train = graph.NewPrograms(func(T int) (*acoustic.Program, error) {
			return t.model.Build(t.store, graph.Train, T, rows, t.cfg.MaxDigits, t.cfg.masked())
		})
	})
}

// shardOf returns the shard's utterances of a step's batch (the batch itself
// in one process).
func (t *task) shardOf(us []audio.Utterance) []audio.Utterance {
	lo, hi := t.Span(len(us))
	return us[lo:hi]
}
