package losses

import (
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
)

// CEOptions tunes CrossEntropy and SequenceCrossEntropy. The zero value is
// PyTorch's default: ignore index -100, no label smoothing, no weights, Mean.
type CEOptions struct {
	// IgnoreIndex is the target value whose elements are ignored: loss 0, gradient
	// 0, left out of Mean's denominator. nil means graph.DefaultIgnoreIndex (-100);
	// graph.IgnoreClass(id) sets another, e.g. the padding token's id.
	IgnoreIndex *int
	// LabelSmoothing is eps in [0, 1], PyTorch's label_smoothing.
	LabelSmoothing float64
	// Weights is an optional float node of the targets' shape: per-token weights or
	// a 0/1 mask. Not differentiated.
	Weights *G.Node
	// Reduction is how the per-token losses are combined (default Mean).
	Reduction Reduction
}

func (o CEOptions) graphOptions() graph.CEOptions {
	return graph.CEOptions{IgnoreIndex: o.IgnoreIndex, LabelSmoothing: o.LabelSmoothing}
}

// CrossEntropy is the cross-entropy of softmax(logits) against integer class
// targets, from logits of shape (..., C) (classes on the last axis) and tensor.Int
// targets of shape (...). Per token, with eps the label smoothing and
// lse = log sum_c exp(x_c),
//
//	l = (1-eps) (lse - x_t) + eps mean_c (lse - x_c),
//
// 0 where t is the ignore index; then the reduction applies with the token weights
// w (opt.Weights, or 1) set to 0 on ignored tokens. Mean is
// sum(w l) / sum(w), which without weights is the mean over the non-ignored tokens.
//
// It mirrors torch.nn.functional.cross_entropy(logits, targets,
// ignore_index=..., label_smoothing=eps, reduction=...) for (N, C) logits (PyTorch
// puts the classes of higher-rank inputs on axis 1, here they are on the last axis).
// Per-token weights have no PyTorch argument: they equal
// (w * F.cross_entropy(..., reduction="none")).sum() / (w * kept).sum() for Mean.
// The gradient is w g (softmax(x) - (1-eps) onehot(t) - eps/C) per token.
func CrossEntropy(logits, targets *G.Node, opt CEOptions) (*G.Node, error) {
	per, err := graph.SoftmaxCrossEntropy(logits, targets, opt.graphOptions())
	if err != nil {
		return nil, errors.Wrap(err, "cross-entropy")
	}
	if opt.Weights != nil {
		if err := checkFloat("cross-entropy weights", opt.Weights); err != nil {
			return nil, err
		}
		if !opt.Weights.Shape().Eq(targets.Shape()) {
			return nil, errors.Errorf("cross-entropy: weights shape %v, targets shape %v", opt.Weights.Shape(), targets.Shape())
		}
	}
	out, err := reduce(per, opt.Weights, targets, opt.graphOptions().Ignored(), opt.Reduction)
	return out, errors.Wrap(err, "cross-entropy")
}

// SequenceCrossEntropy is the masked cross-entropy of a batch of sequences:
// logits (B, T, V), tensor.Int targets (B, T) and a float mask (B, T) holding 1 for
// real tokens and 0 for padding (or per-token weights). With the default Mean it
// returns sum_{b,t} m_bt l_bt / sum_{b,t} m_bt, the mean over the unmasked tokens
// of the batch (0 if every token is masked); PerSequence gives the (B) sums
// sum_t m_bt l_bt. l is CrossEntropy's per-token loss, so opt's ignore index and
// label smoothing apply as well; opt.Weights must be nil (mask takes its place).
//
// With a 0/1 mask that is 0 exactly where targets hold the padding id, Mean equals
// PyTorch's F.cross_entropy(logits.reshape(-1, V), targets.reshape(-1),
// ignore_index=pad).
func SequenceCrossEntropy(logits, targets, mask *G.Node, opt CEOptions) (*G.Node, error) {
	if logits == nil || targets == nil || mask == nil {
		return nil, errors.New("sequence cross-entropy: nil input")
	}
	if logits.Dims() != 3 || targets.Dims() != 2 {
		return nil, errors.Errorf("sequence cross-entropy: logits %v and targets %v, want (B, T, V) and (B, T)", logits.Shape(), targets.Shape())
	}
	if opt.Weights != nil {
		return nil, errors.New("sequence cross-entropy: set the mask, not Weights")
	}
	if mask.Dtype() != logits.Dtype() {
		return nil, errors.Errorf("sequence cross-entropy: mask dtype %v, logits dtype %v", mask.Dtype(), logits.Dtype())
	}
	if !mask.Shape().Eq(targets.Shape()) {
		return nil, errors.Errorf("sequence cross-entropy: mask shape %v, targets shape %v", mask.Shape(), targets.Shape())
	}
	if targets.Dtype() != tensor.Int {
		return nil, errors.Errorf("sequence cross-entropy: targets dtype %v, want int", targets.Dtype())
	}
	opt.Weights = mask
	out, err := CrossEntropy(logits, targets, opt)
	return out, errors.Wrap(err, "sequence")
}
