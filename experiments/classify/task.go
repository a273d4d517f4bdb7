package classify

import (
	"math"
	"math/rand/v2"
	"strconv"

	"github.com/pkg/errors"

	"github.com/triadml/triad/datasets/batch"
	"github.com/triadml/triad/datasets/vocab"
	"github.com/triadml/triad/graph"
	classifier "github.com/triadml/triad/models/classify"
	"github.com/triadml/triad/train"
)

// data holds the encoded sentences of one split.
type data struct {
	train, val   [][]int
	trainY, valY []int
	labels       []string
}

// task trains on length-bucketed batches: each epoch's batches come from the
// bucketer shuffled with the epoch's own seeded stream, so a batch is a
// function of the step.
type task struct {
	cfg      Config
	model    *classifier.Classifier
	data     *data
	bucketer *batch.Bucketer
	bounds   []int
	progs    *graph.Programs[int, *classifier.Program] // training, by padded length
	evals    *graph.Programs[int, *classifier.Program] // evaluation, by padded length
	steps    *batch.Steps                              // the batch of each step
	shard                                              // the part of each batch in a data-parallel group (shard.go)
}

// seen returns the number of positions the model sees for a sentence.
func (t *task) seen(ids []int) int {
	return len(t.model.Prepare(ids, math.MaxInt))
}

func newTask(cfg Config, model *classifier.Classifier, store *graph.Store, d *data) (*task, error) {
	programs := func(mode graph.Mode) *graph.Programs[int, *classifier.Program] {
		return graph.NewPrograms(func(length int) (*classifier.Program, error) {
			return model.Build(store, mode, cfg.Batch, length)
		})
	}
	t := &task{cfg: cfg, model: model, data: d, progs: programs(graph.Train), evals: programs(graph.Eval), shard: shard{store: store}}
	if len(d.train) == 0 || len(d.val) == 0 {
		return nil, train.Usage(errors.Errorf("classify: %d training and %d validation sentences", len(d.train), len(d.val)))
	}
	var all []int
	lens := make([]int, len(d.train))
	ones := make([]int, len(d.train))
	for i, s := range d.train {
		lens[i], ones[i] = t.seen(s), 1
		all = append(all, lens[i])
	}
	for _, s := range d.val {
		all = append(all, t.seen(s))
	}
	bounds, _ := batch.ParseLengths(cfg.Buckets)
	if bounds == nil {
		bounds = batch.MedianBuckets(all)
	}
	longest := 0
	for _, l := range all {
		longest = max(longest, l)
	}
	if bounds[len(bounds)-1] < longest { // the last bucket holds every longer sentence, cut to its length
		for i, l := range lens {
			lens[i] = min(l, bounds[len(bounds)-1])
		}
	}
	t.bounds = bounds
	var err error
	t.bucketer, err = batch.NewBucketer(lens, ones, batch.BucketConfig{SrcBounds: bounds, TgtBounds: []int{1}, BatchSize: cfg.Batch})
	if err != nil {
		return nil, err
	}
	t.steps = t.bucketer.Steps(cfg.Seed)
	return t, nil
}

// close frees the compiled programs.
func (t *task) close() {
	t.progs.Reset()
	t.evals.Reset()
}

// StepsPerEpoch implements train.Task.
func (t *task) StepsPerEpoch() int { return t.bucketer.NumBatches() }

// TrainStep implements train.Task.
func (t *task) TrainStep(step int, noise *rand.Rand) (train.Result, error) {
	bt := t.steps.At(step)
	prog, err := t.progs.Get(bt.Shape.Src)
	if err != nil {
		return train.Result{}, err
	}
	seqs := make([][]int, len(bt.Indices))
	ys := make([]int, len(bt.Indices))
	for i, j := range bt.Indices {
		seqs[i], ys[i] = t.data.train[j], t.data.trainY[j]
	}
	if p := t.cfg.WordDrop; p > 0 {
		// word dropout (Iyyer et al. 2015; here a dropped token becomes <unk>, which
		// also trains the embedding of words unseen in training), drawn from the
		// step's own stream
		rng := graph.NewRNG(t.cfg.Seed, "words/"+strconv.Itoa(step))
		for i, s := range seqs {
			d := make([]int, len(s))
			for k, id := range s {
				if d[k] = id; rng.Float64() < p {
					d[k] = vocab.UnkID
				}
			}
			seqs[i] = d
		}
	}
	if t.Size > 1 {
		return t.trainShard(prog, seqs, ys, noise)
	}
	if _, err := prog.Feed(seqs, ys); err != nil {
		return train.Result{}, err
	}
	prog.SetNoise(noise)
	if err := prog.Run(); err != nil {
		return train.Result{}, err
	}
	return train.Result{Loss: prog.Loss(), Items: len(seqs)}, nil
}

// Evaluate returns the validation loss (mean nats per sentence), accuracy and
// macro F1.
func (t *task) Evaluate() (map[string]float64, error) {
	ev, err := t.evaluate(0)
	if err != nil {
		return nil, err
	}
	return map[string]float64{"val_loss": ev.loss, "val_acc": ev.cm.Accuracy(), "val_macro_f1": ev.cm.MacroF1()}, nil
}
