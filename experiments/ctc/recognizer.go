package ctc

import (
	"slices"
	"strconv"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/datasets/audio"
	"github.com/triadml/triad/datasets/batch"
	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/models/acoustic"
	"github.com/triadml/triad/models/rnn"
	"github.com/triadml/triad/train"
)

// classes are the CTC classes: 0 the blank, d+1 the digit d.
const classes = 11

// Recognizer is a trained run loaded for recognition: the network, its
// evaluation programs by padded length, and the feature pipeline of the run.
type Recognizer struct {
	cfg     Config
	gen     *audio.Utterances
	model   *acoustic.Model
	store   *graph.Store
	buckets []int
	eval    *graph.Programs[int, *acoustic.Program]
}

// newRecognizer creates the network of cfg with freshly initialised weights
// (seeded by cfg.Seed); corpus, when not nil, is what its generator draws from.
func newRecognizer(cfg Config, corpus *audio.DigitCorpus) (*Recognizer, error) {
	return newRecognizerIn(graph.NewStore(tensor.Float32, graph.NewRNG(cfg.Seed, "init")), cfg, corpus)
}

// newRecognizerIn is newRecognizer with the parameters created in store.
func newRecognizerIn(store *graph.Store, cfg Config, corpus *audio.DigitCorpus) (*Recognizer, error) {
	buckets, err := batch.ParseLengthSet(cfg.Buckets)
	if err != nil {
		return nil, train.Usage(err)
	}
	gen, err := audio.NewUtterances(cfg.utterances(), corpus)
	if err != nil {
		return nil, err
	}
	model, err := acoustic.New(store, acoustic.Config{Cell: rnn.Cell(cfg.Cell), Input: gen.InputDim(), Hidden: cfg.Hidden,
		Layers: cfg.Layers, Dropout: cfg.Dropout, Classes: classes})
	if err != nil {
		return nil, train.Usage(err)
	}
	r := &Recognizer{cfg: cfg, gen: gen, model: model, store: store, buckets: buckets}
	r.eval = graph.NewPrograms(func(T int) (*acoustic.Program, error) {
		return model.Build(store, graph.Eval, T, cfg.EvalBatch, cfg.MaxDigits, cfg.masked())
	})
	return r, nil
}

// Load reads the run in dir: its config.json and its best checkpoint (the last
// one when it has none).
func Load(dir string) (*Recognizer, error) {
	cfg := DefaultConfig()
	if err := train.ReadConfig(dir, &cfg); err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, errors.Wrapf(err, "%s/config.json", dir)
	}
	r, _, _, err := train.Restore(dir, cfg.Seed, func(s *graph.Store) (*Recognizer, error) { return newRecognizerIn(s, cfg, nil) })
	return r, err
}

// Close frees the compiled programs.
func (r *Recognizer) Close() error { return r.eval.Reset() }

// padTo returns the length utterances of a T-frame batch are padded to: T when
// padding is silence, 0 (none) when it is masked.
func (r *Recognizer) padTo(T int) int {
	if r.cfg.masked() {
		return 0
	}
	return T
}

// bucket returns the smallest bucket that holds frames, or frames when none does.
func (r *Recognizer) bucket(frames int) int {
	for _, b := range r.buckets {
		if frames <= b {
			return b
		}
	}
	return frames
}

// run feeds a batch of at most EvalBatch utterances to the T-frame evaluation
// program and runs it.
func (r *Recognizer) run(us []audio.Utterance, T int) (*acoustic.Program, error) {
	p, err := r.eval.Get(T)
	if err != nil {
		return nil, err
	}
	if err := p.Feed(sequences(us)); err != nil {
		return nil, err
	}
	return p, p.Run()
}

// sequences returns utterances as the network's rows: their frames and their
// digits as classes.
func sequences(us []audio.Utterance) []acoustic.Sequence {
	out := make([]acoustic.Sequence, len(us))
	for i, u := range us {
		labels := make([]int, len(u.Digits))
		for j, d := range u.Digits {
			labels[j] = d + 1
		}
		out[i] = acoustic.Sequence{Frames: u.Feats.Frames, Dim: u.Feats.Dim, Data: u.Feats.Data, Labels: labels}
	}
	return out
}

// digits maps CTC classes (1-10) to digits.
func digits(cs []int) []int {
	out := make([]int, len(cs))
	for i, c := range cs {
		out[i] = c - 1
	}
	return out
}

// Recognize returns the digits spoken in each utterance (samples at
// audio.FSDDSampleRate, in [-1, 1] as the corpus's), decoded with the run's beam
// width. Utterances are batched by length as the test set is; silence padding,
// if the run pads with silence, is drawn from the run's test seed, so the same
// call gives the same digits.
func (r *Recognizer) Recognize(utterances [][]float64) ([][]int, error) {
	order := make([]int, len(utterances))
	for i, w := range utterances {
		if r.gen.Frames(len(w)) == 0 {
			return nil, errors.Errorf("ctc: utterance %d: %d samples, shorter than a frame", i, len(w))
		}
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return len(utterances[a]) - len(utterances[b]) })
	out := make([][]int, len(utterances))
	for lo := 0; lo < len(order); lo += r.cfg.EvalBatch {
		idx := order[lo:min(lo+r.cfg.EvalBatch, len(order))]
		T := r.bucket(r.gen.Frames(len(utterances[idx[len(idx)-1]])))
		us := make([]audio.Utterance, len(idx))
		for k, i := range idx {
			rng := graph.NewRNG(r.cfg.TestSeed, "ctc/recognize/pad/"+strconv.Itoa(i))
			u, err := r.gen.Features(audio.RawUtterance{Wave: utterances[i]}, r.padTo(T), rng)
			if err != nil {
				return nil, err
			}
			us[k] = u
		}
		p, err := r.run(us, T)
		if err != nil {
			return nil, err
		}
		cs, err := p.Decode(r.cfg.Beam)
		if err != nil {
			return nil, err
		}
		for k, i := range idx {
			out[i] = digits(cs[k])
		}
	}
	return out, nil
}
