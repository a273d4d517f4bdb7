package demo

import (
	"math/rand/v2"

	"github.com/pkg/errors"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/models/seq2seq"
	"github.com/triadml/triad/train"
)

// SetShard makes the task train on pairs [rank*B/size, (rank+1)*B/size) of
// every step's batch of B, with training programs of B/size rows. Every rank
// draws the whole batch (a function of the seed and the step) and keeps its
// part, padded to the batch's length bucket. The loss is a mean over the
// target tokens, whose number differs from shard to shard, so each rank
// scales its loss and gradient by size*tokens/(the batch's tokens), which
// makes their mean over the ranks the batch's. Rank 0 evaluates alone, on
// the whole held-out set.
func (t *task) SetShard(rank, size int) error {
	return t.Set("demo", rank, size, t.cfg.Batch, t.progs.Len() > 0, func(rows int) {
		t.progs = graph.NewPrograms(func(srcLen int) (seq2seq.PairProgram, error) {
			return t.build(graph.Train, rows, srcLen)
		})
	})
}

// targetTokens returns the target tokens of pairs as a teacher-forced program
// counts them: each target and its EOS.
func targetTokens(tgts [][]int) int {
	n := 0
	for _, y := range tgts {
		n += len(y) + 1
	}
	return n
}

// trainShard is TrainStep on the shard's pairs of the step's encoded batch
// (more than one rank), with prog, the shard's program of the batch's bucket.
func (t *task) trainShard(prog seq2seq.PairProgram, srcs, tgts [][]int, noise *rand.Rand) (train.Result, error) {
	lo, hi := t.Span(len(srcs))
	prog.SetNoise(noise)
	n, loss, err := seq2seq.RunPairs(prog, srcs[lo:hi], tgts[lo:hi], nil)
	if err != nil {
		return train.Result{}, err
	}
	if want := targetTokens(tgts[lo:hi]); n != want {
		return train.Result{}, errors.Errorf("demo: the program counts %d target tokens, not %d", n, want)
	}
	w := t.ScaleGrads(t.store.Params(), n, targetTokens(tgts))
	return train.Result{Loss: loss * w, Items: n}, nil
}
