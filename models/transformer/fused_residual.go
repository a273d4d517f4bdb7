package transformer

import (
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
)

// residualNorm is what the fused attention and feed-forward sub-layers share: the
// residual connection around their branch, with its dropout, and the layer norm
// of the residual sum (post-LN) or of the branch's input (pre-LN).
type residualNorm struct {
	preLN     bool
	eps       float64
	residDrop bool
	st        *graph.Runs // shared by the node and its gradient nodes
}

// Runs implements graph.Stateful: a program lends the sub-layer its scratch.
func (s residualNorm) Runs() *graph.Runs { return s.st }

// subForward counts a forward pass of the sub-layer k and runs its forward pass
// in out's element type.
func subForward[K any](k K, st *graph.Runs, out *tensor.Dense, in []*tensor.Dense,
	f32 func(K, []float32, []*tensor.Dense), f64 func(K, []float64, []*tensor.Dense)) error {
	st.Forward()
	return graph.Dispatch(out.Dtype(),
		func() { f32(k, graph.Slice[float32](out), in) },
		func() { f64(k, graph.Slice[float64](out), in) })
}

// subBackward runs the backward pass of the sub-layer k (named what in errors)
// for input wrt in grad's element type, g being the output's gradient.
func subBackward[K any](k K, st *graph.Runs, what string, grad *tensor.Dense, wrt int, in []*tensor.Dense, g *tensor.Dense,
	f32 func(K, []float32, int, []*tensor.Dense, []float32), f64 func(K, []float64, int, []*tensor.Dense, []float64)) error {
	if err := st.Started(what); err != nil {
		return err
	}
	return graph.Dispatch(grad.Dtype(),
		func() { f32(k, graph.Slice[float32](grad), wrt, in, graph.RowMajor[float32](g)) },
		func() { f64(k, graph.Slice[float64](grad), wrt, in, graph.RowMajor[float64](g)) })
}

// normBufs are what a sub-layer keeps of its residual connection and norm.
type normBufs[T graph.Float] struct {
	n    []T       // (N, E) pre-LN: the normalised input
	xhat []T       // (N, E) normalised rows of the layer norm
	rstd []float64 // (N) 1/sqrt(var + eps) of each row
	dres []T       // (N, E) post-LN: gradient of the residual sum
	dxin []T       // (N, E) gradient of the branch's input
}

// branchInput sizes the buffers for n rows of width e and returns the input of
// the branch: x itself post-LN, its normalised rows pre-LN.
func (nb *normBufs[T]) branchInput(s residualNorm, x, lw, lb []T, n, e int) []T {
	nb.xhat, nb.rstd = graph.Scratch(s.st, nb.xhat, n*e), graph.Scratch(s.st, nb.rstd, n)
	if !s.preLN {
		return x
	}
	nb.n = graph.Scratch(s.st, nb.n, n*e)
	graph.LayerNormRows(nb.n, nb.xhat, nb.rstd, x, lw, lb, e, s.eps)
	return nb.n
}

// output writes x + drop(y) into out (pre-LN), or LN(x + drop(y)) after
// writing the sum into y (post-LN); rdrop nil is no dropout.
func (nb *normBufs[T]) output(s residualNorm, out, x, y, rdrop, lw, lb []T, e int) {
	sum := out
	if !s.preLN {
		sum = y
	}
	switch {
	case rdrop != nil:
		for i, v := range y {
			sum[i] = x[i] + v*rdrop[i]
		}
	case s.preLN:
		copy(sum, x)
		graph.AddTo(sum, y)
	default: // sum is y
		graph.AddTo(sum, x)
	}
	if !s.preLN {
		graph.LayerNormRows(out, nb.xhat, nb.rstd, y, lw, lb, e, s.eps)
	}
}

// branchGrad writes into dy the gradient of the branch's output, for g the
// gradient of the sub-layer's output.
func (nb *normBufs[T]) branchGrad(s residualNorm, dy, g, rdrop, lw []T, e int) {
	if s.preLN {
		mulInto(dy, g, rdrop)
		return
	}
	nb.dres = graph.Scratch(s.st, nb.dres, len(g))
	graph.LayerNormBackRows(nb.dres, g, nb.xhat, nb.rstd, lw, e, false)
	mulInto(dy, nb.dres, rdrop)
}

// Which gradient normGrad computes.
const (
	gradInput = iota
	gradNormWeight
	gradNormBias
)

// grad writes the gradient of the sub-layer's input x, its norm's weight or its
// norm's bias (which) into grad, once nb.dxin holds the gradient of the
// branch's input.
func (nb *normBufs[T]) grad(s residualNorm, which int, grad, g, lw []T, e int) {
	switch which {
	case gradInput:
		if s.preLN {
			copy(grad, g)
			graph.LayerNormBackRows(grad, nb.dxin, nb.xhat, nb.rstd, lw, e, true)
			return
		}
		for i, v := range nb.dres {
			grad[i] = v + nb.dxin[i]
		}
	case gradNormWeight:
		if s.preLN {
			colSumsProd(grad, nb.dxin, nb.xhat, e)
		} else {
			colSumsProd(grad, g, nb.xhat, e)
		}
	case gradNormBias:
		if s.preLN {
			graph.AddColumnSums(grad, nb.dxin, len(g)/e, e)
		} else {
			graph.AddColumnSums(grad, g, len(g)/e, e)
		}
	}
}
