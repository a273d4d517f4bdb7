package demo

import (
	"math/rand/v2"
	"sort"
	"strconv"
	"unicode/utf8"

	"github.com/triadml/triad/datasets"
	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/models/seq2seq"
	"github.com/triadml/triad/train"
)

// poolBatches is the number of batches drawn together and grouped by source
// length, so that each batch pads its sources only to its own length bucket.
const poolBatches = 16

// task trains the model on fresh dates and evaluates it on held-out ones.
type task struct {
	*model
	progs    *graph.Programs[int, seq2seq.PairProgram] // training programs by source length
	test     []datasets.DatePair
	held     map[string]bool // the held-out sources, never trained on
	pool     []datasets.DatePair
	poolID   int // the pool's number (-1: none drawn yet)
	poolPerm []int

	train.Shard // the part of each batch in a data-parallel group (shard.go)
}

func newTask(cfg Config) (*task, error) {
	m, err := newModel(cfg)
	if err != nil {
		return nil, err
	}
	t := &task{model: m, held: map[string]bool{}, poolID: -1}
	rng := graph.NewRNG(cfg.Seed, "demo/test")
	for len(t.test) < cfg.EvalSize {
		p := datasets.RandomDate(rng)
		if !t.held[p.Source] {
			t.held[p.Source] = true
			t.test = append(t.test, p)
		}
	}
	t.progs = graph.NewPrograms(func(srcLen int) (seq2seq.PairProgram, error) {
		return m.build(graph.Train, cfg.Batch, srcLen)
	})
	return t, nil
}

func (t *task) StepsPerEpoch() int { return StepsPerEpoch }

// batch returns the pairs of a step: steps come in pools of poolBatches batches
// drawn from a stream named after the pool (skipping held-out sources), sorted by
// source length and cut into batches taken in a random order, so that the batch
// is a function of the step and pads little.
func (t *task) batch(step int) []datasets.DatePair {
	id := step / poolBatches
	if id != t.poolID {
		rng := graph.NewRNG(t.cfg.Seed, "demo/train/"+strconv.Itoa(id))
		t.pool = t.pool[:0]
		for len(t.pool) < poolBatches*t.cfg.Batch {
			if p := datasets.RandomDate(rng); !t.held[p.Source] {
				t.pool = append(t.pool, p)
			}
		}
		sort.SliceStable(t.pool, func(i, j int) bool {
			return utf8.RuneCountInString(t.pool[i].Source) < utf8.RuneCountInString(t.pool[j].Source)
		})
		t.poolPerm = rng.Perm(poolBatches)
		t.poolID = id
	}
	k := t.poolPerm[step%poolBatches]
	return t.pool[k*t.cfg.Batch : (k+1)*t.cfg.Batch]
}

// TrainStep trains on the step's batch with the program of its length bucket.
func (t *task) TrainStep(step int, noise *rand.Rand) (train.Result, error) {
	pairs := t.batch(step)
	srcs, tgts := make([][]int, len(pairs)), make([][]int, len(pairs))
	longest := 0
	for i, p := range pairs {
		srcs[i], tgts[i] = t.src.encode(p.Source), t.tgt.encode(p.Target)
		longest = max(longest, len(srcs[i]))
	}
	prog, err := t.progs.Get(min((longest+7)/8*8, t.srcLen))
	if err != nil {
		return train.Result{}, err
	}
	if t.Size > 1 {
		return t.trainShard(prog, srcs, tgts, noise)
	}
	prog.SetNoise(noise)
	n, loss, err := seq2seq.RunPairs(prog, srcs, tgts, nil)
	if err != nil {
		return train.Result{}, err
	}
	return train.Result{Loss: loss, Items: n}, nil
}

// greedyTest decodes the held-out set greedily and returns the dates written.
func (t *task) greedyTest() ([]string, error) {
	srcs := make([]string, len(t.test))
	for i, p := range t.test {
		srcs[i] = p.Source
	}
	hyps, err := t.greedy(srcs)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(hyps))
	for i, h := range hyps {
		out[i] = t.tgt.decode(h.Tokens)
	}
	return out, nil
}

// Evaluate decodes the held-out set greedily: exact-match and per-character
// accuracy.
func (t *task) Evaluate() (map[string]float64, error) {
	got, err := t.greedyTest()
	if err != nil {
		return nil, err
	}
	var exact, chars, total int
	for i, g := range got {
		want := t.test[i].Target
		if g == want {
			exact++
		}
		for j := range want {
			if j < len(g) && g[j] == want[j] {
				chars++
			}
		}
		total += len(want)
	}
	return map[string]float64{
		"val_exact":    float64(exact) / float64(len(got)),
		"val_char_acc": float64(chars) / float64(total),
	}, nil
}

// close frees the training and decoding programs.
func (t *task) close() error {
	err := t.progs.Reset()
	if cerr := t.model.close(); err == nil {
		err = cerr
	}
	return err
}
