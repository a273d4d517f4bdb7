package translate

import (
	"fmt"
	"io"
	"math/rand/v2"
	"strings"

	"github.com/pkg/errors"

	"github.com/triadml/triad/datasets"
	"github.com/triadml/triad/datasets/batch"
	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/models/seq2seq"
	"github.com/triadml/triad/solvers"
	"github.com/triadml/triad/train"
)

// task trains on length-bucketed batches (each epoch's order drawn from the
// epoch's own seeded stream, so that a batch is a function of the step) and
// evaluates perplexity and BLEU on the validation pairs.
type task struct {
	cfg      Config
	m        *model
	src, tgt *side
	dir      string
	log      io.Writer

	trainSrc, trainTgt [][]int
	dropped            int
	bucketer           *batch.Bucketer
	shapes             []batch.Shape
	progs              *graph.Programs[batch.Shape, seq2seq.PairProgram]
	evals              *graph.Programs[[3]int, seq2seq.PairProgram] // rows, source and target lengths
	steps              *batch.Steps                                 // the batch of each step
	done               int                                          // steps trained so far (the step of the next evaluation)
	train.Shard                                                     // the part of each batch in a data-parallel group (shard.go)

	valSrcToks [][]string // the tokens of each validation source, cut to MaxLen
	valSrc     [][]int
	valTgt     [][]int // cut to MaxLen
	valRefs    []string
}

// newTask encodes the training pairs (leaving out those empty or longer than
// MaxLen), buckets them by length and encodes the validation pairs.
func newTask(cfg Config, m *model, src, tgt *side, trainPairs, valPairs []datasets.Pair, dir string, log io.Writer) (*task, error) {
	t := &task{cfg: cfg, m: m, src: src, tgt: tgt, dir: dir, log: log}
	t.progs = graph.NewPrograms(func(sh batch.Shape) (seq2seq.PairProgram, error) {
		return m.build(graph.Train, t.microRows(sh), sh.Src, sh.Tgt, cfg.LabelSmoothing)
	})
	t.evals = graph.NewPrograms(func(k [3]int) (seq2seq.PairProgram, error) {
		return m.build(graph.Eval, k[0], k[1], k[2], 0)
	})
	var srcLens, tgtLens []int
	for _, p := range trainPairs {
		s, y := src.voc.Encode(src.tokens(p.Source)), tgt.voc.Encode(tgt.tokens(p.Target))
		if len(s) == 0 || len(s) > cfg.MaxLen || len(y) > cfg.MaxLen {
			t.dropped++
			continue
		}
		t.trainSrc, t.trainTgt = append(t.trainSrc, s), append(t.trainTgt, y)
		srcLens, tgtLens = append(srcLens, len(s)), append(tgtLens, len(y)+1)
	}
	if len(t.trainSrc) == 0 {
		return nil, train.Usage(errors.Errorf("translate: no training pair has 1 to %d tokens on both sides", cfg.MaxLen))
	}
	sb, tb := batch.SpreadBuckets(srcLens, tgtLens, cfg.Buckets)
	var err error
	t.bucketer, err = batch.NewBucketer(srcLens, tgtLens, batch.BucketConfig{SrcBounds: sb, TgtBounds: tb, Joint: true, BatchSize: cfg.Batch})
	if err != nil {
		return nil, err
	}
	t.steps = t.bucketer.Steps(cfg.Seed)
	t.shapes = t.bucketer.Shapes()
	for _, p := range valPairs {
		toks := src.tokens(p.Source)
		if len(toks) > cfg.MaxLen {
			toks = toks[:cfg.MaxLen]
		}
		t.valSrcToks = append(t.valSrcToks, toks)
		t.valSrc = append(t.valSrc, src.voc.Encode(toks))
		t.valTgt = append(t.valTgt, cut(tgt.voc.Encode(tgt.tokens(p.Target)), cfg.MaxLen))
		t.valRefs = append(t.valRefs, p.Target)
	}
	return t, nil
}

// close frees every compiled program.
func (t *task) close() {
	_ = t.progs.Reset() // only frees memory
	_ = t.evals.Reset()
	t.m.closeDecoders()
}

// endPhase closes the programs of the phase that ends (training, or the
// perplexity, greedy decoding or beam search of an evaluation) and lets the
// store's arena go, so that the next phase holds only the memory it needs
// itself and not the last one's besides. The next training step compiles its
// programs again, the same programs (compiling is deterministic), and the
// arena grows back to what training needs.
func (t *task) endPhase() {
	t.close()
	t.m.decoder, t.m.modelDecoder = t.m.newDecoders()
	t.m.store.Arena().Release()
}

// StepsPerEpoch implements train.Task: the batches of all buckets.
func (t *task) StepsPerEpoch() int { return t.bucketer.NumBatches() }

// describeShapes lists the buckets as source x target lengths, with the rows of
// the parts where a batch runs in parts.
func (t *task) describeShapes() string {
	var parts []string
	for _, sh := range t.shapes {
		d := fmt.Sprintf("%dx%d", sh.Src, sh.Tgt)
		if r := t.microRows(sh); r < t.cfg.Batch {
			d += fmt.Sprintf(" (parts of %d)", r)
		}
		parts = append(parts, d)
	}
	return strings.Join(parts, ", ")
}

// microRows returns the rows of the training program of a shape: the batch, or
// a part of it small enough that rows times the longer padded side stays within
// MaxTokens (the program's memory grows with it).
func (t *task) microRows(sh batch.Shape) int {
	if t.cfg.MaxTokens <= 0 {
		return t.cfg.Batch
	}
	k := (t.cfg.Batch*max(sh.Src, sh.Tgt) + t.cfg.MaxTokens - 1) / t.cfg.MaxTokens
	return (t.cfg.Batch + k - 1) / max(k, 1)
}

// TrainStep implements train.Task. It trains on the step's batch, in
// micro-batches where the shape is large (see microRows): the gradients of the
// parts are combined with weights proportional to their target tokens, which
// gives the gradient of the mean loss per token of the whole batch. A partial
// last part is filled up by repeating its own pairs.
func (t *task) TrainStep(step int, noise *rand.Rand) (train.Result, error) {
	if t.Size > 1 {
		return t.trainShard(step, noise)
	}
	bt := t.steps.At(step)
	rows := t.microRows(bt.Shape)
	prog, err := t.progs.Get(bt.Shape)
	if err != nil {
		return train.Result{}, err
	}
	prog.SetNoise(noise)
	var sum float64
	total, prev := 0, 0
	for lo := 0; lo < len(bt.Indices); lo += rows {
		part := bt.Indices[lo:min(lo+rows, len(bt.Indices))]
		srcs, tgts := make([][]int, rows), make([][]int, rows)
		for i := range srcs {
			j := part[i%len(part)]
			srcs[i], tgts[i] = t.trainSrc[j], t.trainTgt[j]
		}
		n, loss, err := seq2seq.RunPairs(prog, srcs, tgts, func(n int) {
			if prev > 0 { // the gradient so far, of weight prev, rescaled to weight n
				solvers.ScaleGrads(t.m.store.Params(), float64(prev)/float64(n))
			}
		})
		if err != nil {
			return train.Result{}, err
		}
		sum += loss * float64(n)
		total += n
		prev = n
	}
	if total != prev {
		solvers.ScaleGrads(t.m.store.Params(), float64(prev)/float64(total))
	}
	t.done = step + 1
	return train.Result{Loss: sum / float64(total), Items: total}, nil
}
