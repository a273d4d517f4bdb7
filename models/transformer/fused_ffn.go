package transformer

import (
	"fmt"
	"math"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
)

// ffSubKernel is the feed-forward sub-layer of a Transformer layer as one graph
// node: post-LN out = LN(x + drop(W2 drop(act(W1 x + b1)) + b2)), or pre-LN
// out = x + drop(W2 drop(act(W1 LN(x) + b1)) + b2), act being relu or the exact
// gelu. Forward keeps the pre-activations and the dropped activations; the
// first gradient requested in a run computes the gradient of the
// pre-activations dH (and of the norm's input), from which dX = dH W1 (+ the
// residual), dW1 = dH^T X, dW2 = dY^T A, ... are one product or sum each.
//
// Inputs: x (B, T, E), linear1.weight (F, E), linear1.bias (F), linear2.weight
// (E, F), linear2.bias (E), norm weight (E), norm bias (E), then, when present,
// the hidden dropout mask (B, T, F) and the residual dropout mask (B, T, E).
type ffSubKernel struct {
	residualNorm
	gelu    bool
	hidDrop bool
}

// ffBufs holds what a fused feed-forward sub-layer keeps between its passes
// (*ffBufs[float32] or *ffBufs[float64] in its graph.Runs).
type ffBufs[T graph.Float] struct {
	normBufs[T]
	h  []T // (N, F) pre-activations
	a  []T // (N, F) activations after dropout
	y  []T // (N, E) output of linear2, then the residual sum (post-LN)
	dy []T // (N, E) gradient of linear2's output
	dh []T // (N, F) gradient of the pre-activations
}

func newFFSubKernel(gelu, preLN bool, eps float64, hidDrop, residDrop bool) ffSubKernel {
	return ffSubKernel{residualNorm: residualNorm{preLN: preLN, eps: eps, residDrop: residDrop, st: &graph.Runs{}}, gelu: gelu, hidDrop: hidDrop}
}

func (k ffSubKernel) Key() string {
	return fmt.Sprintf("transformer.fused_ff(gelu=%t,preln=%t,eps=%g,hiddrop=%t,residdrop=%t)@%p", k.gelu, k.preLN, k.eps, k.hidDrop, k.residDrop, k.st)
}

func (k ffSubKernel) nIn() int         { return 7 + btoi(k.hidDrop) + btoi(k.residDrop) }
func (k ffSubKernel) hidDropAt() int   { return optAt(7, k.hidDrop) }
func (k ffSubKernel) residDropAt() int { return optAt(7+btoi(k.hidDrop), k.residDrop) }
func (k ffSubKernel) Differentiable(n int) []bool {
	d := make([]bool, n)
	for i := 0; i < n && i < 7; i++ {
		d[i] = true
	}
	return d
}

func (k ffSubKernel) OutputShape(in []tensor.Shape) (tensor.Shape, error) {
	if len(in) != k.nIn() {
		return nil, errors.Errorf("fused feed-forward: %d inputs, want %d", len(in), k.nIn())
	}
	x := in[0]
	if x.Dims() < 2 || in[1].Dims() != 2 {
		return nil, errors.Errorf("fused feed-forward: input %v, linear1 %v", x, in[1])
	}
	e, f := x[x.Dims()-1], in[1][0]
	want := []tensor.Shape{{f, e}, {f}, {e, f}, {e}, {e}, {e}}
	for i, w := range want {
		if !in[1+i].Eq(w) {
			return nil, errors.Errorf("fused feed-forward: parameter %d has shape %v, want %v", i, in[1+i], w)
		}
	}
	if i := k.hidDropAt(); i >= 0 && in[i].TotalSize() != x.TotalSize()/e*f {
		return nil, errors.Errorf("fused feed-forward: hidden dropout mask %v for input %v and width %d", in[i], x, f)
	}
	if i := k.residDropAt(); i >= 0 && !in[i].Eq(x) {
		return nil, errors.Errorf("fused feed-forward: output dropout mask %v, want %v", in[i], x)
	}
	return x.Clone(), nil
}

func (k ffSubKernel) ForwardInto(out *tensor.Dense, in []*tensor.Dense) error {
	return subForward(k, k.st, out, in, ffForward[float32], ffForward[float64])
}

func (k ffSubKernel) BackwardInto(grad *tensor.Dense, wrt int, in []*tensor.Dense, _, g *tensor.Dense) error {
	return subBackward(k, k.st, "fused feed-forward", grad, wrt, in, g, ffBackward[float32], ffBackward[float64])
}

// ffSizes returns the rows, width and hidden width.
func ffSizes(in []*tensor.Dense) (n, e, f int) {
	s := in[0].Shape()
	e = s[s.Dims()-1]
	return s.TotalSize() / e, e, in[1].Shape()[0]
}

func ffForward[T graph.Float](k ffSubKernel, out []T, in []*tensor.Dense) {
	n, e, f := ffSizes(in)
	bf := graph.Buffers[ffBufs[T]](k.st)
	bf.h, bf.a, bf.y = graph.Scratch(k.st, bf.h, n*f), graph.Scratch(k.st, bf.a, n*f), graph.Scratch(k.st, bf.y, n*e)
	x, w1, b1, w2, b2, lw, lb := floats[T](in, 0), floats[T](in, 1), floats[T](in, 2), floats[T](in, 3), floats[T](in, 4), floats[T](in, 5), floats[T](in, 6)
	hdrop, rdrop := floats[T](in, k.hidDropAt()), floats[T](in, k.residDropAt())
	src := bf.branchInput(k.residualNorm, x, lw, lb, n, e)
	project(bf.h, f, src, w1, b1, n, e, 0, f)
	activate(bf.a, bf.h, hdrop, k.gelu)
	project(bf.y, e, bf.a, w2, b2, n, f, 0, e)
	bf.output(k.residualNorm, out, x, bf.y, rdrop, lw, lb, e)
}

// gelu returns x Phi(x), as graph.GELU.
func gelu(x float64) float64 { return x * 0.5 * (1 + math.Erf(x/math.Sqrt2)) }

// geluGrad returns Phi(x) + x phi(x), the derivative of gelu.
func geluGrad(x float64) float64 {
	return 0.5*(1+math.Erf(x/math.Sqrt2)) + x*math.Exp(-x*x/2)/math.Sqrt(2*math.Pi)
}

// activate sets a = act(h) * drop (drop nil: no dropout).
func activate[T graph.Float](a, h, drop []T, useGelu bool) {
	if !useGelu && graph.Is32[T]() {
		a32, h32, d32 := graph.As32(a), graph.As32(h), graph.As32(drop)
		graph.ParallelElems(len(h32), func(lo, hi int) {
			var d []float32
			if d32 != nil {
				d = d32[lo:hi]
			}
			relu32(a32[lo:hi], h32[lo:hi], d)
		})
		return
	}
	for i, v := range h {
		var y T
		switch {
		case useGelu:
			y = T(gelu(float64(v)))
		case v > 0:
			y = v
		}
		if drop != nil {
			y *= drop[i]
		}
		a[i] = y
	}
}

func ffPrepare[T graph.Float](k ffSubKernel, bf *ffBufs[T], in []*tensor.Dense, g []T) {
	n, e, f := ffSizes(in)
	w1, w2, lw := floats[T](in, 1), floats[T](in, 3), floats[T](in, 5)
	hdrop, rdrop := floats[T](in, k.hidDropAt()), floats[T](in, k.residDropAt())
	bf.dy, bf.dh, bf.dxin = graph.Scratch(k.st, bf.dy, n*e), graph.Scratch(k.st, bf.dh, n*f), graph.Scratch(k.st, bf.dxin, n*e)
	bf.branchGrad(k.residualNorm, bf.dy, g, rdrop, lw, e)
	// dA = dY W2, then dH = dA drop act'(H)
	graph.Gemm(false, false, n, f, e, bf.dy, e, w2, f, 0, bf.dh, f)
	if !k.gelu && graph.Is32[T]() {
		dh32, h32, d32 := graph.As32(bf.dh), graph.As32(bf.h), graph.As32(hdrop)
		graph.ParallelElems(len(h32), func(lo, hi int) {
			var d []float32
			if d32 != nil {
				d = d32[lo:hi]
			}
			reluBack32(dh32[lo:hi], h32[lo:hi], d)
		})
		graph.Gemm(false, false, n, e, f, bf.dh, f, w1, e, 0, bf.dxin, e)
		return
	}
	for i, hv := range bf.h {
		var d T
		switch {
		case k.gelu:
			d = bf.dh[i] * T(geluGrad(float64(hv)))
		case hv > 0:
			d = bf.dh[i]
		}
		if hdrop != nil {
			d *= hdrop[i]
		}
		bf.dh[i] = d
	}
	graph.Gemm(false, false, n, e, f, bf.dh, f, w1, e, 0, bf.dxin, e)
}

func ffBackward[T graph.Float](k ffSubKernel, grad []T, wrt int, in []*tensor.Dense, g []T) {
	bf := graph.Buffers[ffBufs[T]](k.st)
	k.st.Once(func() { ffPrepare(k, bf, in, g) })
	n, e, f := ffSizes(in)
	x, lw := floats[T](in, 0), floats[T](in, 5)
	src := x
	if k.preLN {
		src = bf.n
	}
	switch wrt {
	case 0:
		bf.grad(k.residualNorm, gradInput, grad, g, lw, e)
	case 1: // linear1.weight: dH^T X
		graph.Gemm(true, false, f, e, n, bf.dh, f, src, e, 0, grad, e)
	case 2:
		graph.AddColumnSums(grad, bf.dh, n, f)
	case 3: // linear2.weight: dY^T A
		graph.Gemm(true, false, e, f, n, bf.dy, e, bf.a, f, 0, grad, f)
	case 4:
		graph.AddColumnSums(grad, bf.dy, n, e)
	case 5:
		bf.grad(k.residualNorm, gradNormWeight, grad, g, lw, e)
	case 6:
		bf.grad(k.residualNorm, gradNormBias, grad, g, lw, e)
	}
}

var _ graph.Kernel = ffSubKernel{}

// Overwrites implements graph.Overwriter: the output and the gradients of x and
// the two weight matrices are written whole; the others are column sums.
func (ffSubKernel) Overwrites(wrt int) bool { return wrt <= 1 || wrt == 3 }
