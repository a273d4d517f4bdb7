package summarize

import (
	"math/rand/v2"
	"strings"

	"github.com/pkg/errors"

	"github.com/triadml/triad/datasets/batch"
	"github.com/triadml/triad/datasets/vocab"
	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/metrics"
	"github.com/triadml/triad/models/pointer"
	"github.com/triadml/triad/train"
)

// programs caches the compiled teacher-forced programs of one mode by bucket.
type programs = graph.Programs[batch.Shape, *pointer.Program]

// task trains on length-bucketed batches, each epoch's order drawn from its own
// seeded stream (a batch is a function of the step), and evaluates the
// validation loss and the ROUGE of greedy headlines.
type task struct {
	cfg          Config
	model        *pointer.Model
	store        *graph.Store
	voc          *vocab.Vocab
	train, valid []pair
	bucketer     *batch.Bucketer
	validBuckets *batch.Bucketer
	shapes       []batch.Shape
	progs, evals *programs
	decoder      *pointer.Decoder
	evalIdx      []int        // validation pairs decoded at each evaluation and at the end
	steps        *batch.Steps // the batch of each step
	train.Shard               // the part of each batch in a data-parallel group (shard.go)
}

func newTask(cfg Config, model *pointer.Model, store *graph.Store, voc *vocab.Vocab, trainSet, validSet []pair) (*task, error) {
	build := func(mode graph.Mode) *programs {
		return graph.NewPrograms(func(s batch.Shape) (*pointer.Program, error) {
			return model.Build(store, mode, cfg.Batch, s.Src, s.Tgt)
		})
	}
	t := &task{cfg: cfg, model: model, store: store, voc: voc, train: trainSet, valid: validSet,
		progs: build(graph.Train), evals: build(graph.Eval), decoder: model.NewDecoder(store)}
	var err error
	lengths := func(set []pair) (src, tgt []int) {
		for _, p := range set {
			src = append(src, len(p.src))
			tgt = append(tgt, len(p.tgt)+1)
		}
		return src, tgt
	}
	ts, tt := lengths(trainSet)
	vs, vt := lengths(validSet)
	shapes, _ := batch.ParseShapes(cfg.Buckets)
	if shapes == nil {
		shapes = batch.PairBuckets(append(ts, vs...), append(tt, vt...))
	}
	t.shapes = shapes
	bc := batch.BucketConfig{Joint: true, BatchSize: cfg.Batch}
	for _, s := range shapes {
		bc.SrcBounds = append(bc.SrcBounds, s.Src)
		bc.TgtBounds = append(bc.TgtBounds, s.Tgt)
	}
	if t.bucketer, err = batch.NewBucketer(ts, tt, bc); err != nil {
		t.close()
		return nil, train.Usage(errors.Wrap(err, "training pairs"))
	}
	t.steps = t.bucketer.Steps(cfg.Seed)
	if t.validBuckets, err = batch.NewBucketer(vs, vt, bc); err != nil {
		t.close()
		return nil, train.Usage(errors.Wrap(err, "validation pairs"))
	}
	n := cfg.EvalSet.Of(len(validSet))
	for i := 0; i < n; i++ {
		t.evalIdx = append(t.evalIdx, i*len(validSet)/n)
	}
	return t, nil
}

// close frees the compiled programs.
func (t *task) close() {
	t.progs.Reset()
	t.evals.Reset()
	t.decoder.Close()
}

// endPhase closes the programs of the phase that ends (training, or the
// validation loss, greedy decoding or beam search of an evaluation) and lets
// the store's arena go, so that the next phase holds only the memory it needs
// itself. The next training step compiles its programs again, the same
// programs (compiling is deterministic).
func (t *task) endPhase() {
	t.close()
	t.decoder = t.model.NewDecoder(t.store)
	t.store.Arena().Release()
}

// StepsPerEpoch implements train.Task.
func (t *task) StepsPerEpoch() int { return t.bucketer.NumBatches() }

// feed sets the pairs idx of set into p.
func feed(p *pointer.Program, set []pair, idx []int) (int, error) {
	srcs, tgts := make([][]int, len(idx)), make([][]int, len(idx))
	for i, j := range idx {
		srcs[i], tgts[i] = set[j].src, set[j].tgt
	}
	return p.Feed(srcs, tgts)
}

// TrainStep implements train.Task.
func (t *task) TrainStep(step int, noise *rand.Rand) (train.Result, error) {
	bt := t.steps.At(step)
	p, err := t.progs.Get(bt.Shape)
	if err != nil {
		return train.Result{}, err
	}
	if t.Size > 1 {
		return t.trainShard(p, bt.Indices, noise)
	}
	n, err := feed(p, t.train, bt.Indices)
	if err != nil {
		return train.Result{}, err
	}
	p.SetNoise(noise)
	if err := p.Run(); err != nil {
		return train.Result{}, err
	}
	return train.Result{Loss: p.Loss(), Items: n}, nil
}

// Evaluate returns the teacher-forced validation loss (mean nats per headline
// token), the mean p_gen over the validation tokens (pointer-generator), and
// the ROUGE-1/2/L F1 of greedy headlines of the evaluated pairs with their mean,
// val_rouge, which selects the best checkpoint.
func (t *task) Evaluate() (map[string]float64, error) {
	t.endPhase()
	defer t.endPhase()
	m, err := t.validLoss()
	if err != nil {
		return nil, err
	}
	t.endPhase()
	heads, err := t.decodeGreedy(t.evalIdx)
	if err != nil {
		return nil, err
	}
	refs := make([]string, len(t.evalIdx))
	for i, j := range t.evalIdx {
		refs[i] = t.valid[j].Reference
	}
	r, err := metrics.MeanRougeF1(refs, heads)
	if err != nil {
		return nil, err
	}
	m["val_rouge1"], m["val_rouge2"], m["val_rougeL"], m["val_rouge"] = r.Rouge1, r.Rouge2, r.RougeL, r.Mean
	words := 0
	for _, h := range heads {
		words += len(strings.Fields(h))
	}
	m["val_words"] = float64(words) / float64(len(heads))
	return m, nil
}

// validLoss runs the teacher-forced evaluation programs over the validation set.
func (t *task) validLoss() (map[string]float64, error) {
	var sum, pgen float64
	tokens := 0
	for _, bt := range t.validBuckets.Epoch(graph.NewRNG(t.cfg.Seed, "valid")) {
		p, err := t.evals.Get(bt.Shape)
		if err != nil {
			return nil, err
		}
		n, err := feed(p, t.valid, bt.Indices)
		if err != nil {
			return nil, err
		}
		if err := p.Run(); err != nil {
			return nil, err
		}
		loss, err := p.Output("loss")
		if err != nil {
			return nil, err
		}
		sum += graph.Scalar(loss) * float64(n)
		tokens += n
		if t.cfg.Copy {
			pg, err := p.Output("p_gen")
			if err != nil {
				return nil, err
			}
			v := graph.Float64s(pg)
			for i, j := range bt.Indices {
				for k := 0; k <= len(t.valid[j].tgt); k++ {
					pgen += v[i*bt.Shape.Tgt+k]
				}
			}
		}
	}
	m := map[string]float64{"val_loss": sum / float64(tokens)}
	if t.cfg.Copy {
		m["val_p_gen"] = pgen / float64(tokens)
	}
	return m, nil
}
