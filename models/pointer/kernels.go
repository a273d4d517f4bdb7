package pointer

import (
	"math"
	"sync"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
)

// The package's own kernels, each with a float64 gradient check (kernels_test.go):
//
//	mixture:     nll_bt = -log P_bt(w*_bt) with P = p_gen P_vocab + (1 - p_gen) copy

// Mixture returns the negative log-likelihood of every target token under the
// pointer-generator's final distribution (See et al. 2017, eq. 9):
//
//	P(w) = p_gen P_vocab(w) + (1 - p_gen) sum_{i: src_i = w} a_i,   p_gen = sigmoid(z)
//
// over the extended vocabulary, without building it. logits (B, T, V) are the
// vocabulary logits (P_vocab = softmax of a row), attn (B, T, S) the attention
// weights over the source, z (B, T, 1) the logit of p_gen, src (B, S) the
// source's extended ids (tensor.Int: below V a vocabulary word, V+k the source's
// k-th out-of-vocabulary word) and target (B, T) the targets' extended ids. The
// result is (B, T). A target id of V or more has P_vocab = 0 and can only be
// copied; a target whose probability is zero (an id of V or more that is not in
// its source) is an error at run time. The source ids and targets are not
// differentiated. Backward, with A = p_gen P_vocab(w*), C = (1 - p_gen) copy(w*),
// P = A + C and g the incoming gradient:
//
//	d logits_j = g (A/P) (P_vocab(j) - [j = w*])
//	d a_i      = -g (1 - p_gen)/P [src_i = w*]
//	d z        = -g ((1 - p_gen) A/P - p_gen C/P)
func Mixture(logits, attn, z, src, target *G.Node) (*G.Node, error) {
	for i, n := range []*G.Node{logits, attn, z, src, target} {
		if n == nil {
			return nil, errors.Errorf("pointer mixture: input %d is nil", i)
		}
	}
	if src.Dtype() != tensor.Int || target.Dtype() != tensor.Int {
		return nil, errors.Errorf("pointer mixture: source ids %v and targets %v must be tensor.Int", src.Dtype(), target.Dtype())
	}
	if attn.Dtype() != logits.Dtype() || z.Dtype() != logits.Dtype() {
		return nil, errors.Errorf("pointer mixture: dtypes logits %v, attention %v, p_gen logit %v differ", logits.Dtype(), attn.Dtype(), z.Dtype())
	}
	return graph.Apply(mixtureKernel{st: &mixState{}}, logits, attn, z, src, target)
}

// mixtureKernel computes Mixture. Its forward pass keeps the log-sum-exp of every
// logits row for the backward pass of the same run (st, shared by the node and
// its gradient nodes), which saves one pass of exponentials.
type mixtureKernel struct{ st *mixState }

// mixState holds the log-sum-exp of each row of the last forward pass.
type mixState struct{ lse []float64 }

func (mixtureKernel) Key() string { return "pointer.mixture" }

func (mixtureKernel) OutputShape(in []tensor.Shape) (tensor.Shape, error) {
	if len(in) != 5 {
		return nil, errors.Errorf("pointer mixture: %d inputs, want 5", len(in))
	}
	lg, at, z, src, tg := in[0], in[1], in[2], in[3], in[4]
	if lg.Dims() != 3 || at.Dims() != 3 || tg.Dims() != 2 || src.Dims() != 2 {
		return nil, errors.Errorf("pointer mixture: logits %v, attention %v, source %v, targets %v: want (B,T,V), (B,T,S), (B,S), (B,T)", lg, at, src, tg)
	}
	b, t := lg[0], lg[1]
	if at[0] != b || at[1] != t || src[0] != b || src[1] != at[2] || tg[0] != b || tg[1] != t || z.TotalSize() != b*t {
		return nil, errors.Errorf("pointer mixture: logits %v, attention %v, p_gen logit %v, source %v, targets %v do not agree", lg, at, z, src, tg)
	}
	return tensor.Shape{b, t}, nil
}

func (mixtureKernel) Differentiable(int) []bool { return []bool{true, true, true, false, false} }

// mixDims are the sizes of a mixture: rows = B*T, each with V logits and S
// source positions; per is T (rows per sequence).
type mixDims struct{ rows, v, s, per int }

func dimsOf(in []*tensor.Dense) mixDims {
	lg, at := in[0].Shape(), in[1].Shape()
	return mixDims{rows: lg[0] * lg[1], v: lg[2], s: at[2], per: lg[1]}
}

func (k mixtureKernel) ForwardInto(out *tensor.Dense, in []*tensor.Dense) error {
	d := dimsOf(in)
	if cap(k.st.lse) < d.rows {
		k.st.lse = make([]float64, d.rows)
	}
	k.st.lse = k.st.lse[:d.rows]
	src, tgt := graph.Contiguous(in[3]).Ints(), graph.Contiguous(in[4]).Ints()
	return graph.Dispatch(in[0].Dtype(),
		func() error {
			return mixForward(d, graph.RowMajor[float32](in[0]), graph.RowMajor[float32](in[1]), graph.RowMajor[float32](in[2]), src, tgt, k.st.lse, graph.Slice[float32](out))
		},
		func() error {
			return mixForward(d, graph.RowMajor[float64](in[0]), graph.RowMajor[float64](in[1]), graph.RowMajor[float64](in[2]), src, tgt, k.st.lse, graph.Slice[float64](out))
		})
}

func (k mixtureKernel) BackwardInto(grad *tensor.Dense, wrt int, in []*tensor.Dense, out, gradOut *tensor.Dense) error {
	d := dimsOf(in)
	if len(k.st.lse) != d.rows {
		return errors.New("pointer mixture: gradient requested before the forward pass")
	}
	src, tgt := graph.Contiguous(in[3]).Ints(), graph.Contiguous(in[4]).Ints()
	return graph.Dispatch(in[0].Dtype(),
		func() {
			mixBackward(d, wrt, graph.RowMajor[float32](in[0]), graph.RowMajor[float32](in[1]), graph.RowMajor[float32](in[2]), src, tgt, k.st.lse,
				graph.RowMajor[float32](out), graph.RowMajor[float32](gradOut), graph.Slice[float32](grad))
		},
		func() {
			mixBackward(d, wrt, graph.RowMajor[float64](in[0]), graph.RowMajor[float64](in[1]), graph.RowMajor[float64](in[2]), src, tgt, k.st.lse,
				graph.RowMajor[float64](out), graph.RowMajor[float64](gradOut), graph.Slice[float64](grad))
		})
}

var _ graph.Kernel = mixtureKernel{}

// logSigmoid returns log sigmoid(z) = -softplus(-z), stably.
func logSigmoid(z float64) float64 {
	if z >= 0 {
		return -math.Log1p(math.Exp(-z))
	}
	return z - math.Log1p(math.Exp(z))
}

// logAddExp returns log(exp(a) + exp(b)), -Inf when both are -Inf.
func logAddExp(a, b float64) float64 {
	if a < b {
		a, b = b, a
	}
	if math.IsInf(a, -1) {
		return a
	}
	return a + math.Log1p(math.Exp(b-a))
}

// mixTerms returns, for one row, log A = log p_gen + log P_vocab(w) and
// log C = log(1 - p_gen) + log copy(w) (either -Inf when its term is zero),
// and log P = logaddexp(log A, log C).
func mixTerms[T graph.Float](x []T, lse float64, attn []T, z float64, src []int, w int) (logA, logC, logP float64) {
	logA, logC = math.Inf(-1), math.Inf(-1)
	if w < len(x) {
		logA = logSigmoid(z) + float64(x[w]) - lse
	}
	var c float64
	for i, id := range src {
		if id == w {
			c += float64(attn[i])
		}
	}
	if c > 0 {
		logC = logSigmoid(-z) + math.Log(c)
	}
	return logA, logC, logAddExp(logA, logC)
}

func mixForward[T graph.Float](d mixDims, x, attn, z []T, src, tgt []int, lse []float64, nll []T) error {
	var mu sync.Mutex
	var first error
	graph.ParallelRows(d.rows, d.v, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			b := r / d.per
			row := x[r*d.v : (r+1)*d.v]
			lse[r] = graph.LogSumExpRow(row)
			w := tgt[r]
			if w < 0 {
				setErr(&mu, &first, errors.Errorf("pointer mixture: target %d of row %d is negative", w, r))
				continue
			}
			_, _, logP := mixTerms(row, lse[r], attn[r*d.s:(r+1)*d.s], float64(z[r]), src[b*d.s:(b+1)*d.s], w)
			if math.IsInf(logP, -1) {
				setErr(&mu, &first, errors.Errorf("pointer mixture: target %d of row %d has probability 0 (outside the vocabulary of %d and not in its source)", w, r, d.v))
				continue
			}
			nll[r] = T(-logP)
		}
	})
	return first
}

func setErr(mu *sync.Mutex, dst *error, err error) {
	mu.Lock()
	if *dst == nil {
		*dst = err
	}
	mu.Unlock()
}

func mixBackward[T graph.Float](d mixDims, wrt int, x, attn, z []T, src, tgt []int, lse []float64, nll, g, grad []T) {
	graph.ParallelRows(d.rows, d.v, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			b := r / d.per
			gr := float64(g[r])
			if gr == 0 {
				continue // masked tokens: nothing to propagate
			}
			w := tgt[r]
			row := x[r*d.v : (r+1)*d.v]
			zr := float64(z[r])
			logA, logC, _ := mixTerms(row, lse[r], attn[r*d.s:(r+1)*d.s], zr, src[b*d.s:(b+1)*d.s], w)
			logP := -float64(nll[r])
			ratioA, ratioC := math.Exp(logA-logP), math.Exp(logC-logP)
			switch wrt {
			case 0: // logits
				if ratioA == 0 {
					continue
				}
				dst := grad[r*d.v : (r+1)*d.v]
				s := gr * ratioA
				for j, v := range row {
					dst[j] = T(s * math.Exp(float64(v)-lse[r]))
				}
				dst[w] -= T(s)
			case 1: // attention weights
				dst := grad[r*d.s : (r+1)*d.s]
				s := -gr * math.Exp(logSigmoid(-zr)-logP) // -(1 - p_gen)/P
				for i, id := range src[b*d.s : (b+1)*d.s] {
					if id == w {
						dst[i] = T(s)
					}
				}
			case 2: // p_gen logit
				p := math.Exp(logSigmoid(zr))
				grad[r] = T(-gr * ((1-p)*ratioA - p*ratioC))
			}
		}
	})
}
