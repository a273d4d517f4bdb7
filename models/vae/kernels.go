package vae

import (
	"math"
	"strconv"
	"strings"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
)

// The kernels below work on row blocks: a tensor of R = S*B rows holds S samples
// of a batch of B examples, row r belonging to example r % B. Training uses S = 1;
// the importance-weighted bound draws S samples per example in one run.

// rowsOf returns the number of rows and the row length of a 2-D shape.
func rowsOf(s tensor.Shape) (int, int) { return s[0], s[1] }

func check2D(name string, s tensor.Shape) error {
	if s.Dims() != 2 {
		return errors.Errorf("%s has shape %v, want (rows, columns)", name, s)
	}
	return nil
}

// check2DInputs checks that there is one input per name, each 2-D.
func check2DInputs(in []tensor.Shape, names ...string) error {
	if len(in) != len(names) {
		return errors.Errorf("%d inputs, want %s", len(in), strings.Join(names, ", "))
	}
	for i, n := range names {
		if err := check2D(n, in[i]); err != nil {
			return err
		}
	}
	return nil
}

// Reparameterize returns z = mu + exp(logvar/2) * eps. mu and logvar are (B, L);
// eps is (S*B, L), row r of eps pairing with row r % B of mu and logvar, so S
// samples per example come out as S blocks of B rows. eps is not differentiated.
func Reparameterize(mu, logvar, eps *G.Node) (*G.Node, error) {
	z, err := graph.Apply(reparamKernel{}, mu, logvar, eps)
	return z, errors.Wrap(err, "vae: reparameterize")
}

type reparamKernel struct{}

func (reparamKernel) Key() string { return "vae.reparameterize" }

func (reparamKernel) OutputShape(in []tensor.Shape) (tensor.Shape, error) {
	if err := check2DInputs(in, "mu", "logvar", "eps"); err != nil {
		return nil, err
	}
	if !in[1].Eq(in[0]) {
		return nil, errors.Errorf("logvar %v differs from mu %v", in[1], in[0])
	}
	b, l := rowsOf(in[0])
	r, le := rowsOf(in[2])
	if le != l || r%b != 0 {
		return nil, errors.Errorf("eps %v: want (S*%d, %d)", in[2], b, l)
	}
	return in[2].Clone(), nil
}

func (reparamKernel) Differentiable(int) []bool { return []bool{true, true, false} }

// ForwardInto writes z into out.
func (reparamKernel) ForwardInto(out *tensor.Dense, in []*tensor.Dense) error {
	return graph.Dispatch3(out, in, reparamForward[float32], reparamForward[float64])
}

func reparamForward[T graph.Float](z, mu, lv, eps []T) {
	n := len(mu)
	for r := 0; r < len(eps); r += n {
		for i := range n {
			z[r+i] = mu[i] + T(math.Exp(0.5*float64(lv[i])))*eps[r+i]
		}
	}
}

// BackwardInto writes the gradient of mu (wrt 0) or logvar (wrt 1) into grad:
// dmu = sum_s g, dlogvar = sum_s g eps exp(logvar/2) / 2.
func (reparamKernel) BackwardInto(grad *tensor.Dense, wrt int, in []*tensor.Dense, _, g *tensor.Dense) error {
	return graph.Dispatch(grad.Dtype(),
		func() {
			reparamBackward(wrt, graph.Slice[float32](grad), graph.Slice[float32](in[1]), graph.Slice[float32](in[2]), graph.Slice[float32](g))
		},
		func() {
			reparamBackward(wrt, graph.Slice[float64](grad), graph.Slice[float64](in[1]), graph.Slice[float64](in[2]), graph.Slice[float64](g))
		})
}

func reparamBackward[T graph.Float](wrt int, grad, lv, eps, g []T) {
	n := len(grad)
	clear(grad)
	if wrt == 0 {
		for r := 0; r < len(g); r += n {
			for i := range n {
				grad[i] += g[r+i]
			}
		}
		return
	}
	for r := 0; r < len(g); r += n {
		for i := range n {
			grad[i] += g[r+i] * eps[r+i]
		}
	}
	for i := range grad {
		grad[i] *= T(0.5 * math.Exp(0.5*float64(lv[i])))
	}
}

// DataLinear returns x W^T + b, torch.nn.Linear's map, for a data input x
// (B, in) that is not differentiated: in a training graph only W and b get
// gradients. (Gorgonia builds the gradient node of every differentiable input
// of an op and runs it even when nothing uses it; the first layer's input
// gradient would cost as much as its weight gradient.)
func DataLinear(l *graph.Linear, b *graph.Builder, x *G.Node) *G.Node {
	if x == nil {
		return nil
	}
	return b.Check(graph.Apply(dataLinear{}, x, b.Param(l.Weight), b.Param(l.Bias)))
}

type dataLinear struct{}

func (dataLinear) Key() string { return "vae.data_linear" }

func (dataLinear) OutputShape(in []tensor.Shape) (tensor.Shape, error) {
	if len(in) != 3 {
		return nil, errors.Errorf("%d inputs, want x, weight, bias", len(in))
	}
	x, w, bias := in[0], in[1], in[2]
	if x.Dims() != 2 || w.Dims() != 2 || x[1] != w[1] || bias.Dims() != 1 || bias[0] != w[0] {
		return nil, errors.Errorf("input %v, weight %v, bias %v: want (B, in), (out, in), (out)", x, w, bias)
	}
	return tensor.Shape{x[0], w[0]}, nil
}

func (dataLinear) Differentiable(int) []bool { return []bool{false, true, true} }

// ForwardInto writes x W^T + b into out.
func (dataLinear) ForwardInto(out *tensor.Dense, in []*tensor.Dense) error {
	return graph.Dispatch3(out, in, dataLinearForward[float32], dataLinearForward[float64])
}

func dataLinearForward[T graph.Float](y, x, w, bias []T) {
	n := len(bias)
	k := len(w) / n
	m := len(x) / k
	for i := range m {
		copy(y[i*n:(i+1)*n], bias)
	}
	graph.Gemm(false, true, m, n, k, x, k, w, k, 1, y, n)
}

// BackwardInto writes the gradient of W (wrt 1) or b (wrt 2) into grad.
func (dataLinear) BackwardInto(grad *tensor.Dense, wrt int, in []*tensor.Dense, _, g *tensor.Dense) error {
	m, k := in[0].Shape()[0], in[0].Shape()[1]
	n := in[1].Shape()[0]
	return graph.Dispatch(grad.Dtype(),
		func() {
			dataLinearBackward(wrt, graph.Slice[float32](grad), graph.Slice[float32](in[0]), graph.Slice[float32](g), m, n, k)
		},
		func() {
			dataLinearBackward(wrt, graph.Slice[float64](grad), graph.Slice[float64](in[0]), graph.Slice[float64](g), m, n, k)
		})
}

func dataLinearBackward[T graph.Float](wrt int, grad, x, g []T, m, n, k int) {
	if wrt == 1 { // dW (n, k) = g^T (n, m) x (m, k)
		graph.Gemm(true, false, n, k, m, g, n, x, k, 0, grad, k)
		return
	}
	clear(grad) // db = column sums of g
	graph.AddColumnSums(grad, g, m, n)
}

// log2Pi is log(2 pi).
var log2Pi = math.Log(2 * math.Pi)

// nllKernel computes -log p(x|z) per row, summed over the columns: from logits o
// for the Bernoulli likelihood, softplus(o) - x o; from means o for the Gaussian,
// (log 2 pi + s + (x - o)^2 exp(-s)) / 2 with s a fixed log-variance or a learnt
// per-column input. Inputs: o (S*B, D), x (B, D), and for a learnt variance
// s (D). x is not differentiated.
type nllKernel struct {
	gaussian bool
	learned  bool    // Gaussian: the log-variance is the third input
	logVar   float64 // Gaussian with a fixed variance: log sigma^2
	// st keeps the Bernoulli forward pass's exp(-|o|) for the backward pass
	// (nil: recomputed).
	st *nllState
}

// nllState is shared by a Bernoulli NLL node and its gradient node.
type nllState struct {
	e any // []float32 or []float64: exp(-|o|) of the last forward pass
}

func (k nllKernel) Key() string {
	switch {
	case !k.gaussian:
		return "vae.nll(bernoulli)"
	case k.learned:
		return "vae.nll(gaussian,learned)"
	}
	return "vae.nll(gaussian,logvar=" + strconv.FormatFloat(k.logVar, 'g', -1, 64) + ")"
}

func (k nllKernel) OutputShape(in []tensor.Shape) (tensor.Shape, error) {
	if err := graph.WantInputs(in, 2, k.learned); err != nil {
		return nil, err
	}
	if err := check2D("output", in[0]); err != nil {
		return nil, err
	}
	if err := check2D("x", in[1]); err != nil {
		return nil, err
	}
	r, d := rowsOf(in[0])
	b, dx := rowsOf(in[1])
	if dx != d || r%b != 0 {
		return nil, errors.Errorf("output %v does not match x %v: want (S*%d, %d)", in[0], in[1], b, dx)
	}
	if k.learned && (in[2].Dims() != 1 || in[2][0] != d) {
		return nil, errors.Errorf("log-variance %v, want (%d)", in[2], d)
	}
	return tensor.Shape{r}, nil
}

func (k nllKernel) Differentiable(n int) []bool {
	return []bool{true, false, k.learned}[:n]
}

// ForwardInto writes the per-row negative log-likelihoods into out.
func (k nllKernel) ForwardInto(out *tensor.Dense, in []*tensor.Dense) error {
	return graph.Dispatch(out.Dtype(),
		func() {
			nllForward(k, graph.Slice[float32](out), graph.Slice[float32](in[0]), graph.Slice[float32](in[1]), k.logVars32(in))
		},
		func() {
			nllForward(k, graph.Slice[float64](out), graph.Slice[float64](in[0]), graph.Slice[float64](in[1]), k.logVars64(in))
		})
}

func (k nllKernel) logVars32(in []*tensor.Dense) []float32 {
	if k.learned {
		return graph.Slice[float32](in[2])
	}
	return nil
}

func (k nllKernel) logVars64(in []*tensor.Dense) []float64 {
	if k.learned {
		return graph.Slice[float64](in[2])
	}
	return nil
}

func nllForward[T graph.Float](k nllKernel, out, o, x, lv []T) {
	d := len(o) / len(out)
	nx := len(x)
	var invVar, constTerm float64
	if k.gaussian && !k.learned {
		invVar = math.Exp(-k.logVar)
		constTerm = 0.5 * float64(d) * (log2Pi + k.logVar)
	}
	var es []T
	if !k.gaussian {
		es = expBufferOf[T](k.st, len(o))
	}
	for r := range out {
		row := o[r*d : (r+1)*d]
		xr := x[(r*d)%nx : (r*d)%nx+d]
		var s float64
		switch {
		case !k.gaussian:
			s = bernoulliNLL(row, xr, es[r*d:(r+1)*d])
		case k.learned:
			for j, v := range row {
				e := float64(xr[j]) - float64(v)
				l := float64(lv[j])
				s += 0.5 * (log2Pi + l + e*e*math.Exp(-l))
			}
		default:
			for j, v := range row {
				e := float64(xr[j]) - float64(v)
				s += e * e
			}
			s = constTerm + 0.5*invVar*s
		}
		out[r] = T(s)
	}
}

// BackwardInto writes the gradient of the output (wrt 0) or of the learnt
// log-variance (wrt 2) into grad.
func (k nllKernel) BackwardInto(grad *tensor.Dense, wrt int, in []*tensor.Dense, _, g *tensor.Dense) error {
	return graph.Dispatch(grad.Dtype(),
		func() {
			nllBackward(k, wrt, graph.Slice[float32](grad), graph.Slice[float32](in[0]), graph.Slice[float32](in[1]), k.logVars32(in), graph.Slice[float32](g))
		},
		func() {
			nllBackward(k, wrt, graph.Slice[float64](grad), graph.Slice[float64](in[0]), graph.Slice[float64](in[1]), k.logVars64(in), graph.Slice[float64](g))
		})
}

func nllBackward[T graph.Float](k nllKernel, wrt int, grad, o, x, lv, g []T) {
	d := len(o) / len(g)
	nx := len(x)
	var es []T
	if !k.gaussian && wrt == 0 {
		es = expsOf(k.st, o)
	}
	if wrt == 2 {
		clear(grad)
	}
	invVar := math.Exp(-k.logVar)
	for r, gr := range g {
		gv := float64(gr)
		row := o[r*d : (r+1)*d]
		xr := x[(r*d)%nx : (r*d)%nx+d]
		switch {
		case wrt == 2: // d/ds_j = (1 - (x - o)^2 exp(-s_j)) / 2
			for j, v := range row {
				e := float64(xr[j]) - float64(v)
				grad[j] += T(gv * 0.5 * (1 - e*e*math.Exp(-float64(lv[j]))))
			}
		case !k.gaussian: // d/do = sigmoid(o) - x
			bernoulliGrad(grad[r*d:(r+1)*d], row, xr, es[r*d:(r+1)*d], gv)
		case k.learned: // d/do = (o - x) exp(-s)
			gr := grad[r*d : (r+1)*d]
			for j, v := range row {
				gr[j] = T(gv * (float64(v) - float64(xr[j])) * math.Exp(-float64(lv[j])))
			}
		default:
			gr := grad[r*d : (r+1)*d]
			c := gv * invVar
			for j, v := range row {
				gr[j] = T(c * (float64(v) - float64(xr[j])))
			}
		}
	}
}

// expBufferOf returns the buffer of exp(-|o|) the forward pass fills: the state's,
// or a new one.
func expBufferOf[T graph.Float](st *nllState, n int) []T {
	if st == nil {
		return make([]T, n)
	}
	e, _ := st.e.([]T)
	if cap(e) < n {
		e = make([]T, n)
	}
	st.e = e[:n]
	return e[:n]
}

// expsOf returns exp(-|o|) for the backward pass: kept by the forward pass, or
// computed again.
func expsOf[T graph.Float](st *nllState, o []T) []T {
	if st != nil {
		if e, ok := st.e.([]T); ok && len(e) == len(o) {
			return e
		}
	}
	e := make([]T, len(o))
	for i, v := range o {
		e[i] = expNeg(v)
	}
	return e
}

// expNeg returns exp(-|v|) in the precision of T (graph.Exp).
func expNeg[T graph.Float](v T) T { return graph.Exp(T(-math.Abs(float64(v)))) }

// bernoulliNLL returns sum_j softplus(o_j) - x_j o_j for one row and stores
// e_j = exp(-|o_j|) in es. With softplus(o) = max(o, 0) + log(1 + e), the
// logarithms are taken of products of up to 256 factors 1 + e_j in (1, 2]
// (at most 2^256, far from overflow), one logarithm per 256 pixels instead of
// one per pixel; the product's rounding error is below 256 ulp, 3e-14
// absolute after the logarithm.
func bernoulliNLL[T graph.Float](o, x, es []T) float64 {
	if graph.Is32[T]() {
		return bernoulliNLL32(graph.As32(o), graph.As32(x), graph.As32(es))
	}
	var lin, logs float64
	prod := 1.0
	for j, v := range o {
		e := expNeg(v)
		es[j] = e
		ov := float64(v)
		lin += 0.5*(ov+math.Abs(ov)) - float64(x[j])*ov // max(o, 0) - x o
		prod *= 1 + float64(e)
		if j&255 == 255 {
			logs += math.Log(prod)
			prod = 1
		}
	}
	return lin + logs + math.Log(prod)
}

// bernoulliNLL32 is bernoulliNLL for float32 rows, with |o| and max(o, 0) =
// (o + |o|)/2 (exact) taken without branches.
func bernoulliNLL32(o, x, es []float32) float64 {
	var lin, logs float64
	prod := 1.0
	x, es = x[:len(o)], es[:len(o)]
	for j, v := range o {
		a := math.Float32frombits(math.Float32bits(v) &^ (1 << 31))
		e := graph.Exp32(-a)
		es[j] = e
		lin += float64((v+a)*0.5) - float64(x[j])*float64(v)
		prod *= 1 + float64(e)
		if j&255 == 255 {
			logs += math.Log(prod)
			prod = 1
		}
	}
	return lin + logs + math.Log(prod)
}

// bernoulliGrad writes g (sigmoid(o) - x) for one row, sigmoid(o) being
// 1/(1+e) for o >= 0 and e/(1+e) otherwise with e = exp(-|o|).
func bernoulliGrad[T graph.Float](dst, o, x, es []T, g float64) {
	gv := T(g)
	if graph.Is32[T]() {
		bernoulliGrad32(graph.As32(dst), graph.As32(o), graph.As32(x), graph.As32(es), float32(g))
		return
	}
	for j, v := range o {
		e := es[j]
		num := e
		if v >= 0 {
			num = 1
		}
		dst[j] = gv * (num/(1+e) - x[j])
	}
}

// bernoulliGrad32 is bernoulliGrad for float32, choosing the numerator without
// a branch (the signs of the logits are unpredictable).
func bernoulliGrad32(dst, o, x, es []float32, g float32) {
	const one = 0x3f800000 // the bits of float32(1)
	o, x, es = o[:len(dst)], x[:len(dst)], es[:len(dst)]
	for j, v := range o {
		e := es[j]
		// all ones when v >= 0 (sign bit clear), else 0
		pos := ^uint32(int32(math.Float32bits(v)) >> 31)
		eb := math.Float32bits(e)
		num := math.Float32frombits(eb ^ ((eb ^ one) & pos))
		dst[j] = g * (num/(1+e) - x[j])
	}
}

// logRatioKernel computes, per row, log p(z) - log q(z|x) of a reparameterised
// sample z = mu + exp(logvar/2) eps: sum_j (eps_j^2 - z_j^2 + logvar_j) / 2 (the
// log 2 pi terms cancel). Inputs: z (S*B, L), eps (S*B, L), logvar (B, L).
// Forward only: the importance weights are not differentiated.
type logRatioKernel struct{ graph.NoGradient }

func (logRatioKernel) Key() string { return "vae.log_prior_over_posterior" }

func (logRatioKernel) OutputShape(in []tensor.Shape) (tensor.Shape, error) {
	if err := check2DInputs(in, "z", "eps", "logvar"); err != nil {
		return nil, err
	}
	r, l := rowsOf(in[0])
	b, lv := rowsOf(in[2])
	if !in[1].Eq(in[0]) || lv != l || r%b != 0 {
		return nil, errors.Errorf("z %v, eps %v, logvar %v: want (S*B, L), (S*B, L), (B, L)", in[0], in[1], in[2])
	}
	return tensor.Shape{r}, nil
}

func (logRatioKernel) Differentiable(int) []bool { return []bool{false, false, false} }

// ForwardInto writes the per-row log ratios into out.
func (logRatioKernel) ForwardInto(out *tensor.Dense, in []*tensor.Dense) error {
	return graph.Dispatch3(out, in, logRatio[float32], logRatio[float64])
}

func logRatio[T graph.Float](out, z, eps, lv []T) {
	l := len(z) / len(out)
	nlv := len(lv)
	for r := range out {
		var s float64
		off := (r * l) % nlv
		for j := range l {
			zv, ev := float64(z[r*l+j]), float64(eps[r*l+j])
			s += 0.5 * (ev*ev - zv*zv + float64(lv[off+j]))
		}
		out[r] = T(s)
	}
}

// Each writes all of its output and of every gradient (the sums clear their
// buffer first), so the buffers need no zeroing (graph.Overwriter).
func (reparamKernel) Overwrites(int) bool  { return true }
func (nllKernel) Overwrites(int) bool      { return true }
func (logRatioKernel) Overwrites(int) bool { return true }
func (dataLinear) Overwrites(int) bool     { return true }

// The kernels write into buffers their nodes keep from run to run.
var (
	_ graph.Kernel = reparamKernel{}
	_ graph.Kernel = nllKernel{}
	_ graph.Kernel = logRatioKernel{}
	_ graph.Kernel = dataLinear{}
)
