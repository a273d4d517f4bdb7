// Package classify is the sentence classification experiment: sentence polarity
// (rt-polarity, by k-fold cross-validation) and SNIPS intents (train and valid
// splits), with a bidirectional LSTM or GRU and self-attentive pooling, or a
// Transformer encoder, over embeddings learned from scratch. DefaultConfig is the
// configuration of the published rt-polarity figure.
//
// From Go:
//
//	cfg := classify.DefaultConfig()
//	cfg.Dataset, cfg.MaxSteps = "snips", 100
//	sum, err := classify.Run(ctx, cfg, os.Stderr)
//	m, err := classify.Load(sum.Dir) // for cross-validation, a fold's directory
//	defer m.Close()
//	out, err := m.Predict([]string{"play some jazz"})
//
// A run writes, beside the loop's files, result.json (Result), the confusion
// matrix (confusion.txt, confusion.json) and attention.html, the attention
// weights over some validation sentences; a cross-validated run writes these in
// a directory per fold, and the pooled figures (summary.json: CVSummary) at the
// top.
package classify
