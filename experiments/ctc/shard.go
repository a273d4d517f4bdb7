package ctc

import (
	"github.com/triadml/triad/datasets/audio"
	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/models/acoustic"
	"github.com/triadml/triad/train"
)

// shard is the task's part of every batch in a data-parallel group: rank of
// size (size 0 outside a group).
type shard struct{ rank, size int }

// SetShard makes the task train on utterances [rank*B/size, (rank+1)*B/size)
// of every step's batch of B, with training programs of B/size rows. Every
// rank draws the whole batch (a function of the seed and the step) and keeps
// its part. The CTC loss of a batch is a mean over its rows, each row's loss
// divided by its own label count, so rows weigh the same and the mean of the
// ranks' gradients is the batch's. Rank 0 evaluates alone, on the whole test
// set.
func (t *task) SetShard(rank, size int) error {
	if err := train.CheckShard("ctc", rank, size, t.cfg.Batch, t.train.Len() > 0); err != nil {
		return err
	}
	t.rank, t.size = rank, size
	if size > 1 {
		r, cfg := t.Recognizer, t.cfg
		t.train = graph.NewPrograms(func(T int) (*acoustic.Program, error) {
			return r.model.Build(r.store, graph.Train, T, cfg.Batch/size, cfg.MaxDigits, cfg.masked())
		})
	}
	return nil
}

// shardOf returns the shard's utterances of a step's batch (the batch itself
// in one process).
func (t *task) shardOf(us []audio.Utterance) []audio.Utterance {
	if t.size <= 1 {
		return us
	}
	return us[t.rank*len(us)/t.size : (t.rank+1)*len(us)/t.size]
}
