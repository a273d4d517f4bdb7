package summarize

import (
	"math/rand/v2"

	"github.com/pkg/errors"

	"github.com/triadml/triad/datasets/batch"
	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/models/pointer"
	"github.com/triadml/triad/train"
)

// SetShard makes the task train on pairs [rank*n/size, (rank+1)*n/size) of
// every batch of n pairs (at most B, with training programs of B/size rows),
// padded to the batch's bucket. The loss is a mean over the headline tokens,
// whose number differs from shard to shard, so each rank scales its loss and
// gradient by size*tokens/(the batch's tokens), counted by every rank from the
// whole batch, which makes their mean over the ranks the batch's. Rank 0
// evaluates alone, on all the validation pairs, and alone writes the reports.
func (t *task) SetShard(rank, size int) error {
	return t.Set("summarize", rank, size, t.cfg.Batch, t.progs.Len() > 0, func(rows int) {
		t.progs = graph.NewPrograms(func(s batch.Shape) (*pointer.Program, error) {
			return t.model.Build(t.store, graph.Train, rows, s.Src, s.Tgt)
		})
	})
}

// headlineTokens returns the target tokens of the pairs idx of set as a
// teacher-forced program counts them: each headline and its EOS.
func headlineTokens(set []pair, idx []int) int {
	n := 0
	for _, j := range idx {
		n += len(set[j].tgt) + 1
	}
	return n
}

// trainShard is TrainStep on the shard's pairs of the step's batch idx (more
// than one rank), with p, the shard's program of the batch's bucket.
func (t *task) trainShard(p *pointer.Program, idx []int, noise *rand.Rand) (train.Result, error) {
	lo, hi := t.Span(len(idx))
	if lo == hi { // a batch of fewer pairs than ranks
		return train.Result{}, nil
	}
	n, err := feed(p, t.train, idx[lo:hi])
	if err != nil {
		return train.Result{}, err
	}
	if want := headlineTokens(t.train, idx[lo:hi]); n != want {
		return train.Result{}, errors.Errorf("summarize: the program counts %d headline tokens, not %d", n, want)
	}
	p.SetNoise(noise)
	if err := p.Run(); err != nil {
		return train.Result{}, err
	}
	w := t.ScaleGrads(t.store.Params(), n, headlineTokens(t.train, idx))
	return train.Result{Loss: p.Loss() * w, Items: n}, nil
}
