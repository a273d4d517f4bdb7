package translate

import (
	"math/rand/v2"

	"github.com/triadml/triad/datasets/batch"
	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/models/seq2seq"
	"github.com/triadml/triad/solvers"
	"github.com/triadml/triad/train"
)

// SetShard makes the task train on a 1/size part of every batch. A batch runs
// in the parts of one process (microRows rows, a partial part filled up by
// repeating its own pairs), and rank r takes rows [r*R/size, (r+1)*R/size) of
// every part of R rows, with a training program of that many rows per shape.
// The loss is a mean over the target tokens, whose number differs from shard
// to shard, so each rank scales the gradient and loss of every part by
// size*tokens/(the batch's tokens), counted by every rank from the whole
// batch: the mean over the ranks is then the gradient and loss of one
// process. Rank 0 evaluates alone, on all the validation pairs, and alone
// writes the reports.
func (t *task) SetShard(rank, size int) error {
	return t.Set("translate", rank, size, t.cfg.Batch, t.progs.Len() > 0, func(int) {
		t.progs = graph.NewPrograms(func(sh batch.Shape) (seq2seq.PairProgram, error) {
			lo, hi := t.Span(t.microRows(sh))
			return t.m.build(graph.Train, hi-lo, sh.Src, sh.Tgt, t.cfg.LabelSmoothing)
		})
	})
}

// trainShard is TrainStep on the shard's rows of the step's batch (more than
// one rank).
func (t *task) trainShard(step int, noise *rand.Rand) (train.Result, error) {
	bt := t.steps.At(step)
	rows := t.microRows(bt.Shape)
	lo, hi := t.Span(rows)
	// the parts' rows as one process fills them, and the batch's tokens
	var parts [][]int
	total := 0
	for p := 0; p < len(bt.Indices); p += rows {
		part := bt.Indices[p:min(p+rows, len(bt.Indices))]
		filled := make([]int, rows)
		for i := range filled {
			filled[i] = part[i%len(part)]
			total += len(t.trainTgt[filled[i]]) + 1 // EOS included, as the programs count
		}
		parts = append(parts, filled)
	}
	if lo == hi { // parts of fewer rows than ranks
		t.done = step + 1
		return train.Result{}, nil
	}
	prog, err := t.progs.Get(bt.Shape)
	if err != nil {
		return train.Result{}, err
	}
	prog.SetNoise(noise)
	params := t.m.store.Params()
	var loss, prevC float64
	items := 0
	for _, filled := range parts {
		srcs, tgts := make([][]int, hi-lo), make([][]int, hi-lo)
		for i, j := range filled[lo:hi] {
			srcs[i], tgts[i] = t.trainSrc[j], t.trainTgt[j]
		}
		var c float64 // the part's weight: size*tokens/total
		n, l, err := seq2seq.RunPairs(prog, srcs, tgts, func(n int) {
			c = t.Scale(n, total)
			if prevC > 0 { // the gradient so far, scaled so that the last scaling (by c) gives it its weight
				solvers.ScaleGrads(params, prevC/c)
			}
		})
		if err != nil {
			return train.Result{}, err
		}
		loss += c * l
		items += n
		prevC = c
	}
	solvers.ScaleGrads(params, prevC)
	t.done = step + 1
	return train.Result{Loss: loss, Items: items}, nil
}
