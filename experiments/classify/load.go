package classify

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"

	"github.com/pkg/errors"

	"github.com/triadml/triad/datasets/vocab"
	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/metrics"
	classifier "github.com/triadml/triad/models/classify"
	"github.com/triadml/triad/train"
)

// Model is a trained run loaded for prediction.
type Model struct {
	// Config is the run's configuration.
	Config Config
	// Labels names the classes, indexed as Prediction.Probs.
	Labels []string
	voc    *vocab.Vocab
	model  *classifier.Classifier
	// progs holds evaluation programs of batch 1 by length, a multiple of 8, so
	// that a few programs serve sentences of every length.
	progs *graph.Programs[int, *classifier.Program]
}

// Prediction is a model's answer for one text.
type Prediction struct {
	// Label is the most probable class.
	Label string
	// Prob is its probability.
	Prob float64
	// Probs holds every class's probability, in the order of Model.Labels.
	Probs []float64
	// Tokens is the number of tokens of the text: above the config's MaxLen,
	// only the first MaxLen were read.
	Tokens int
}

// Load reads the run in dir (a single split's run, or one fold's directory of a
// cross-validated run): its config.json, vocabulary, labels and best checkpoint
// (the last one when it has no best).
func Load(dir string) (*Model, error) {
	if _, err := os.Stat(filepath.Join(dir, "vocab.json")); err != nil {
		if _, err2 := os.Stat(filepath.Join(dir, "fold-01")); err2 == nil {
			return nil, errors.Errorf("%s is a cross-validation run: pass one fold's directory, e.g. %s", dir, filepath.Join(dir, "fold-01"))
		}
		return nil, errors.Wrap(err, "not a classify run")
	}
	m := &Model{Config: DefaultConfig()}
	if err := train.ReadConfig(dir, &m.Config); err != nil {
		return nil, err
	}
	var err error
	if m.voc, err = vocab.LoadVocab(filepath.Join(dir, "vocab.json")); err != nil {
		return nil, err
	}
	raw, err := os.ReadFile(filepath.Join(dir, "labels.json"))
	if err == nil {
		err = json.Unmarshal(raw, &m.Labels)
	}
	if err != nil || len(m.Labels) < 2 {
		return nil, errors.Errorf("%s: want a JSON list of at least 2 label names (%v)", filepath.Join(dir, "labels.json"), err)
	}
	model, store, _, err := train.Restore(dir, m.Config.Seed, func(s *graph.Store) (*classifier.Classifier, error) {
		return classifier.New(s, m.Config.model(m.voc.Len(), len(m.Labels)))
	})
	if err != nil {
		return nil, err
	}
	m.model = model
	m.progs = graph.NewPrograms(func(length int) (*classifier.Program, error) {
		return m.model.Build(store, graph.Eval, 1, length)
	})
	return m, nil
}

// Predict returns the class of each text and the probabilities of every class.
// Texts are tokenized as in training and cut to MaxLen tokens; an empty text
// reads as one unknown token.
func (m *Model) Predict(texts []string) ([]Prediction, error) {
	out := make([]Prediction, len(texts))
	for i, text := range texts {
		toks := m.Config.tokenize(text)
		probs, err := m.probs(m.Config.encode(m.voc, toks))
		if err != nil {
			return nil, err
		}
		best, err := metrics.Argmax(probs)
		if err != nil {
			return nil, err
		}
		out[i] = Prediction{Label: m.Labels[best], Prob: probs[best], Probs: probs, Tokens: len(toks)}
	}
	return out, nil
}

// probs runs one sentence through the program of its length.
func (m *Model) probs(ids []int) ([]float64, error) {
	n := len(m.model.Prepare(ids, math.MaxInt))
	prog, err := m.progs.Get((n + 7) / 8 * 8)
	if err != nil {
		return nil, err
	}
	if _, err := prog.Feed([][]int{ids}, nil); err != nil {
		return nil, err
	}
	if err := prog.Run(); err != nil {
		return nil, err
	}
	logits, err := prog.Logits()
	if err != nil {
		return nil, err
	}
	return classifier.Softmax(logits[0]), nil
}

// Close frees the compiled programs.
func (m *Model) Close() error { return m.progs.Reset() }
