// Package demo is the date demo: an attention encoder-decoder (a bidirectional
// GRU or LSTM with Bahdanau, dot or general attention, or a Transformer) learns
// to normalise dates written in many formats and languages ("samedi 28 novembre
// 2026", "28/11/2026") to ISO 8601 ("2026-11-28"). The data are drawn fresh at
// every step from datasets.RandomDate, so it needs no dataset; a held-out set of
// dates measures the exact-match accuracy of greedy decoding and beam search.
// The defaults are those of results/demo/default: 800 steps of Adam with a
// warm-up and cosine decay, about 99% exact match.
//
// From Go:
//
//	cfg := demo.DefaultConfig()
//	cfg.MaxSteps = 100
//	sum, err := demo.Run(ctx, cfg, os.Stderr)
//	m, err := demo.Load(sum.Dir) // or the run directory
//	defer m.Close()
//	iso, err := m.Normalize([]string{"28. November 2026", "the 1st of may 1999"}, 4)
package demo
