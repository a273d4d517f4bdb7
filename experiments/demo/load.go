package demo

import (
	"unicode/utf8"

	"github.com/pkg/errors"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/train"
)

// Model is a trained demo run loaded for inference.
type Model struct {
	// Config is the run's configuration.
	Config Config
	// Checkpoint is the file the weights came from.
	Checkpoint string
	m          *model
}

// Load reads a demo run: its config.json and its best checkpoint (the last one
// when it has none).
func Load(dir string) (*Model, error) {
	cfg := DefaultConfig()
	if err := train.ReadConfig(dir, &cfg); err != nil {
		return nil, errors.Wrapf(err, "run %s", dir)
	}
	m, _, file, err := train.Restore(dir, cfg.Seed, func(s *graph.Store) (*model, error) {
		m, err := newModelIn(s, cfg)
		return m, errors.Wrapf(err, "run %s", dir)
	})
	if err != nil {
		return nil, err
	}
	return &Model{Config: cfg, Checkpoint: file, m: m}, nil
}

// Normalize writes each date of dates in ISO 8601 (a model that has not learnt
// may write something else): greedily, all dates together, for beam 1; with a
// beam search of that size (and the run's length penalty) for a larger beam.
// A date must have at least one character and at most as many as the longest
// date the model was built for; characters it never saw count as unknown.
func (m *Model) Normalize(dates []string, beam int) ([]string, error) {
	if beam < 1 {
		return nil, errors.Errorf("demo: beam %d, want at least 1", beam)
	}
	for i, d := range dates {
		if n := utf8.RuneCountInString(d); n == 0 || n > m.m.srcLen {
			return nil, errors.Errorf("demo: date %d (%q) has %d characters, want 1 to %d", i, d, n, m.m.srcLen)
		}
	}
	if beam > 1 {
		out, err := m.m.beamSearchAll(dates, beam)
		return out, errors.Wrap(err, "demo")
	}
	out := make([]string, len(dates))
	hyps, err := m.m.greedy(dates)
	if err != nil {
		return nil, errors.Wrap(err, "demo")
	}
	for i, h := range hyps {
		out[i] = m.m.tgt.decode(h.Tokens)
	}
	return out, nil
}

// Close frees the compiled programs.
func (m *Model) Close() error { return m.m.close() }
