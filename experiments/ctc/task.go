package ctc

import (
	"math/rand/v2"
	"slices"

	"github.com/triadml/triad/datasets/audio"
	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/metrics"
	"github.com/triadml/triad/models/acoustic"
	"github.com/triadml/triad/solvers"
	"github.com/triadml/triad/train"
)

// task trains on fresh utterances every step and evaluates on a fixed test set.
type task struct {
	*Recognizer
	solver solvers.Solver
	train  *graph.Programs[int, *acoustic.Program] // by bucket length
	test   [][]audio.Utterance                     // evaluation batches, by increasing length
	// the batch of the next step, drawn in the background with a generator of
	// its own while the current step runs
	ahead    *audio.Utterances
	next     chan aheadBatch
	nextStep int // the step being drawn ahead, -1 for none

	train.Shard // the part of each batch in a data-parallel group (shard.go)
}

func newTask(cfg Config, corpus *audio.DigitCorpus) (*task, error) {
	r, err := newRecognizer(cfg, corpus)
	if err != nil {
		return nil, err
	}
	solver, err := cfg.Solver("adam", solvers.Hyper{"lr": cfg.LR})
	if err != nil {
		return nil, err
	}
	ahead, err := audio.NewUtterances(cfg.utterances(), corpus)
	if err != nil {
		return nil, err
	}
	t := &task{Recognizer: r, solver: solver, ahead: ahead, next: make(chan aheadBatch, 1), nextStep: -1}
	t.train = graph.NewPrograms(func(T int) (*acoustic.Program, error) {
		return r.model.Build(r.store, graph.Train, T, cfg.Batch, cfg.MaxDigits, cfg.masked())
	})
	if err := t.makeTestSet(); err != nil {
		return nil, err
	}
	return t, nil
}

// StepsPerEpoch implements train.Task.
func (t *task) StepsPerEpoch() int { return t.cfg.StepsPerEpoch }

// TrainStep implements train.Task.
func (t *task) TrainStep(step int, noise *rand.Rand) (train.Result, error) {
	us, T, err := t.batch(step)
	if err != nil {
		return train.Result{}, err
	}
	us = t.shardOf(us)
	p, err := t.train.Get(T)
	if err != nil {
		return train.Result{}, err
	}
	if err := p.Feed(sequences(us)); err != nil {
		return train.Result{}, err
	}
	p.SetNoise(noise)
	if err := p.Run(); err != nil {
		return train.Result{}, err
	}
	return train.Result{Loss: p.Loss(), Items: len(us)}, nil
}

// Evaluate decodes the test utterances and returns the digit error rate (edit
// distance over reference digits) of beam search (test_der) and of greedy
// decoding (test_der_greedy), its substitutions, deletions and insertions per
// reference digit (test_sub, test_del, test_ins), the fraction of utterances
// decoded exactly (test_seq_acc, with beam search) and the mean CTC loss per
// digit (test_loss, PyTorch's "mean" over the test set).
func (t *task) Evaluate() (map[string]float64, error) {
	var refs, greedy, beam [][]int
	var loss float64
	for _, us := range t.test {
		T := 0
		for _, u := range us {
			T = max(T, u.Feats.Frames)
		}
		p, err := t.run(us, t.bucket(T))
		if err != nil {
			return nil, err
		}
		g, err := p.Decode(1)
		if err != nil {
			return nil, err
		}
		bs := g
		if t.cfg.Beam > 1 {
			if bs, err = p.Decode(t.cfg.Beam); err != nil {
				return nil, err
			}
		}
		per, err := p.NLL()
		if err != nil {
			return nil, err
		}
		for i, u := range us {
			refs = append(refs, u.Digits)
			greedy = append(greedy, digits(g[i]))
			beam = append(beam, digits(bs[i]))
			loss += per[i] / float64(len(u.Digits))
		}
	}
	der, al, err := metrics.ErrorRate(refs, beam)
	if err != nil {
		return nil, err
	}
	derGreedy, _, err := metrics.ErrorRate(refs, greedy)
	if err != nil {
		return nil, err
	}
	exact := 0
	for i := range refs {
		if slices.Equal(refs[i], beam[i]) {
			exact++
		}
	}
	return map[string]float64{
		"test_der":        der,
		"test_der_greedy": derGreedy,
		"test_seq_acc":    float64(exact) / float64(len(refs)),
		"test_loss":       loss / float64(len(refs)),
		"test_sub":        float64(al.Substitutions) / float64(al.RefLen()),
		"test_del":        float64(al.Deletions) / float64(al.RefLen()),
		"test_ins":        float64(al.Insertions) / float64(al.RefLen()),
	}, nil
}
