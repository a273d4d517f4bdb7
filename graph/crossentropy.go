package graph

import (
	"fmt"
	"math"
	"strconv"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// DefaultIgnoreIndex is the target value whose rows SoftmaxCrossEntropy ignores
// when CEOptions.IgnoreIndex is nil; PyTorch's default ignore_index.
const DefaultIgnoreIndex = -100

// CEOptions tunes SoftmaxCrossEntropy. The zero value ignores targets equal to
// DefaultIgnoreIndex and does no label smoothing.
type CEOptions struct {
	// IgnoreIndex is the target value marking rows that take no part: their loss
	// and gradient are exactly 0. nil means DefaultIgnoreIndex (-100); use
	// IgnoreClass(i) to set another value, e.g. the id of a padding token.
	IgnoreIndex *int
	// LabelSmoothing is eps in [0, 1]: the target distribution is
	// (1-eps) onehot + eps/C, as in PyTorch's label_smoothing.
	LabelSmoothing float64
}

// IgnoreClass returns a pointer to id, for CEOptions.IgnoreIndex.
func IgnoreClass(id int) *int { return &id }

// Ignored returns the target value whose rows are ignored.
func (o CEOptions) Ignored() int {
	if o.IgnoreIndex == nil {
		return DefaultIgnoreIndex
	}
	return *o.IgnoreIndex
}

// Validate checks the options.
func (o CEOptions) Validate() error {
	if !(o.LabelSmoothing >= 0 && o.LabelSmoothing <= 1) {
		return errors.Errorf("label smoothing %v outside [0, 1]", o.LabelSmoothing)
	}
	return nil
}

// SoftmaxCrossEntropy returns the cross-entropy of softmax(logits) against integer
// class targets, one loss per row, without building a one-hot matrix. The classes
// are on the last axis of logits, shape (..., C); targets (tensor.Int) have the
// leading shape (...), which is also the output's shape: (N, C) logits and (N)
// targets give (N) losses, (B, T, V) and (B, T) give (B, T).
//
// With eps = opts.LabelSmoothing and lse = log sum_c exp(x_c) (computed stably),
// the loss of a row with target t is
//
//	(1-eps) (lse - x_t) + eps mean_c (lse - x_c) = lse - (1-eps) x_t - eps mean_c x_c
//
// which is torch.nn.functional.cross_entropy(logits, targets, reduction="none",
// ignore_index=..., label_smoothing=eps) for (N, C) logits. A row whose target is
// the ignore index has loss 0 and gradient exactly 0; any other target outside
// [0, C) is an error when the graph runs. Backward:
// dx_c = g (softmax(x)_c - (1-eps) [c = t] - eps/C). Targets are not
// differentiated. Reductions (mean over the non-ignored rows, weights, sums per
// sequence) are in package losses.
func SoftmaxCrossEntropy(logits, targets *G.Node, opts CEOptions) (*G.Node, error) {
	if logits == nil || targets == nil {
		return nil, errors.New("softmax cross-entropy: nil input")
	}
	if err := checkFloatNode("softmax cross-entropy", logits); err != nil {
		return nil, err
	}
	if targets.Dtype() != tensor.Int {
		return nil, errors.Errorf("softmax cross-entropy: targets dtype %v, want int", targets.Dtype())
	}
	if err := opts.Validate(); err != nil {
		return nil, errors.Wrap(err, "softmax cross-entropy")
	}
	return Apply(ceKernel{ignore: opts.Ignored(), eps: opts.LabelSmoothing}, logits, targets)
}

type ceKernel struct {
	ignore int
	eps    float64
}

func (k ceKernel) Key() string {
	return fmt.Sprintf("softmaxce(ignore=%d,smoothing=%s)", k.ignore, strconv.FormatFloat(k.eps, 'g', -1, 64))
}

func (k ceKernel) OutputShape(in []tensor.Shape) (tensor.Shape, error) {
	if len(in) != 2 {
		return nil, errors.Errorf("%d inputs, want logits and targets", len(in))
	}
	lg, tg := in[0], in[1]
	if lg.Dims() < 2 {
		return nil, errors.Errorf("logits shape %v: want (..., C) with at least 2 dimensions", lg)
	}
	lead := lg[:lg.Dims()-1]
	if !tg.Eq(lead) {
		return nil, errors.Errorf("targets shape %v, want %v for logits %v", tg, lead, lg)
	}
	return append(tensor.Shape{}, lead...), nil
}

func (ceKernel) Differentiable(int) []bool { return []bool{true, false} }

// ceRows is the number of rows and classes of a logits tensor.
func ceRows(s tensor.Shape) (n, c int) {
	c = s[s.Dims()-1]
	return s.TotalSize() / c, c
}

func (k ceKernel) targets(t *tensor.Dense, c int) ([]int, error) {
	if t.Dtype() != tensor.Int {
		return nil, errors.Errorf("targets dtype %v, want int", t.Dtype())
	}
	ids := Contiguous(t).Ints()
	for i, id := range ids {
		if id != k.ignore && (id < 0 || id >= c) {
			return nil, errors.Errorf("target %d of row %d outside [0, %d) and not the ignore index %d", id, i, c, k.ignore)
		}
	}
	return ids, nil
}

func (k ceKernel) ForwardInto(out *tensor.Dense, in []*tensor.Dense) error {
	n, c := ceRows(in[0].Shape())
	ids, err := k.targets(in[1], c)
	if err != nil {
		return err
	}
	return Dispatch(in[0].Dtype(),
		func() { ceForward(RowMajor[float32](in[0]), ids, Slice[float32](out), n, c, k.ignore, k.eps) },
		func() { ceForward(RowMajor[float64](in[0]), ids, Slice[float64](out), n, c, k.ignore, k.eps) })
}

func (k ceKernel) BackwardInto(dx *tensor.Dense, _ int, in []*tensor.Dense, out, g *tensor.Dense) error {
	n, c := ceRows(in[0].Shape())
	ids, err := k.targets(in[1], c)
	if err != nil {
		return err
	}
	return Dispatch(in[0].Dtype(),
		func() {
			ceBackward(RowMajor[float32](in[0]), ids, RowMajor[float32](out), RowMajor[float32](g), Slice[float32](dx), n, c, k.ignore, k.eps)
		},
		func() {
			ceBackward(RowMajor[float64](in[0]), ids, RowMajor[float64](out), RowMajor[float64](g), Slice[float64](dx), n, c, k.ignore, k.eps)
		})
}

// Overwrites implements Overwriter: every loss and every element of the
// gradient is written.
func (ceKernel) Overwrites(int) bool { return true }

// ceRowStats returns the log-sum-exp of a row (stable) and its mean; a
// float32 row takes its exponentials into exps through ExpsShifted32.
func ceRowStats[T Float](row []T, exps []float32) (lse, mean float64) {
	if r32, ok := any(row).([]float32); ok {
		m, _ := max32(r32)
		for _, v := range r32 {
			mean += float64(v)
		}
		mean /= float64(len(row))
		if math.IsInf(float64(m), 0) {
			return float64(m), mean
		}
		return float64(m) + math.Log(ExpsShifted32(exps, r32, m)), mean
	}
	m := math.Inf(-1)
	for _, v := range row {
		f := float64(v)
		mean += f
		if f > m {
			m = f
		}
	}
	mean /= float64(len(row))
	if math.IsInf(m, 0) {
		return m, mean
	}
	var sum float64
	for _, v := range row {
		sum += math.Exp(float64(v) - m)
	}
	return m + math.Log(sum), mean
}

func ceForward[T Float](x []T, ids []int, loss []T, n, c, ignore int, eps float64) {
	ParallelRows(n, c, func(lo, hi int) {
		var exps []float32 // float32 rows: the vectorised exponentials land here
		if Is32[T]() {
			exps = make([]float32, c)
		}
		for r := lo; r < hi; r++ {
			if ids[r] == ignore {
				loss[r] = 0
				continue
			}
			row := x[r*c : (r+1)*c]
			lse, mean := ceRowStats(row, exps)
			loss[r] = T(lse - (1-eps)*float64(row[ids[r]]) - eps*mean)
		}
	})
}

// ceBackward writes the gradient with respect to the logits. The log-sum-exp of
// each row is recovered from the forward loss, lse = loss + (1-eps) x_t + eps
// mean(x), which saves one exponential per element; its error is the rounding
// error of the stored loss (relative 6e-8 in float32), which becomes a relative
// error of the same size in the softmax.
func ceBackward[T Float](x []T, ids []int, loss, g, dx []T, n, c, ignore int, eps float64) {
	ParallelRows(n, c, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			row, drow := x[r*c:(r+1)*c], dx[r*c:(r+1)*c]
			if ids[r] == ignore {
				clear(drow)
				continue
			}
			var mean float64
			if eps != 0 {
				for _, v := range row {
					mean += float64(v)
				}
				mean /= float64(c)
			}
			t := ids[r]
			lse := float64(loss[r]) + (1-eps)*float64(row[t]) + eps*mean
			gr, off := float64(g[r]), eps/float64(c)
			if r32, ok := any(row).([]float32); ok {
				// e^(v-lse) = e^(v-m) e^(m-lse): the vectorised exponentials
				// after the row's maximum, whose float32 shift is exact
				m, _ := max32(r32)
				d32 := any(drow).([]float32)
				ExpsShifted32(d32, r32, m)
				scale, shift := float32(gr*math.Exp(float64(m)-lse)), float32(gr*off)
				for i, e := range d32 {
					d32[i] = e*scale - shift
				}
			} else {
				for i, v := range row {
					drow[i] = T(gr * (math.Exp(float64(v)-lse) - off))
				}
			}
			drow[t] -= T(gr * (1 - eps))
		}
	})
}
