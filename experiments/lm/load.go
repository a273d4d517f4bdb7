package lm

import (
	"math"
	"path/filepath"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/datasets/vocab"
	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/models/rnn"
	"github.com/triadml/triad/train"
)

// Model is a finished run loaded for generation: its configuration, vocabulary
// and best (else last) weights.
type Model struct {
	// Config is the run's configuration.
	Config Config
	// Vocab is the run's vocabulary.
	Vocab *vocab.Vocab
	lm    *rnn.LM
	store *graph.Store
	tok   vocab.Tokenizer
	step  *rnn.LMProgram // the one-step program, built at the first Sample
	state rnn.LMState
}

// Load reads the run in dir: config.json, vocab.json and the checkpoint. A
// missing or unreadable file is a train.Usage error.
func Load(dir string) (*Model, error) {
	cfg := DefaultConfig()
	if err := train.ReadConfig(dir, &cfg); err != nil {
		return nil, train.Usage(err)
	}
	voc, err := vocab.LoadVocab(filepath.Join(dir, "vocab.json"))
	if err != nil {
		return nil, train.Usage(err)
	}
	tok, err := tokenizer(cfg.Level)
	if err != nil {
		return nil, train.Usage(err)
	}
	m, store, _, err := train.Restore(dir, cfg.Seed, func(s *graph.Store) (*rnn.LM, error) {
		m, _, err := newModelIn(s, cfg, voc.Len())
		return m, err
	})
	if err != nil {
		return nil, train.Usage(err)
	}
	return &Model{Config: cfg, Vocab: voc, lm: m, store: store, tok: tok}, nil
}

// SampleOptions says how Sample draws.
type SampleOptions struct {
	// Temperature divides the logits before the softmax: lower is more
	// conservative. It must be positive.
	Temperature float64
	// N is the number of tokens to generate after the prime.
	N int
	// Seed seeds the sampling stream.
	Seed uint64
}

// DefaultSampleOptions returns temperature 0.8, 500 tokens, seed 1.
func DefaultSampleOptions() SampleOptions {
	return SampleOptions{Temperature: 0.8, N: 500, Seed: 1}
}

// Validate reports a temperature that is not positive or a negative count.
func (o SampleOptions) Validate() error {
	if !(o.Temperature > 0) || math.IsInf(o.Temperature, 1) {
		return errors.Errorf("temperature must be positive and finite, got %g", o.Temperature)
	}
	if o.N < 0 {
		return errors.Errorf("n must not be negative, got %d", o.N)
	}
	return nil
}

// Sample returns prime followed by opts.N tokens, each drawn from
// softmax(logits / temperature) of a one-step graph that shares the run's
// weights, the prime having been fed one token at a time. The same options give
// the same text. Bad options and an empty prime are train.Usage errors.
func (m *Model) Sample(prime string, opts SampleOptions) (string, error) {
	if err := opts.Validate(); err != nil {
		return "", train.Usage(err)
	}
	if m.step == nil {
		p, err := m.lm.Build(m.store, graph.Eval, 1, 1, true)
		if err != nil {
			return "", err
		}
		m.step, m.state = p, m.lm.NewState(tensor.Float32, 1)
	}
	m.state.Zero()
	rng := graph.NewRNG(opts.Seed, "sample")
	ids := m.Vocab.Encode(m.tok.Tokenize(prime))
	if len(ids) == 0 {
		return "", train.Usage(errors.New("the prime is empty"))
	}
	out := append([]string(nil), m.Vocab.Decode(ids)...)
	var logits []float64
	var err error
	for _, id := range ids {
		if logits, err = m.next(id); err != nil {
			return "", err
		}
	}
	for i := 0; i < opts.N; i++ {
		id := sampleSoftmax(logits, opts.Temperature, rng.Float64(), vocab.NumSpecial)
		out = append(out, m.Vocab.Decode([]int{id})...)
		if logits, err = m.next(id); err != nil {
			return "", err
		}
	}
	return m.tok.Detokenize(out), nil
}

// next feeds one token and returns the logits of the token after it.
func (m *Model) next(id int) ([]float64, error) {
	if err := runWindow(m.step, []int{id}, []int{0}, m.state); err != nil {
		return nil, err
	}
	logits, err := m.step.Output("logits")
	if err != nil {
		return nil, err
	}
	return graph.Float64s(logits), nil
}

// Close frees the compiled program.
func (m *Model) Close() error {
	if m.step == nil {
		return nil
	}
	err := m.step.Close()
	m.step = nil
	return err
}

// sampleSoftmax draws an index from softmax(logits / temp) by inverting the
// cumulative distribution at u in [0, 1), never choosing the special tokens below
// skip (pad, unk, bos, eos).
func sampleSoftmax(logits []float64, temp, u float64, skip int) int {
	maxv := math.Inf(-1)
	for _, v := range logits[skip:] {
		maxv = math.Max(maxv, v)
	}
	p := make([]float64, len(logits))
	var z float64
	for i := skip; i < len(logits); i++ {
		p[i] = math.Exp((logits[i] - maxv) / temp)
		z += p[i]
	}
	acc := 0.0
	for i := skip; i < len(p); i++ {
		acc += p[i] / z
		if u < acc {
			return i
		}
	}
	return len(p) - 1
}
