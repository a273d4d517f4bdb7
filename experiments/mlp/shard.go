package mlp

import (
	"math/rand/v2"
	"strconv"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/train"
)

// shard is the task's part of every batch in a data-parallel group, and the
// training program of its rows.
type shard struct {
	train.Shard
	prog *graph.Program
}

// SetShard makes the task train on images [rank*B/size, (rank+1)*B/size) of
// every batch of B. Every batch is whole and the loss is the mean over its
// images, so the mean of the ranks' gradients is the batch's. Rank 0 evaluates
// alone, on all the validation images.
func (t *task) SetShard(rank, size int) error {
	return t.Set("mlp", rank, size, t.cfg.Batch, t.shard.prog != nil, nil)
}

// trainShard is TrainStep on the shard's images of the step's batch (more than
// one rank), with a program of the shard's rows built at the first step.
func (t *task) trainShard(step int, noise *rand.Rand) (train.Result, error) {
	lo, hi := t.Span(t.cfg.Batch)
	if t.shard.prog == nil {
		var err error
		if t.shard.prog, err = t.model.Build(graph.Train, hi-lo); err != nil {
			return train.Result{}, err
		}
	}
	epoch, pos := step/t.StepsPerEpoch(), step%t.StepsPerEpoch()
	perm := graph.NewRNG(t.cfg.Seed, "shuffle/"+strconv.Itoa(epoch)).Perm(t.train.len())
	batch := perm[pos*t.cfg.Batch : (pos+1)*t.cfg.Batch]
	if err := t.train.feed(t.shard.prog, batch[lo:hi]); err != nil {
		return train.Result{}, err
	}
	t.shard.prog.SetNoise(noise)
	if err := t.shard.prog.Run(); err != nil {
		return train.Result{}, err
	}
	return train.Result{Loss: t.shard.prog.Loss(), Items: hi - lo}, nil
}
