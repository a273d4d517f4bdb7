package gpt

import (
	"fmt"
	"math"

	"github.com/pkg/errors"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/blas64"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/models/attention"
)

// The model's own kernels, each with a float64 gradient check (kernels_test.go):
//
//	conv1d:           y = x W + b, W stored (in, out) as GPT-2's Conv1D, or
//	                  y = x W^T for the output layer tied to the (V, E) embedding
//	residual:         y = x + r
//	gelu_tanh:        y = x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
//	layernorm_nobias: y = (x - mean) / sqrt(var + eps) w (Config.Bias false)
//	causal_attention: the heads of a fused (B, T, 3E) projection attended causally
//	                  and merged back into (B, T, E)
//	cached_attention: the same for new positions against a key/value cache (no
//	                  gradient; generation)

// kept is what a node keeps from its forward pass for its backward pass: values
// computed from its input (the GELU's tanh, the layer norm's normalised rows, the
// attention weights) and that input. A backward pass over the same input, as
// within one run of a graph, reads them; one over another input (a kernel run
// outside a graph) recomputes them. The buffers are reused from run to run.
type kept struct {
	bufs any // the kernel's buffers, in the input's element type
	x    any // the input of the last forward pass
}

// keep returns the buffers of type B that st holds for a forward pass over x
// (new ones at the first pass), noting x; with st nil, nil.
func keep[B any, T graph.Float](st *kept, x []T) *B {
	if st == nil {
		return nil
	}
	b, ok := st.bufs.(*B)
	if !ok {
		b = new(B)
		st.bufs = b
	}
	st.x = x
	return b
}

// reuse returns the buffers of type B that the last forward pass kept in st
// when it ran over x; nil otherwise.
func reuse[B any, T graph.Float](st *kept, x []T) *B {
	if st == nil {
		return nil
	}
	xs, ok := st.x.([]T)
	if !ok || len(xs) != len(x) || len(x) == 0 || &xs[0] != &x[0] {
		return nil
	}
	b, _ := st.bufs.(*B)
	return b
}

// ---- conv1d ----

// conv1dKernel computes y = x W + b for x (..., in), W (in, out) and an optional
// bias (out): GPT-2's Conv1D, a linear layer whose weight is stored transposed
// with respect to torch.nn.Linear's. With transposed, W is (out, in) and
// y = x W^T (+ b): the output layer tied to the token embedding (V, E).
type conv1dKernel struct{ transposed bool }

func (k conv1dKernel) Key() string { return fmt.Sprintf("gpt.conv1d(transposed=%t)", k.transposed) }

// dims returns the weight's input and output widths.
func (k conv1dKernel) dims(w tensor.Shape) (in, out int) {
	if k.transposed {
		return w[1], w[0]
	}
	return w[0], w[1]
}

func (k conv1dKernel) OutputShape(in []tensor.Shape) (tensor.Shape, error) {
	x, w := in[0], in[1]
	if w.Dims() != 2 || x.Dims() < 1 {
		return nil, errors.Errorf("conv1d: input %v, weight %v", x, w)
	}
	wi, wo := k.dims(w)
	if x[x.Dims()-1] != wi {
		return nil, errors.Errorf("conv1d: input %v does not match weight %v (transposed %t)", x, w, k.transposed)
	}
	if len(in) == 3 && (in[2].Dims() != 1 || in[2][0] != wo) {
		return nil, errors.Errorf("conv1d: bias %v does not match weight %v", in[2], w)
	}
	out := append(tensor.Shape{}, x[:x.Dims()-1]...)
	return append(out, wo), nil
}

func (conv1dKernel) Differentiable(n int) []bool { return []bool{true, true, true}[:n] }

// Overwrites implements graph.Overwriter: the output and the gradients of x and
// W are written whole; the bias's is accumulated.
func (conv1dKernel) Overwrites(wrt int) bool { return wrt != 2 }

func (k conv1dKernel) ForwardInto(out *tensor.Dense, in []*tensor.Dense) error {
	return graph.Dispatch(out.Dtype(),
		func() { conv1dForward[float32](k, out, in) },
		func() { conv1dForward[float64](k, out, in) })
}

func conv1dForward[T graph.Float](k conv1dKernel, out *tensor.Dense, in []*tensor.Dense) {
	x, w, y := graph.RowMajor[T](in[0]), graph.RowMajor[T](in[1]), graph.Slice[T](out)
	wi, wo := k.dims(in[1].Shape())
	m := len(x) / wi
	var beta T
	if len(in) == 3 {
		bias := graph.RowMajor[T](in[2])
		for i := 0; i < m; i++ {
			copy(y[i*wo:(i+1)*wo], bias)
		}
		beta = 1
	}
	if m == 1 { // a generation step: one matrix-vector product
		r, c := in[1].Shape()[0], in[1].Shape()[1]
		gemv(!k.transposed, r, c, w, x, beta, y)
		return
	}
	graph.Gemm(false, k.transposed, m, wo, wi, x, wi, w, in[1].Shape()[1], beta, y, wo)
}

// gemv computes y = op(A) x + beta y for A (rows, cols), op(A) = A^T when trans.
// With one row of input, a matrix-vector product reads the weight once as it is,
// where a matrix product with one row also repacks it: several times faster for
// the products of a generation step.
func gemv[T graph.Float](trans bool, rows, cols int, a, x []T, beta T, y []T) {
	t := blas.NoTrans
	if trans {
		t = blas.Trans
	}
	switch a := any(a).(type) {
	case []float32:
		blas32.Implementation().Sgemv(t, rows, cols, 1, a, cols, any(x).([]float32), 1, float32(beta), any(y).([]float32), 1)
	case []float64:
		blas64.Implementation().Dgemv(t, rows, cols, 1, a, cols, any(x).([]float64), 1, float64(beta), any(y).([]float64), 1)
	}
}

func (k conv1dKernel) BackwardInto(grad *tensor.Dense, wrt int, in []*tensor.Dense, _, g *tensor.Dense) error {
	return graph.Dispatch(grad.Dtype(),
		func() { conv1dBackward[float32](k, grad, wrt, in, g) },
		func() { conv1dBackward[float64](k, grad, wrt, in, g) })
}

func conv1dBackward[T graph.Float](k conv1dKernel, grad *tensor.Dense, wrt int, in []*tensor.Dense, gt *tensor.Dense) {
	x, w, g, d := graph.RowMajor[T](in[0]), graph.RowMajor[T](in[1]), graph.RowMajor[T](gt), graph.Slice[T](grad)
	wi, wo := k.dims(in[1].Shape())
	m := len(x) / wi
	switch {
	case wrt == 0: // dx (m, in) = g (m, out) op(W)^T
		graph.Gemm(false, !k.transposed, m, wi, wo, g, wo, w, in[1].Shape()[1], 0, d, wi)
	case wrt == 1 && !k.transposed: // dW (in, out) = x^T g
		graph.Gemm(true, false, wi, wo, m, x, wi, g, wo, 0, d, wo)
	case wrt == 1: // dW (out, in) = g^T x
		graph.Gemm(true, false, wo, wi, m, g, wo, x, wi, 0, d, wi)
	case wrt == 2: // db (out) = the column sums of g
		graph.AddColumnSums(d, g, m, wo)
	}
}

// ---- residual ----

// residualKernel is the residual connection y = x + r of two tensors of one
// shape, each of whose gradients is the output's.
type residualKernel struct{}

func (residualKernel) Key() string { return "gpt.residual" }

func (residualKernel) OutputShape(in []tensor.Shape) (tensor.Shape, error) {
	if !in[0].Eq(in[1]) {
		return nil, errors.Errorf("residual: shapes %v and %v differ", in[0], in[1])
	}
	return in[0].Clone(), nil
}

func (residualKernel) Differentiable(int) []bool { return []bool{true, true} }

// Overwrites implements graph.Overwriter: the output and both gradients are
// written whole.
func (residualKernel) Overwrites(int) bool { return true }

func (residualKernel) ForwardInto(out *tensor.Dense, in []*tensor.Dense) error {
	return graph.Dispatch(out.Dtype(),
		func() {
			addInto(graph.Slice[float32](out), graph.RowMajor[float32](in[0]), graph.RowMajor[float32](in[1]))
		},
		func() {
			addInto(graph.Slice[float64](out), graph.RowMajor[float64](in[0]), graph.RowMajor[float64](in[1]))
		})
}

func (residualKernel) BackwardInto(grad *tensor.Dense, _ int, _ []*tensor.Dense, _, g *tensor.Dense) error {
	return graph.Dispatch(grad.Dtype(),
		func() { copy(graph.Slice[float32](grad), graph.RowMajor[float32](g)) },
		func() { copy(graph.Slice[float64](grad), graph.RowMajor[float64](g)) })
}

// addInto writes x + r into y; elements in parallel.
func addInto[T graph.Float](y, x, r []T) {
	graph.ParallelElems(len(y), func(lo, hi int) {
		r := r[lo:hi]
		for i, v := range x[lo:hi] {
			y[lo+i] = v + r[i]
		}
	})
}

// ---- gelu_tanh ----

// geluTanhKernel is GPT-2's GELU, the tanh approximation of Hendrycks and Gimpel
// (2016), sec. 2:
//
//	y = x/2 (1 + tanh(u)),  u = sqrt(2/pi) (x + 0.044715 x^3)
//	dy/dx = (1 + tanh u)/2 + x/2 (1 - tanh^2 u) sqrt(2/pi) (1 + 3 0.044715 x^2)
//
// (torch.nn.functional.gelu(x, approximate="tanh")); graph.GELU is the exact erf
// form, which differs from it by up to about 1e-3. The forward pass keeps
// tanh u for the backward pass of the same run, which then needs no
// transcendental function; a backward pass without its forward pass (outside
// a graph) recomputes it.
type geluTanhKernel struct{ st *kept }

// geluBufs is what a GELU node keeps from its forward pass: tanh u of its input.
type geluBufs[T graph.Float] struct{ th []T }

func newGELU() geluTanhKernel { return geluTanhKernel{st: &kept{}} }

const (
	geluC = 0.7978845608028654 // sqrt(2/pi)
	geluA = 0.044715
)

func (geluTanhKernel) Key() string                                         { return "gpt.gelu_tanh" }
func (geluTanhKernel) OutputShape(in []tensor.Shape) (tensor.Shape, error) { return in[0].Clone(), nil }
func (geluTanhKernel) Differentiable(int) []bool                           { return []bool{true} }

// Overwrites implements graph.Overwriter: every element is written.
func (geluTanhKernel) Overwrites(int) bool { return true }

func (k geluTanhKernel) ForwardInto(out *tensor.Dense, in []*tensor.Dense) error {
	return graph.Dispatch(out.Dtype(),
		func() { geluForward(k.st, graph.Slice[float32](out), graph.RowMajor[float32](in[0])) },
		func() { geluForward(k.st, graph.Slice[float64](out), graph.RowMajor[float64](in[0])) })
}

func (k geluTanhKernel) BackwardInto(grad *tensor.Dense, _ int, in []*tensor.Dense, _, g *tensor.Dense) error {
	return graph.Dispatch(grad.Dtype(),
		func() {
			geluBackward(k.st, graph.Slice[float32](grad), graph.RowMajor[float32](in[0]), graph.RowMajor[float32](g))
		},
		func() {
			geluBackward(k.st, graph.Slice[float64](grad), graph.RowMajor[float64](in[0]), graph.RowMajor[float64](g))
		})
}

// geluForward writes the GELU of x into y and keeps tanh u in st (when st is not
// nil); elements in parallel.
func geluForward[T graph.Float](st *kept, y, x []T) {
	var th []T
	if b := keep[geluBufs[T]](st, x); b != nil {
		b.th = graph.Grow(b.th, len(x))
		th = b.th
	}
	graph.ParallelElems(len(x), func(lo, hi int) {
		var t []T
		if th != nil {
			t = th[lo:hi]
		}
		if graph.Is32[T]() {
			geluTanh32(graph.As32(y[lo:hi]), graph.As32(x[lo:hi]), graph.As32(t))
			return
		}
		for i, v := range x[lo:hi] {
			u := math.Tanh(geluC * float64(v+geluA*v*v*v))
			y[lo+i] = v / 2 * (1 + T(u))
			if t != nil {
				t[i] = T(u)
			}
		}
	})
}

// geluTanh32 writes the GELU of x into y and, when th is not nil, tanh u into
// th, in float32 with graph.Tanhs (eight lanes at a time where the processor
// allows; error a few float32 ulps).
func geluTanh32(y, x, th []float32) {
	const c, a = float32(geluC), float32(geluA)
	y = y[:len(x)]
	t := y // tanh u, in y until the GELU overwrites it
	if th != nil {
		t = th[:len(x)]
	}
	for i, v := range x {
		t[i] = c * (v + a*v*v*v)
	}
	graph.Tanhs(t, t)
	for i, v := range x {
		y[i] = v / 2 * (1 + t[i])
	}
}

// geluBackward writes the gradient of the GELU's input x for the output
// gradient g into dx, from the tanh values its forward pass kept (recomputed
// when it has not run on x).
func geluBackward[T graph.Float](st *kept, dx, x, g []T) {
	var th []T
	if b := reuse[geluBufs[T]](st, x); b != nil {
		th = b.th
	} else {
		th = make([]T, len(x))
		for i, v := range x {
			th[i] = T(math.Tanh(geluC * float64(v+geluA*v*v*v)))
		}
	}
	graph.ParallelElems(len(x), func(lo, hi int) {
		const c, a = geluC, geluA
		for i := lo; i < hi; i++ {
			v, t := x[i], th[i]
			dx[i] = g[i] * ((1+t)/2 + v/2*(1-t*t)*T(c)*(1+3*T(a)*v*v))
		}
	})
}

// ---- layernorm_nobias ----

// layerNormNoBiasKernel is a layer norm with a weight and no bias (Config.Bias
// false): y = xhat w, xhat = (x - mean) / sqrt(var + eps) over the last axis.
// The forward pass keeps xhat and 1/sqrt(var + eps) of every row for the
// gradients of the same run.
type layerNormNoBiasKernel struct {
	eps float64
	st  *kept
}

func newLayerNormNoBias(eps float64) layerNormNoBiasKernel {
	return layerNormNoBiasKernel{eps: eps, st: &kept{}}
}

func (k layerNormNoBiasKernel) Key() string {
	return fmt.Sprintf("gpt.layernorm_nobias(eps=%g)", k.eps)
}

func (layerNormNoBiasKernel) OutputShape(in []tensor.Shape) (tensor.Shape, error) {
	x := in[0]
	if x.Dims() < 1 || in[1].Dims() != 1 || in[1][0] != x[x.Dims()-1] {
		return nil, errors.Errorf("layer norm: input %v, weight %v", x, in[1])
	}
	return x.Clone(), nil
}

func (layerNormNoBiasKernel) Differentiable(int) []bool { return []bool{true, true} }

// Overwrites implements graph.Overwriter: the output and the input's gradient
// are written whole; the weight's is accumulated.
func (layerNormNoBiasKernel) Overwrites(wrt int) bool { return wrt <= 0 }

func (k layerNormNoBiasKernel) ForwardInto(out *tensor.Dense, in []*tensor.Dense) error {
	return graph.Dispatch(out.Dtype(),
		func() { lnNoBias[float32](k, -1, graph.Slice[float32](out), in, nil) },
		func() { lnNoBias[float64](k, -1, graph.Slice[float64](out), in, nil) })
}

func (k layerNormNoBiasKernel) BackwardInto(grad *tensor.Dense, wrt int, in []*tensor.Dense, _, g *tensor.Dense) error {
	return graph.Dispatch(grad.Dtype(),
		func() { lnNoBias(k, wrt, graph.Slice[float32](grad), in, graph.RowMajor[float32](g)) },
		func() { lnNoBias(k, wrt, graph.Slice[float64](grad), in, graph.RowMajor[float64](g)) })
}

// lnBufs is what a layer norm keeps from its forward pass: the normalised rows,
// 1/sqrt(var + eps) of each, and the zero bias.
type lnBufs[T graph.Float] struct {
	xhat, zero []T
	rstd       []float64
}

// norm writes the norm of x (rows of w's width) into y, keeping its statistics.
func (b *lnBufs[T]) norm(eps float64, y, x, w []T) {
	d := len(w)
	b.xhat, b.rstd, b.zero = graph.Grow(b.xhat, len(x)), graph.Grow(b.rstd, len(x)/d), graph.Grow(b.zero, d)
	graph.LayerNormRows(y, b.xhat, b.rstd, x, w, b.zero, d, eps)
}

// lnNoBias writes the norm (wrt -1), the input's gradient (0) or adds the
// weight's gradient (1) into dst.
func lnNoBias[T graph.Float](k layerNormNoBiasKernel, wrt int, dst []T, in []*tensor.Dense, g []T) {
	x, w := graph.RowMajor[T](in[0]), graph.RowMajor[T](in[1])
	d := len(w)
	if wrt < 0 {
		b := keep[lnBufs[T]](k.st, x)
		if b == nil {
			b = new(lnBufs[T])
		}
		b.norm(k.eps, dst, x, w)
		return
	}
	b := reuse[lnBufs[T]](k.st, x)
	if b == nil {
		b = new(lnBufs[T])
		b.norm(k.eps, make([]T, len(x)), x, w)
	}
	if wrt == 0 {
		graph.LayerNormBackRows(dst, g, b.xhat, b.rstd, w, d, false)
		return
	}
	for r := 0; r < len(x); r += d {
		for j, v := range g[r : r+d] {
			dst[j] += v * b.xhat[r+j]
		}
	}
}

// ---- causal_attention ----

// causalAttnKernel is the multi-head causal self-attention of GPT-2 after its
// fused projection: for qkv (B, T, 3E) holding the queries, keys and values side
// by side, each head h of width d = E/H attends
//
//	P = softmax(Q_h K_h^T / sqrt(d) + causal mask),   Y_h = drop(P) V_h
//
// with query i seeing keys j <= i, and the heads are merged back into (B, T, E)
// (head h in columns [h d, (h+1) d)). With dropout, a second input (B*H, T, T)
// holds the inverted-dropout mask of the weights (graph.BernoulliMask values).
// Heads are read and written in place through strided matrix products (no
// split or merge copies); batch rows and heads run in parallel. The forward
// pass keeps every head's P for the backward pass of the same run (up to
// maxKeptWeights elements; beyond, as outside a graph, the backward pass
// recomputes P from qkv):
//
//	dV = drop(P)^T dY,  dP = (dY V^T) * mask,  dS = P * (dP - rowsum(P * dP)) / sqrt(d),
//	dQ = dS K,  dK = dS^T Q
type causalAttnKernel struct {
	heads   int
	dropout bool
	st      *kept
}

// maxKeptWeights is the most attention weights (B H T^2) a causal attention
// node keeps from its forward pass: 64 MiB in float32. Larger batches and
// contexts recompute them in the backward pass.
const maxKeptWeights = 1 << 24

// attnBufs is what a causal attention node keeps: the weights P of every head
// (nil beyond maxKeptWeights) and the scratch of its workers.
type attnBufs[T graph.Float] struct{ p, scratch []T }

func (k causalAttnKernel) Key() string {
	return fmt.Sprintf("gpt.causal_attention(h=%d,dropout=%t)", k.heads, k.dropout)
}

// attnShape returns B, T and E of qkv (B, T, 3E) for h heads.
func attnShape(qkv tensor.Shape, h int) (b, t, e int, err error) {
	if qkv.Dims() != 3 || qkv[2]%3 != 0 || h <= 0 || (qkv[2]/3)%h != 0 {
		return 0, 0, 0, errors.Errorf("attention: projections %v, want (B, T, 3E) with E a multiple of %d heads", qkv, h)
	}
	return qkv[0], qkv[1], qkv[2] / 3, nil
}

func (k causalAttnKernel) OutputShape(in []tensor.Shape) (tensor.Shape, error) {
	b, t, e, err := attnShape(in[0], k.heads)
	if err != nil {
		return nil, err
	}
	if want := 1 + btoi(k.dropout); len(in) != want {
		return nil, errors.Errorf("attention: %d inputs, want %d", len(in), want)
	}
	if k.dropout && !in[1].Eq(tensor.Shape{b * k.heads, t, t}) {
		return nil, errors.Errorf("attention: dropout mask %v, want %v", in[1], tensor.Shape{b * k.heads, t, t})
	}
	return tensor.Shape{b, t, e}, nil
}

func (k causalAttnKernel) Differentiable(n int) []bool { return []bool{true, false}[:n] }

// Overwrites implements graph.Overwriter: every head writes its own columns of
// the output and of the gradient.
func (causalAttnKernel) Overwrites(int) bool { return true }

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// heads describes the layout of one fused attention: B rows of T positions, E
// wide, H heads of width D; Q, K and V of row b and head h start at q(b, h),
// q(b, h)+E and q(b, h)+2E in the (B, T, 3E) projections, their rows 3E apart.
type heads struct{ B, T, E, H, D int }

func (l heads) q(b, h int) int   { return b*l.T*3*l.E + h*l.D }
func (l heads) out(b, h int) int { return b*l.T*l.E + h*l.D }

func (k causalAttnKernel) layout(in []*tensor.Dense) heads {
	b, t, e, _ := attnShape(in[0].Shape(), k.heads)
	return heads{B: b, T: t, E: e, H: k.heads, D: e / k.heads}
}

func (k causalAttnKernel) ForwardInto(out *tensor.Dense, in []*tensor.Dense) error {
	l := k.layout(in)
	return graph.Dispatch(out.Dtype(),
		func() {
			causalForward(k.st, l, graph.RowMajor[float32](in[0]), k.mask32(in), graph.Slice[float32](out))
		},
		func() {
			causalForward(k.st, l, graph.RowMajor[float64](in[0]), k.mask64(in), graph.Slice[float64](out))
		})
}

func (k causalAttnKernel) BackwardInto(grad *tensor.Dense, _ int, in []*tensor.Dense, _, g *tensor.Dense) error {
	l := k.layout(in)
	return graph.Dispatch(grad.Dtype(),
		func() {
			causalBackward(k.st, l, graph.RowMajor[float32](in[0]), k.mask32(in), graph.RowMajor[float32](g), graph.Slice[float32](grad))
		},
		func() {
			causalBackward(k.st, l, graph.RowMajor[float64](in[0]), k.mask64(in), graph.RowMajor[float64](g), graph.Slice[float64](grad))
		})
}

func (k causalAttnKernel) mask32(in []*tensor.Dense) []float32 {
	if !k.dropout {
		return nil
	}
	return graph.RowMajor[float32](in[1])
}

func (k causalAttnKernel) mask64(in []*tensor.Dense) []float64 {
	if !k.dropout {
		return nil
	}
	return graph.RowMajor[float64](in[1])
}

// causalForward writes the attention of qkv into out, keeping the weights in st
// where they fit.
func causalForward[T graph.Float](st *kept, l heads, qkv, mask, out []T) {
	t, e, d := l.T, l.E, l.D
	scale := T(1 / math.Sqrt(float64(d)))
	n, workers := l.B*l.H*t*t, graph.Workers(l.B*l.H, t*t*d)
	var b *attnBufs[T]
	if n <= maxKeptWeights {
		b = keep[attnBufs[T]](st, qkv)
	} else if st != nil {
		st.x = nil // nothing kept for this input
	}
	if b == nil {
		b = new(attnBufs[T])
	} else {
		b.p = graph.Grow(b.p, n)
	}
	b.scratch = graph.Grow(b.scratch, workers*t*t)
	graph.ParallelWorkers(l.B*l.H, t*t*d, func(w, lo, hi int) {
		scratch := b.scratch[w*t*t : (w+1)*t*t]
		for bh := lo; bh < hi; bh++ {
			bt, h := bh/l.H, bh%l.H
			q := l.q(bt, h)
			p := scratch
			if b.p != nil {
				p = b.p[bh*t*t : (bh+1)*t*t]
			}
			graph.Gemm(false, true, t, t, d, qkv[q:], 3*e, qkv[q+e:], 3*e, 0, p, t)
			attention.CausalWeights(p, t, t, 0, scale)
			if mask != nil {
				for j, m := range mask[bh*t*t : (bh+1)*t*t] {
					scratch[j] = p[j] * m
				}
				p = scratch
			}
			graph.Gemm(false, false, t, d, t, p, t, qkv[q+2*e:], 3*e, 0, out[l.out(bt, h):], e)
		}
	})
}

// causalBackward writes the gradient of qkv into dqkv, from the weights the
// forward pass kept in st or recomputed.
func causalBackward[T graph.Float](st *kept, l heads, qkv, mask, g, dqkv []T) {
	t, e, d := l.T, l.E, l.D
	scale := T(1 / math.Sqrt(float64(d)))
	workers := graph.Workers(l.B*l.H, t*t*d)
	var all, scratch []T
	if b := reuse[attnBufs[T]](st, qkv); b != nil {
		b.scratch = graph.Grow(b.scratch, 3*workers*t*t)
		all, scratch = b.p, b.scratch
	} else {
		scratch = make([]T, 3*workers*t*t)
	}
	graph.ParallelWorkers(l.B*l.H, t*t*d, func(w, lo, hi int) {
		buf := scratch[3*w*t*t : 3*(w+1)*t*t]
		p, pd, dp := buf[:t*t], buf[t*t:2*t*t], buf[2*t*t:]
		for bh := lo; bh < hi; bh++ {
			b, h := bh/l.H, bh%l.H
			q, o := l.q(b, h), l.out(b, h)
			if all != nil {
				p = all[bh*t*t : (bh+1)*t*t]
			} else {
				graph.Gemm(false, true, t, t, d, qkv[q:], 3*e, qkv[q+e:], 3*e, 0, p, t)
				attention.CausalWeights(p, t, t, 0, scale)
			}
			dropped := p
			var m []T
			if mask != nil {
				m = mask[bh*t*t : (bh+1)*t*t]
				for j, v := range p {
					pd[j] = v * m[j]
				}
				dropped = pd
			}
			// dV = drop(P)^T dY;  dP = dY V^T (times the mask)
			graph.Gemm(true, false, t, d, t, dropped, t, g[o:], e, 0, dqkv[q+2*e:], 3*e)
			graph.Gemm(false, true, t, t, d, g[o:], e, qkv[q+2*e:], 3*e, 0, dp, t)
			// dS = P * (dP - rowsum(P * dP)) * scale, into dp
			for i := 0; i < t; i++ {
				pr, dr := p[i*t:(i+1)*t], dp[i*t:(i+1)*t]
				var dot float64
				for j := 0; j <= i; j++ {
					if m != nil {
						dr[j] *= m[i*t+j]
					}
					dot += float64(pr[j] * dr[j])
				}
				for j := 0; j <= i; j++ {
					dr[j] = pr[j] * (dr[j] - T(dot)) * scale
				}
				clear(dr[i+1:])
			}
			// dQ = dS K;  dK = dS^T Q
			graph.Gemm(false, false, t, d, t, dp, t, qkv[q+e:], 3*e, 0, dqkv[q:], 3*e)
			graph.Gemm(true, false, t, d, t, dp, t, qkv[q:], 3*e, 0, dqkv[q+e:], 3*e)
		}
	})
}
