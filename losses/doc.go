// Package losses builds the loss functions of triad's experiments as nodes of a
// Gorgonia graph: cross-entropy from logits with integer targets (ignore index,
// label smoothing, per-token weights), masked sequence cross-entropy, binary
// cross-entropy with logits, mean squared error, the Kullback-Leibler divergences of
// diagonal Gaussians, the evidence lower bound of a variational autoencoder, and
// the connectionist temporal classification loss (CTC, Graves et al. 2006) with
// greedy and prefix beam-search decoding.
//
// Every function takes nodes and returns a node, so a model adds its loss to the
// graph it builds:
//
//	logits := model.Forward(b, x)                      // (B, T, V)
//	loss, err := losses.SequenceCrossEntropy(logits, targets, mask, losses.CEOptions{})
//	prog, err := b.Compile(loss)
//
// Each loss states its equation and the PyTorch function it mirrors; the tests
// compare values and gradients with PyTorch 1.13 and check every gradient
// numerically in float64. Where PyTorch returns NaN (a mean over zero elements)
// the losses here return 0 with a zero gradient, so that a batch that happens to
// be all padding does not poison training.
//
// Reductions (Reduction) are shared: Mean is a weighted mean over the kept
// elements, Sum a weighted sum, None keeps the elementwise losses, and PerSequence
// (alias PerExample) sums over every axis but the first. Weights and masks are
// inputs, never differentiated; an element of weight 0 contributes exactly 0 to
// the loss and receives a gradient of exactly 0, even when its own loss is Inf or
// NaN.
package losses
