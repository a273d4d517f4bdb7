package attention

import (
	"math"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
)

// ---- additive score ----

// addTanhKernel: inputs keys K (B,S,A) and projected query q (B,A); output
// T (B,S,A) = tanh(K_bs + q_b). Its backward reads T instead of recomputing tanh.
type addTanhKernel struct{}

func (addTanhKernel) Key() string { return "attention.add_tanh" }

func (addTanhKernel) OutputShape(in []tensor.Shape) (tensor.Shape, error) {
	k, q := in[0], in[1]
	if k.Dims() != 3 || q.Dims() != 2 || k[0] != q[0] || k[2] != q[1] {
		return nil, errors.Errorf("additive attention: keys %v, query %v", k, q)
	}
	return k.Clone(), nil
}

func (addTanhKernel) Differentiable(int) []bool { return []bool{true, true} }

func (addTanhKernel) ForwardInto(out *tensor.Dense, in []*tensor.Dense) error {
	return graph.Dispatch2(out, in, addTanh[float32], addTanh[float64])
}

// addTanh: k and y (B, S, A) of shape s, q (B, A).
func addTanh[T graph.Float](k, q, y []T, s tensor.Shape) {
	b, n, a := s[0], s[1], s[2]
	for bi := 0; bi < b; bi++ {
		qr := q[bi*a : (bi+1)*a]
		for si := 0; si < n; si++ {
			off := (bi*n + si) * a
			for j, kv := range k[off : off+a] {
				y[off+j] = T(math.Tanh(float64(kv + qr[j])))
			}
		}
	}
}

// BackwardInto: dK = g (1 - T^2), dq_b = sum_s g_bs (1 - T_bs^2).
func (addTanhKernel) BackwardInto(grad *tensor.Dense, wrt int, in []*tensor.Dense, out, g *tensor.Dense) error {
	s := in[0].Shape()
	return graph.Dispatch(grad.Dtype(),
		func() {
			addTanhBack(wrt, graph.RowMajor[float32](out), graph.RowMajor[float32](g), graph.Slice[float32](grad), s[0], s[1], s[2])
		},
		func() {
			addTanhBack(wrt, graph.RowMajor[float64](out), graph.RowMajor[float64](g), graph.Slice[float64](grad), s[0], s[1], s[2])
		})
}

// Overwrites implements graph.Overwriter: the output and the keys' gradient are
// written whole; the query's is summed.
func (addTanhKernel) Overwrites(wrt int) bool { return wrt <= 0 }

func addTanhBack[T graph.Float](wrt int, y, g, d []T, b, n, a int) {
	for bi := 0; bi < b; bi++ {
		for si := 0; si < n; si++ {
			off := (bi*n + si) * a
			var dst []T
			if wrt == 0 {
				dst = d[off : off+a]
			} else {
				dst = d[bi*a : (bi+1)*a]
			}
			for j, t := range y[off : off+a] {
				v := g[off+j] * (1 - t*t)
				if wrt == 0 {
					dst[j] = v
				} else {
					dst[j] += v
				}
			}
		}
	}
}

// vecScoreKernel: inputs T (B,S,A) and v (1,A) or (A); output e (B,S) = T v.
type vecScoreKernel struct{}

func (vecScoreKernel) Key() string { return "attention.vec_score" }

func (vecScoreKernel) OutputShape(in []tensor.Shape) (tensor.Shape, error) {
	t, v := in[0], in[1]
	if t.Dims() != 3 || v.TotalSize() != t[2] {
		return nil, errors.Errorf("additive attention: features %v, v %v", t, v)
	}
	return tensor.Shape{t[0], t[1]}, nil
}

func (vecScoreKernel) Differentiable(int) []bool { return []bool{true, true} }

func (vecScoreKernel) ForwardInto(out *tensor.Dense, in []*tensor.Dense) error {
	return graph.Dispatch2(out, in, vecScore[float32], vecScore[float64])
}

func vecScore[T graph.Float](t, v, e []T, _ tensor.Shape) {
	a := len(v)
	for r := range e {
		var sum T
		for j, x := range t[r*a : (r+1)*a] {
			sum += x * v[j]
		}
		e[r] = sum
	}
}

// BackwardInto: dT_bs = g_bs v, dv = sum_bs g_bs T_bs.
func (vecScoreKernel) BackwardInto(grad *tensor.Dense, wrt int, in []*tensor.Dense, _, g *tensor.Dense) error {
	return graph.Dispatch(grad.Dtype(),
		func() {
			vecScoreBack(wrt, graph.RowMajor[float32](in[0]), graph.RowMajor[float32](in[1]), graph.RowMajor[float32](g), graph.Slice[float32](grad))
		},
		func() {
			vecScoreBack(wrt, graph.RowMajor[float64](in[0]), graph.RowMajor[float64](in[1]), graph.RowMajor[float64](g), graph.Slice[float64](grad))
		})
}

// Overwrites implements graph.Overwriter: the scores and the features' gradient
// are written whole; v's is summed.
func (vecScoreKernel) Overwrites(wrt int) bool { return wrt <= 0 }

func vecScoreBack[T graph.Float](wrt int, t, v, g, d []T) {
	a := len(v)
	for r, gv := range g {
		row := t[r*a : (r+1)*a]
		if wrt == 0 {
			dst := d[r*a : (r+1)*a]
			for j, x := range v {
				dst[j] = gv * x
			}
			continue
		}
		for j, x := range row {
			d[j] += gv * x
		}
	}
}

// ---- dot score ----

// dotKernel: inputs q (B,H), K (B,S,H); output e (B,S), e_bs = q_b . K_bs. The
// scores and the keys' gradient are written whole; the query's is summed.
var dotKernel = &batchKernel{key: "attention.dot_score", summed: 0,
	shape: func(q, k tensor.Shape) (tensor.Shape, error) {
		if q.Dims() != 2 || k.Dims() != 3 || q[0] != k[0] || q[1] != k[2] {
			return nil, errors.Errorf("dot score: query %v, keys %v", q, k)
		}
		return tensor.Shape{k[0], k[1]}, nil
	},
	f32: dotScore[float32], f64: dotScore[float64]}

// batchKernel is a kernel of two differentiable inputs, x (B, H) or (B, S) and
// m (B, S, H), whose passes are one function of their batchArgs: the dot score
// and the context.
type batchKernel struct {
	key    string
	shape  func(x, m tensor.Shape) (tensor.Shape, error)
	f32    func(batchArgs[float32], int)
	f64    func(batchArgs[float64], int)
	summed int // the pass (-1 the forward, else the input) that adds into its buffer
}

func (k *batchKernel) Key() string { return k.key }

func (k *batchKernel) OutputShape(in []tensor.Shape) (tensor.Shape, error) {
	return k.shape(in[0], in[1])
}

func (*batchKernel) Differentiable(int) []bool { return []bool{true, true} }

func (k *batchKernel) ForwardInto(out *tensor.Dense, in []*tensor.Dense) error {
	return batchPass(out, in, nil, -1, k.f32, k.f64)
}

func (k *batchKernel) BackwardInto(grad *tensor.Dense, wrt int, in []*tensor.Dense, _, g *tensor.Dense) error {
	return batchPass(grad, in, g, wrt, k.f32, k.f64)
}

// Overwrites implements graph.Overwriter: every pass but the summed one writes
// its buffer whole.
func (k *batchKernel) Overwrites(wrt int) bool { return wrt != k.summed }

// batchArgs are the operands of a pass of dotKernel or contextKernel: the first
// input x, (B, H) or (B, S), the (B, S, H) second input m, the output or
// gradient o and the output's gradient g (nil in the forward pass).
type batchArgs[T graph.Float] struct {
	x, m, o, g []T
	b, n, h    int
}

// batchPass runs f32 or f64 by out's dtype: the forward pass (wrt -1, g nil) or
// the gradient of input wrt, into out.
func batchPass(out *tensor.Dense, in []*tensor.Dense, g *tensor.Dense, wrt int, f32 func(batchArgs[float32], int), f64 func(batchArgs[float64], int)) error {
	return graph.Dispatch(out.Dtype(),
		func() { f32(batchArgsOf[float32](out, in, g), wrt) },
		func() { f64(batchArgsOf[float64](out, in, g), wrt) })
}

func batchArgsOf[T graph.Float](out *tensor.Dense, in []*tensor.Dense, g *tensor.Dense) batchArgs[T] {
	s := in[1].Shape()
	a := batchArgs[T]{x: graph.RowMajor[T](in[0]), m: graph.RowMajor[T](in[1]), o: graph.Slice[T](out), b: s[0], n: s[1], h: s[2]}
	if g != nil {
		a.g = graph.RowMajor[T](g)
	}
	return a
}

// dotScore: e_bs = q_b . K_bs; dq_b = sum_s g_bs K_bs, dK_bs = g_bs q_b.
func dotScore[T graph.Float](a batchArgs[T], wrt int) {
	q, kk, o, g := a.x, a.m, a.o, a.g
	b, n, h := a.b, a.n, a.h
	for bi := 0; bi < b; bi++ {
		qr := q[bi*h : (bi+1)*h]
		for si := 0; si < n; si++ {
			kr := kk[(bi*n+si)*h : (bi*n+si+1)*h]
			switch wrt {
			case -1:
				var e T
				for j, kv := range kr {
					e += qr[j] * kv
				}
				o[bi*n+si] = e
			case 0:
				gv := g[bi*n+si]
				dq := o[bi*h : (bi+1)*h]
				for j, kv := range kr {
					dq[j] += gv * kv
				}
			case 1:
				gv := g[bi*n+si]
				dk := o[(bi*n+si)*h : (bi*n+si+1)*h]
				for j, qv := range qr {
					dk[j] = gv * qv
				}
			}
		}
	}
}

// ---- context ----

// contextKernel: inputs w (B,S), V (B,S,H); output c (B,H), c_b = sum_s w_bs V_bs.
// The context is summed; both gradients are written whole.
var contextKernel = &batchKernel{key: "attention.context", summed: -1,
	shape: func(w, v tensor.Shape) (tensor.Shape, error) {
		if w.Dims() != 2 || v.Dims() != 3 || w[0] != v[0] || w[1] != v[1] {
			return nil, errors.Errorf("context: weights %v, values %v", w, v)
		}
		return tensor.Shape{v[0], v[2]}, nil
	},
	f32: contextOp[float32], f64: contextOp[float64]}

// contextOp: c_b = sum_s w_bs V_bs; dw_bs = g_b . V_bs, dV_bs = w_bs g_b.
func contextOp[T graph.Float](a batchArgs[T], wrt int) {
	w, v, o, g := a.x, a.m, a.o, a.g
	b, n, h := a.b, a.n, a.h
	for bi := 0; bi < b; bi++ {
		for si := 0; si < n; si++ {
			vr := v[(bi*n+si)*h : (bi*n+si+1)*h]
			wv := w[bi*n+si]
			switch wrt {
			case -1:
				if wv == 0 {
					continue
				}
				c := o[bi*h : (bi+1)*h]
				for j, x := range vr {
					c[j] += wv * x
				}
			case 0:
				var d T
				for j, x := range vr {
					d += g[bi*h+j] * x
				}
				o[bi*n+si] = d
			case 1:
				dv := o[(bi*n+si)*h : (bi*n+si+1)*h]
				for j := range dv {
					dv[j] = wv * g[bi*h+j]
				}
			}
		}
	}
}
