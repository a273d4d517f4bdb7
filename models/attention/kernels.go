package attention

import (
	"fmt"
	"math"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
)

// The attention layers are built from small fused kernels over row-major tensors,
// each with a float64 gradient check (attention_test.go):
//
//	bmm:          C_n = op(A_n) op(B_n) for every n of a batch (op: identity or transpose)
//	scale:        y = c x
//	affineRows:   y = x W[lo:hi]^T + b[lo:hi]       (one block of a packed projection)
//	heads:        (B, T, h*d) <-> (B*h, T, d)        (split and merge attention heads)
//	repeatMask:   (B, Tq, Tk) -> (B*h, Tq, Tk)       (a mask for every head; not differentiated)
//	meanHeads:    (B*h, Tq, Tk) -> (B, Tq, Tk)       (head-averaged weights)
//	keyMask:      keep (B, Tk) -> additive (B, Tq, Tk), optionally causal (not differentiated)
//	addTanh:      T_bsa = tanh(K_bsa + q_ba)                   (Bahdanau's score is T v)
//	vecScore:     e_bs = sum_a T_bsa v_a
//	dot:          e_bs = sum_h q_bh K_bsh                      (Luong's dot score)
//	context:      c_bh = sum_s w_bs V_bsh
//	stack:        T nodes (B, D...) -> (B, T, D...)
//	sinusoid:     y_bti = x_bti + PE_ti                        (Vaswani et al. 2017, sec. 3.5)
//	addPositions: y_bti = x_bti + P_ti for a (L, E) table P, T <= L
//	pick:         y_ne = x_n,pos_n,e                            (one position per row)

// vals returns the row-major elements of a float tensor (materialising strided views).
func vals[T graph.Float](t *tensor.Dense) []T {
	if t.RequiresIterator() {
		if c, ok := t.Materialize().(*tensor.Dense); ok {
			t = c
		}
	}
	return graph.Slice[T](t)
}

// onFloat runs f32 or f64 according to dt.
func onFloat(dt tensor.Dtype, f32, f64 func()) error {
	switch dt {
	case tensor.Float32:
		f32()
	case tensor.Float64:
		f64()
	default:
		return errors.Errorf("unsupported dtype %v", dt)
	}
	return nil
}

func allTrue(n int) []bool {
	d := make([]bool, n)
	for i := range d {
		d[i] = true
	}
	return d
}

// ---- bmm ----

type bmmKernel struct{ transA, transB bool }

func (k bmmKernel) Key() string { return fmt.Sprintf("attention.bmm(%t,%t)", k.transA, k.transB) }

// dims returns n, m, kk, p for op(A) (m, kk) and op(B) (kk, p).
func (k bmmKernel) dims(a, b tensor.Shape) (n, m, kk, p int, err error) {
	if a.Dims() != 3 || b.Dims() != 3 || a[0] != b[0] {
		return 0, 0, 0, 0, errors.Errorf("bmm: shapes %v and %v, want (N, ., .) both", a, b)
	}
	m, kk = a[1], a[2]
	if k.transA {
		m, kk = kk, m
	}
	kb, p := b[1], b[2]
	if k.transB {
		kb, p = p, kb
	}
	if kk != kb {
		return 0, 0, 0, 0, errors.Errorf("bmm: inner dimensions of %v and %v differ (transA %t, transB %t)", a, b, k.transA, k.transB)
	}
	return a[0], m, kk, p, nil
}

func (k bmmKernel) OutputShape(in []tensor.Shape) (tensor.Shape, error) {
	if len(in) != 2 {
		return nil, errors.Errorf("bmm: %d inputs, want 2", len(in))
	}
	n, m, _, p, err := k.dims(in[0], in[1])
	if err != nil {
		return nil, err
	}
	return tensor.Shape{n, m, p}, nil
}

func (bmmKernel) Differentiable(int) []bool { return []bool{true, true} }

func (k bmmKernel) Forward(in []*tensor.Dense) (*tensor.Dense, error) {
	n, m, kk, p, err := k.dims(in[0].Shape(), in[1].Shape())
	if err != nil {
		return nil, err
	}
	out := graph.NewDense(in[0].Dtype(), n, m, p)
	return out, onFloat(in[0].Dtype(),
		func() {
			bmm(k.transA, k.transB, n, m, p, kk, vals[float32](in[0]), vals[float32](in[1]), graph.Slice[float32](out))
		},
		func() {
			bmm(k.transA, k.transB, n, m, p, kk, vals[float64](in[0]), vals[float64](in[1]), graph.Slice[float64](out))
		})
}

// bmm computes c_n = op(a_n) op(b_n) with op(a_n) (m, k) and op(b_n) (k, p).
func bmm[T graph.Float](ta, tb bool, n, m, p, k int, a, b, c []T) {
	lda, ldb := k, p
	if ta {
		lda = m
	}
	if tb {
		ldb = k
	}
	for i := 0; i < n; i++ {
		graph.Gemm(ta, tb, m, p, k, a[i*m*k:(i+1)*m*k], lda, b[i*k*p:(i+1)*k*p], ldb, 0, c[i*m*p:(i+1)*m*p], p)
	}
}

// Backward: with C = op(A) op(B) and G = dL/dC,
//
//	A (no trans): dA = G op(B)^T;  A trans: dA = op(B) G^T
//	B (no trans): dB = op(A)^T G;  B trans: dB = G^T op(A)
func (k bmmKernel) Backward(wrt int, in []*tensor.Dense, _, g *tensor.Dense) (*tensor.Dense, error) {
	n, m, kk, p, err := k.dims(in[0].Shape(), in[1].Shape())
	if err != nil {
		return nil, err
	}
	grad := graph.NewDense(in[wrt].Dtype(), in[wrt].Shape()...)
	return grad, onFloat(in[0].Dtype(),
		func() {
			bmmBack(k.transA, k.transB, wrt, n, m, p, kk, vals[float32](in[0]), vals[float32](in[1]), vals[float32](g), graph.Slice[float32](grad))
		},
		func() {
			bmmBack(k.transA, k.transB, wrt, n, m, p, kk, vals[float64](in[0]), vals[float64](in[1]), vals[float64](g), graph.Slice[float64](grad))
		})
}

func bmmBack[T graph.Float](ta, tb bool, wrt, n, m, p, k int, a, b, g, d []T) {
	// stored layouts: a is (m,k) or (k,m); b is (k,p) or (p,k); g is (m,p)
	lda, ldb := k, p
	if ta {
		lda = m
	}
	if tb {
		ldb = k
	}
	for i := 0; i < n; i++ {
		ai, bi, gi := a[i*m*k:(i+1)*m*k], b[i*k*p:(i+1)*k*p], g[i*m*p:(i+1)*m*p]
		if wrt == 0 {
			di := d[i*m*k : (i+1)*m*k]
			if !ta { // dA (m,k) = G (m,p) op(B)^T (p,k)
				graph.Gemm(false, !tb, m, k, p, gi, p, bi, ldb, 0, di, lda)
			} else { // dA (k,m) = op(B) (k,p) G^T (p,m)
				graph.Gemm(tb, true, k, m, p, bi, ldb, gi, p, 0, di, lda)
			}
			continue
		}
		di := d[i*k*p : (i+1)*k*p]
		if !tb { // dB (k,p) = op(A)^T (k,m) G (m,p)
			graph.Gemm(!ta, false, k, p, m, ai, lda, gi, p, 0, di, ldb)
		} else { // dB (p,k) = G^T (p,m) op(A) (m,k)
			graph.Gemm(true, ta, p, k, m, gi, p, ai, lda, 0, di, ldb)
		}
	}
}

// ---- scale ----

type scaleKernel struct{ c float64 }

func (k scaleKernel) Key() string { return "attention.scale(" + fmt.Sprint(k.c) + ")" }

func (scaleKernel) OutputShape(in []tensor.Shape) (tensor.Shape, error) { return in[0].Clone(), nil }
func (scaleKernel) Differentiable(int) []bool                           { return []bool{true} }

func (k scaleKernel) Forward(in []*tensor.Dense) (*tensor.Dense, error) { return scaled(in[0], k.c) }

func (k scaleKernel) Backward(_ int, _ []*tensor.Dense, _, g *tensor.Dense) (*tensor.Dense, error) {
	return scaled(g, k.c)
}

func scaled(x *tensor.Dense, c float64) (*tensor.Dense, error) {
	out := graph.NewDense(x.Dtype(), x.Shape()...)
	return out, onFloat(x.Dtype(),
		func() { scaleInto(graph.Slice[float32](out), vals[float32](x), float32(c)) },
		func() { scaleInto(graph.Slice[float64](out), vals[float64](x), c) })
}

func scaleInto[T graph.Float](y, x []T, c T) {
	for i, v := range x {
		y[i] = c * v
	}
}

// ---- affineRows ----

// affineRowsKernel computes x W[lo:hi]^T (+ b[lo:hi]) for x (..., in), W (rows, in)
// and b (rows): the query, key or value block of a packed in_proj_weight.
type affineRowsKernel struct{ lo, hi int }

func (k affineRowsKernel) Key() string {
	return fmt.Sprintf("attention.affine_rows(%d,%d)", k.lo, k.hi)
}

func (k affineRowsKernel) OutputShape(in []tensor.Shape) (tensor.Shape, error) {
	x, w := in[0], in[1]
	if w.Dims() != 2 || x.Dims() < 1 || x[x.Dims()-1] != w[1] || k.lo < 0 || k.hi > w[0] || k.lo >= k.hi {
		return nil, errors.Errorf("affine rows [%d,%d): input %v, weight %v", k.lo, k.hi, x, w)
	}
	if len(in) == 3 && (in[2].Dims() != 1 || in[2][0] != w[0]) {
		return nil, errors.Errorf("affine rows: bias %v for weight %v", in[2], w)
	}
	out := append(tensor.Shape{}, x[:x.Dims()-1]...)
	return append(out, k.hi-k.lo), nil
}

func (affineRowsKernel) Differentiable(n int) []bool { return allTrue(n) }

func (k affineRowsKernel) Forward(in []*tensor.Dense) (*tensor.Dense, error) {
	shape, err := k.OutputShape([]tensor.Shape{in[0].Shape(), in[1].Shape()})
	if err != nil {
		return nil, err
	}
	out := graph.NewDense(in[0].Dtype(), shape...)
	return out, onFloat(in[0].Dtype(),
		func() { affineRowsForward[float32](k, in, out) },
		func() { affineRowsForward[float64](k, in, out) })
}

func affineRowsForward[T graph.Float](k affineRowsKernel, in []*tensor.Dense, out *tensor.Dense) {
	x, w := vals[T](in[0]), vals[T](in[1])
	kk := in[1].Shape()[1]
	n := k.hi - k.lo
	m := len(x) / kk
	y := graph.Slice[T](out)
	var beta T
	if len(in) == 3 {
		b := vals[T](in[2])[k.lo:k.hi]
		for i := 0; i < m; i++ {
			copy(y[i*n:(i+1)*n], b)
		}
		beta = 1
	}
	graph.Gemm(false, true, m, n, kk, x, kk, w[k.lo*kk:k.hi*kk], kk, beta, y, n)
}

func (k affineRowsKernel) Backward(wrt int, in []*tensor.Dense, _, g *tensor.Dense) (*tensor.Dense, error) {
	grad := graph.NewDense(in[wrt].Dtype(), in[wrt].Shape()...)
	return grad, onFloat(in[0].Dtype(),
		func() { affineRowsBackward[float32](k, wrt, in, g, grad) },
		func() { affineRowsBackward[float64](k, wrt, in, g, grad) })
}

func affineRowsBackward[T graph.Float](k affineRowsKernel, wrt int, in []*tensor.Dense, gt, grad *tensor.Dense) {
	x, w, g, d := vals[T](in[0]), vals[T](in[1]), vals[T](gt), graph.Slice[T](grad)
	kk := in[1].Shape()[1]
	n := k.hi - k.lo
	m := len(x) / kk
	switch wrt {
	case 0: // dx (m,kk) = g (m,n) W[lo:hi] (n,kk)
		graph.Gemm(false, false, m, kk, n, g, n, w[k.lo*kk:k.hi*kk], kk, 0, d, kk)
	case 1: // dW[lo:hi] (n,kk) = g^T (n,m) x (m,kk); other rows 0
		graph.Gemm(true, false, n, kk, m, g, n, x, kk, 0, d[k.lo*kk:k.hi*kk], kk)
	case 2:
		db := d[k.lo:k.hi]
		for i := 0; i < m; i++ {
			for j, v := range g[i*n : (i+1)*n] {
				db[j] += v
			}
		}
	}
}

// ---- heads ----

// headsKernel splits (B, T, h*d) into (B*h, T, d) (merge false) or merges back.
type headsKernel struct {
	h     int
	merge bool
}

func (k headsKernel) Key() string { return fmt.Sprintf("attention.heads(%d,merge=%t)", k.h, k.merge) }

func (k headsKernel) OutputShape(in []tensor.Shape) (tensor.Shape, error) {
	s := in[0]
	if s.Dims() != 3 {
		return nil, errors.Errorf("heads: input %v, want 3-D", s)
	}
	if k.merge {
		if s[0]%k.h != 0 {
			return nil, errors.Errorf("heads: batch*heads %d not a multiple of %d heads", s[0], k.h)
		}
		return tensor.Shape{s[0] / k.h, s[1], s[2] * k.h}, nil
	}
	if s[2]%k.h != 0 {
		return nil, errors.Errorf("heads: width %d not a multiple of %d heads", s[2], k.h)
	}
	return tensor.Shape{s[0] * k.h, s[1], s[2] / k.h}, nil
}

func (headsKernel) Differentiable(int) []bool { return []bool{true} }

func (k headsKernel) Forward(in []*tensor.Dense) (*tensor.Dense, error) {
	return k.permute(in[0], k.merge)
}

func (k headsKernel) Backward(_ int, _ []*tensor.Dense, _, g *tensor.Dense) (*tensor.Dense, error) {
	return k.permute(g, !k.merge)
}

func (k headsKernel) permute(x *tensor.Dense, merge bool) (*tensor.Dense, error) {
	s := x.Shape()
	var b, t, d int
	var out *tensor.Dense
	if merge {
		b, t, d = s[0]/k.h, s[1], s[2]
		out = graph.NewDense(x.Dtype(), b, t, d*k.h)
	} else {
		b, t, d = s[0], s[1], s[2]/k.h
		out = graph.NewDense(x.Dtype(), b*k.h, t, d)
	}
	return out, onFloat(x.Dtype(),
		func() { permuteHeads(vals[float32](x), graph.Slice[float32](out), b, t, k.h, d, merge) },
		func() { permuteHeads(vals[float64](x), graph.Slice[float64](out), b, t, k.h, d, merge) })
}

// permuteHeads copies between the (B, T, h, d) and (B, h, T, d) layouts.
func permuteHeads[T graph.Float](src, dst []T, b, t, h, d int, merge bool) {
	for bi := 0; bi < b; bi++ {
		for ti := 0; ti < t; ti++ {
			for hi := 0; hi < h; hi++ {
				wide := ((bi*t+ti)*h + hi) * d  // (B, T, h, d)
				split := ((bi*h+hi)*t + ti) * d // (B, h, T, d)
				if merge {
					copy(dst[wide:wide+d], src[split:split+d])
				} else {
					copy(dst[split:split+d], src[wide:wide+d])
				}
			}
		}
	}
}

// ---- repeatMask and meanHeads ----

// repeatMaskKernel repeats a (B, Tq, Tk) mask for each of h heads.
type repeatMaskKernel struct{ h int }

func (k repeatMaskKernel) Key() string { return fmt.Sprintf("attention.repeat_mask(%d)", k.h) }

func (k repeatMaskKernel) OutputShape(in []tensor.Shape) (tensor.Shape, error) {
	s := in[0]
	if s.Dims() != 3 {
		return nil, errors.Errorf("mask %v, want (B, Tq, Tk)", s)
	}
	return tensor.Shape{s[0] * k.h, s[1], s[2]}, nil
}

func (repeatMaskKernel) Differentiable(int) []bool { return []bool{false} }

func (k repeatMaskKernel) Forward(in []*tensor.Dense) (*tensor.Dense, error) {
	s := in[0].Shape()
	out := graph.NewDense(in[0].Dtype(), s[0]*k.h, s[1], s[2])
	per := s[1] * s[2]
	return out, onFloat(in[0].Dtype(),
		func() { repeatBlocks(vals[float32](in[0]), graph.Slice[float32](out), s[0], k.h, per) },
		func() { repeatBlocks(vals[float64](in[0]), graph.Slice[float64](out), s[0], k.h, per) })
}

func repeatBlocks[T graph.Float](src, dst []T, b, h, per int) {
	for bi := 0; bi < b; bi++ {
		for hi := 0; hi < h; hi++ {
			copy(dst[(bi*h+hi)*per:(bi*h+hi+1)*per], src[bi*per:(bi+1)*per])
		}
	}
}

func (repeatMaskKernel) Backward(int, []*tensor.Dense, *tensor.Dense, *tensor.Dense) (*tensor.Dense, error) {
	return nil, errors.New("repeat mask: not differentiable")
}

// meanHeadsKernel averages (B*h, Tq, Tk) weights over the heads.
type meanHeadsKernel struct{ h int }

func (k meanHeadsKernel) Key() string { return fmt.Sprintf("attention.mean_heads(%d)", k.h) }

func (k meanHeadsKernel) OutputShape(in []tensor.Shape) (tensor.Shape, error) {
	s := in[0]
	if s.Dims() != 3 || s[0]%k.h != 0 {
		return nil, errors.Errorf("mean heads: input %v for %d heads", s, k.h)
	}
	return tensor.Shape{s[0] / k.h, s[1], s[2]}, nil
}

func (meanHeadsKernel) Differentiable(int) []bool { return []bool{true} }

func (k meanHeadsKernel) Forward(in []*tensor.Dense) (*tensor.Dense, error) {
	s := in[0].Shape()
	b, per := s[0]/k.h, s[1]*s[2]
	out := graph.NewDense(in[0].Dtype(), b, s[1], s[2])
	return out, onFloat(in[0].Dtype(),
		func() { meanBlocks(vals[float32](in[0]), graph.Slice[float32](out), b, k.h, per) },
		func() { meanBlocks(vals[float64](in[0]), graph.Slice[float64](out), b, k.h, per) })
}

func meanBlocks[T graph.Float](src, dst []T, b, h, per int) {
	inv := 1 / T(h)
	for bi := 0; bi < b; bi++ {
		d := dst[bi*per : (bi+1)*per]
		for hi := 0; hi < h; hi++ {
			for j, v := range src[(bi*h+hi)*per : (bi*h+hi+1)*per] {
				d[j] += v * inv
			}
		}
	}
}

func (k meanHeadsKernel) Backward(_ int, in []*tensor.Dense, _, g *tensor.Dense) (*tensor.Dense, error) {
	s := in[0].Shape()
	b, per := s[0]/k.h, s[1]*s[2]
	grad := graph.NewDense(in[0].Dtype(), s...)
	return grad, onFloat(in[0].Dtype(),
		func() { spreadBlocks(vals[float32](g), graph.Slice[float32](grad), b, k.h, per) },
		func() { spreadBlocks(vals[float64](g), graph.Slice[float64](grad), b, k.h, per) })
}

func spreadBlocks[T graph.Float](g, d []T, b, h, per int) {
	inv := 1 / T(h)
	for bi := 0; bi < b; bi++ {
		for hi := 0; hi < h; hi++ {
			dst := d[(bi*h+hi)*per : (bi*h+hi+1)*per]
			for j, v := range g[bi*per : (bi+1)*per] {
				dst[j] = v * inv
			}
		}
	}
}

// ---- keyMask ----

// keyMaskKernel turns keep (B, Tk), 1 for a real key and 0 for padding, into an
// additive mask (B, Tq, Tk): 0 where attention is allowed, MaskValue where the key
// is padding or (causal) in the future of the query (key index > query index).
type keyMaskKernel struct {
	tq     int
	causal bool
}

func (k keyMaskKernel) Key() string {
	return fmt.Sprintf("attention.key_mask(tq=%d,causal=%t)", k.tq, k.causal)
}

func (k keyMaskKernel) OutputShape(in []tensor.Shape) (tensor.Shape, error) {
	s := in[0]
	if s.Dims() != 2 {
		return nil, errors.Errorf("key mask: keep %v, want (B, Tk)", s)
	}
	return tensor.Shape{s[0], k.tq, s[1]}, nil
}

func (keyMaskKernel) Differentiable(int) []bool { return []bool{false} }

func (k keyMaskKernel) Forward(in []*tensor.Dense) (*tensor.Dense, error) {
	s := in[0].Shape()
	out := graph.NewDense(in[0].Dtype(), s[0], k.tq, s[1])
	return out, onFloat(in[0].Dtype(),
		func() { fillKeyMask(vals[float32](in[0]), graph.Slice[float32](out), s[0], k.tq, s[1], k.causal) },
		func() { fillKeyMask(vals[float64](in[0]), graph.Slice[float64](out), s[0], k.tq, s[1], k.causal) })
}

func fillKeyMask[T graph.Float](keep, out []T, b, tq, tk int, causal bool) {
	for bi := 0; bi < b; bi++ {
		for q := 0; q < tq; q++ {
			row := out[(bi*tq+q)*tk : (bi*tq+q+1)*tk]
			for j := range row {
				if keep[bi*tk+j] == 0 || (causal && j > q) {
					row[j] = MaskValue
				}
			}
		}
	}
}

func (keyMaskKernel) Backward(int, []*tensor.Dense, *tensor.Dense, *tensor.Dense) (*tensor.Dense, error) {
	return nil, errors.New("key mask: not differentiable")
}

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

func (addTanhKernel) Forward(in []*tensor.Dense) (*tensor.Dense, error) {
	out := graph.NewDense(in[0].Dtype(), in[0].Shape()...)
	s := in[0].Shape()
	return out, onFloat(in[0].Dtype(),
		func() {
			addTanh(vals[float32](in[0]), vals[float32](in[1]), graph.Slice[float32](out), s[0], s[1], s[2])
		},
		func() {
			addTanh(vals[float64](in[0]), vals[float64](in[1]), graph.Slice[float64](out), s[0], s[1], s[2])
		})
}

func addTanh[T graph.Float](k, q, y []T, b, n, a int) {
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

// Backward: dK = g (1 - T^2), dq_b = sum_s g_bs (1 - T_bs^2).
func (addTanhKernel) Backward(wrt int, in []*tensor.Dense, out, g *tensor.Dense) (*tensor.Dense, error) {
	grad := graph.NewDense(in[wrt].Dtype(), in[wrt].Shape()...)
	s := in[0].Shape()
	return grad, onFloat(in[0].Dtype(),
		func() {
			addTanhBack(wrt, vals[float32](out), vals[float32](g), graph.Slice[float32](grad), s[0], s[1], s[2])
		},
		func() {
			addTanhBack(wrt, vals[float64](out), vals[float64](g), graph.Slice[float64](grad), s[0], s[1], s[2])
		})
}

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

func (vecScoreKernel) Forward(in []*tensor.Dense) (*tensor.Dense, error) {
	s := in[0].Shape()
	out := graph.NewDense(in[0].Dtype(), s[0], s[1])
	return out, onFloat(in[0].Dtype(),
		func() { vecScore(vals[float32](in[0]), vals[float32](in[1]), graph.Slice[float32](out)) },
		func() { vecScore(vals[float64](in[0]), vals[float64](in[1]), graph.Slice[float64](out)) })
}

func vecScore[T graph.Float](t, v, e []T) {
	a := len(v)
	for r := range e {
		var sum T
		for j, x := range t[r*a : (r+1)*a] {
			sum += x * v[j]
		}
		e[r] = sum
	}
}

// Backward: dT_bs = g_bs v, dv = sum_bs g_bs T_bs.
func (vecScoreKernel) Backward(wrt int, in []*tensor.Dense, _, g *tensor.Dense) (*tensor.Dense, error) {
	grad := graph.NewDense(in[wrt].Dtype(), in[wrt].Shape()...)
	return grad, onFloat(in[0].Dtype(),
		func() {
			vecScoreBack(wrt, vals[float32](in[0]), vals[float32](in[1]), vals[float32](g), graph.Slice[float32](grad))
		},
		func() {
			vecScoreBack(wrt, vals[float64](in[0]), vals[float64](in[1]), vals[float64](g), graph.Slice[float64](grad))
		})
}

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

// dotKernel: inputs q (B,H), K (B,S,H); output e (B,S), e_bs = q_b . K_bs.
type dotKernel struct{}

func (dotKernel) Key() string { return "attention.dot_score" }

func (dotKernel) OutputShape(in []tensor.Shape) (tensor.Shape, error) {
	q, k := in[0], in[1]
	if q.Dims() != 2 || k.Dims() != 3 || q[0] != k[0] || q[1] != k[2] {
		return nil, errors.Errorf("dot score: query %v, keys %v", q, k)
	}
	return tensor.Shape{k[0], k[1]}, nil
}

func (dotKernel) Differentiable(int) []bool { return []bool{true, true} }

func (dotKernel) Forward(in []*tensor.Dense) (*tensor.Dense, error) {
	s := in[1].Shape()
	out := graph.NewDense(in[0].Dtype(), s[0], s[1])
	return out, onFloat(in[0].Dtype(),
		func() { dotScore[float32](in, nil, -1, out) },
		func() { dotScore[float64](in, nil, -1, out) })
}

func (dotKernel) Backward(wrt int, in []*tensor.Dense, _, g *tensor.Dense) (*tensor.Dense, error) {
	grad := graph.NewDense(in[wrt].Dtype(), in[wrt].Shape()...)
	return grad, onFloat(in[0].Dtype(),
		func() { dotScore[float32](in, g, wrt, grad) },
		func() { dotScore[float64](in, g, wrt, grad) })
}

// dotScore: dq_b = sum_s g_bs K_bs, dK_bs = g_bs q_b.
func dotScore[T graph.Float](in []*tensor.Dense, gt *tensor.Dense, wrt int, out *tensor.Dense) {
	q, kk := vals[T](in[0]), vals[T](in[1])
	s := in[1].Shape()
	b, n, h := s[0], s[1], s[2]
	o := graph.Slice[T](out)
	var g []T
	if gt != nil {
		g = vals[T](gt)
	}
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
type contextKernel struct{}

func (contextKernel) Key() string { return "attention.context" }

func (contextKernel) OutputShape(in []tensor.Shape) (tensor.Shape, error) {
	w, v := in[0], in[1]
	if w.Dims() != 2 || v.Dims() != 3 || w[0] != v[0] || w[1] != v[1] {
		return nil, errors.Errorf("context: weights %v, values %v", w, v)
	}
	return tensor.Shape{v[0], v[2]}, nil
}

func (contextKernel) Differentiable(int) []bool { return []bool{true, true} }

func (contextKernel) Forward(in []*tensor.Dense) (*tensor.Dense, error) {
	s := in[1].Shape()
	out := graph.NewDense(in[0].Dtype(), s[0], s[2])
	return out, onFloat(in[0].Dtype(),
		func() { contextOp[float32](in, nil, -1, out) },
		func() { contextOp[float64](in, nil, -1, out) })
}

func (contextKernel) Backward(wrt int, in []*tensor.Dense, _, g *tensor.Dense) (*tensor.Dense, error) {
	grad := graph.NewDense(in[wrt].Dtype(), in[wrt].Shape()...)
	return grad, onFloat(in[0].Dtype(),
		func() { contextOp[float32](in, g, wrt, grad) },
		func() { contextOp[float64](in, g, wrt, grad) })
}

// contextOp: dw_bs = g_b . V_bs, dV_bs = w_bs g_b.
func contextOp[T graph.Float](in []*tensor.Dense, gt *tensor.Dense, wrt int, out *tensor.Dense) {
	w, v := vals[T](in[0]), vals[T](in[1])
	s := in[1].Shape()
	b, n, h := s[0], s[1], s[2]
	o := graph.Slice[T](out)
	var g []T
	if gt != nil {
		g = vals[T](gt)
	}
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

// ---- stack ----

// stackKernel stacks T inputs (B, D...) into (B, T, D...).
type stackKernel struct{}

func (stackKernel) Key() string { return "attention.stack" }

func (stackKernel) OutputShape(in []tensor.Shape) (tensor.Shape, error) {
	first := in[0]
	if first.Dims() < 1 {
		return nil, errors.New("stack: scalar input")
	}
	for i, s := range in[1:] {
		if !s.Eq(first) {
			return nil, errors.Errorf("stack: input %d has shape %v, input 0 %v", i+1, s, first)
		}
	}
	out := tensor.Shape{first[0], len(in)}
	return append(out, first[1:]...), nil
}

func (stackKernel) Differentiable(n int) []bool { return allTrue(n) }

func (stackKernel) Forward(in []*tensor.Dense) (*tensor.Dense, error) {
	s := in[0].Shape()
	shape := append([]int{s[0], len(in)}, s[1:]...)
	out := graph.NewDense(in[0].Dtype(), shape...)
	per := s.TotalSize() / s[0]
	return out, onFloat(in[0].Dtype(),
		func() {
			o := graph.Slice[float32](out)
			for t, x := range in {
				stackInto(o, vals[float32](x), s[0], len(in), t, per)
			}
		},
		func() {
			o := graph.Slice[float64](out)
			for t, x := range in {
				stackInto(o, vals[float64](x), s[0], len(in), t, per)
			}
		})
}

func stackInto[T graph.Float](out, x []T, b, steps, t, per int) {
	for bi := 0; bi < b; bi++ {
		copy(out[(bi*steps+t)*per:(bi*steps+t+1)*per], x[bi*per:(bi+1)*per])
	}
}

func (stackKernel) Backward(wrt int, in []*tensor.Dense, _, g *tensor.Dense) (*tensor.Dense, error) {
	s := in[wrt].Shape()
	grad := graph.NewDense(in[wrt].Dtype(), s...)
	per := s.TotalSize() / s[0]
	steps := len(in)
	return grad, onFloat(in[0].Dtype(),
		func() { unstackFrom(graph.Slice[float32](grad), vals[float32](g), s[0], steps, wrt, per) },
		func() { unstackFrom(graph.Slice[float64](grad), vals[float64](g), s[0], steps, wrt, per) })
}

func unstackFrom[T graph.Float](d, g []T, b, steps, t, per int) {
	for bi := 0; bi < b; bi++ {
		copy(d[bi*per:(bi+1)*per], g[(bi*steps+t)*per:(bi*steps+t+1)*per])
	}
}

// ---- positions ----

// Sinusoid returns the sinusoidal positional encoding of Vaswani et al. (2017),
// sec. 3.5, for position pos and feature i of a width-d model:
// PE(pos, 2j) = sin(pos / 10000^(2j/d)), PE(pos, 2j+1) = cos(pos / 10000^(2j/d)).
func Sinusoid(pos, i, d int) float64 {
	j := i / 2
	angle := float64(pos) / math.Pow(10000, float64(2*j)/float64(d))
	if i%2 == 0 {
		return math.Sin(angle)
	}
	return math.Cos(angle)
}

// sinusoidKernel adds the sinusoidal encoding to x (B, T, E).
type sinusoidKernel struct{}

func (sinusoidKernel) Key() string { return "attention.sinusoid" }

func (sinusoidKernel) OutputShape(in []tensor.Shape) (tensor.Shape, error) {
	if in[0].Dims() != 3 {
		return nil, errors.Errorf("positional encoding: input %v, want (B, T, E)", in[0])
	}
	return in[0].Clone(), nil
}

func (sinusoidKernel) Differentiable(int) []bool { return []bool{true} }

func (sinusoidKernel) Forward(in []*tensor.Dense) (*tensor.Dense, error) {
	s := in[0].Shape()
	out := graph.NewDense(in[0].Dtype(), s...)
	return out, onFloat(in[0].Dtype(),
		func() { addSinusoid(vals[float32](in[0]), graph.Slice[float32](out), s[0], s[1], s[2]) },
		func() { addSinusoid(vals[float64](in[0]), graph.Slice[float64](out), s[0], s[1], s[2]) })
}

func addSinusoid[T graph.Float](x, y []T, b, t, e int) {
	pe := make([]T, t*e)
	for p := 0; p < t; p++ {
		for i := 0; i < e; i++ {
			pe[p*e+i] = T(Sinusoid(p, i, e))
		}
	}
	for bi := 0; bi < b; bi++ {
		for j, v := range pe {
			y[bi*t*e+j] = x[bi*t*e+j] + v
		}
	}
}

func (sinusoidKernel) Backward(_ int, _ []*tensor.Dense, _, g *tensor.Dense) (*tensor.Dense, error) {
	return scaled(g, 1)
}

// addPositionsKernel adds the first T rows of a (L, E) table to x (B, T, E).
type addPositionsKernel struct{}

func (addPositionsKernel) Key() string { return "attention.add_positions" }

func (addPositionsKernel) OutputShape(in []tensor.Shape) (tensor.Shape, error) {
	x, p := in[0], in[1]
	if x.Dims() != 3 || p.Dims() != 2 || p[1] != x[2] || p[0] < x[1] {
		return nil, errors.Errorf("learned positions: input %v, table %v (need T <= rows)", x, p)
	}
	return x.Clone(), nil
}

func (addPositionsKernel) Differentiable(int) []bool { return []bool{true, true} }

func (addPositionsKernel) Forward(in []*tensor.Dense) (*tensor.Dense, error) {
	s := in[0].Shape()
	out := graph.NewDense(in[0].Dtype(), s...)
	return out, onFloat(in[0].Dtype(),
		func() {
			addTable(vals[float32](in[0]), vals[float32](in[1]), graph.Slice[float32](out), s[0], s[1]*s[2])
		},
		func() {
			addTable(vals[float64](in[0]), vals[float64](in[1]), graph.Slice[float64](out), s[0], s[1]*s[2])
		})
}

func addTable[T graph.Float](x, p, y []T, b, per int) {
	for bi := 0; bi < b; bi++ {
		for j := 0; j < per; j++ {
			y[bi*per+j] = x[bi*per+j] + p[j]
		}
	}
}

func (addPositionsKernel) Backward(wrt int, in []*tensor.Dense, _, g *tensor.Dense) (*tensor.Dense, error) {
	if wrt == 0 {
		return scaled(g, 1)
	}
	s := in[0].Shape()
	grad := graph.NewDense(in[1].Dtype(), in[1].Shape()...)
	per := s[1] * s[2]
	return grad, onFloat(in[0].Dtype(),
		func() { sumBatch(vals[float32](g), graph.Slice[float32](grad), s[0], per) },
		func() { sumBatch(vals[float64](g), graph.Slice[float64](grad), s[0], per) })
}

func sumBatch[T graph.Float](g, d []T, b, per int) {
	for bi := 0; bi < b; bi++ {
		for j, v := range g[bi*per : (bi+1)*per] {
			d[j] += v
		}
	}
}

// ---- pick ----

// pickKernel selects one position per row: x (N, T, E...), pos (N) tensor.Int ->
// (N, E...).
type pickKernel struct{}

func (pickKernel) Key() string { return "attention.pick" }

func (pickKernel) OutputShape(in []tensor.Shape) (tensor.Shape, error) {
	x, p := in[0], in[1]
	if x.Dims() < 2 || p.TotalSize() != x[0] {
		return nil, errors.Errorf("pick: input %v, positions %v", x, p)
	}
	return append(tensor.Shape{x[0]}, x[2:]...), nil
}

func (pickKernel) Differentiable(int) []bool { return []bool{true, false} }

func (pickKernel) layout(x *tensor.Dense) (n, t, per int) {
	s := x.Shape()
	return s[0], s[1], s.TotalSize() / (s[0] * s[1])
}

func (k pickKernel) Forward(in []*tensor.Dense) (*tensor.Dense, error) {
	n, t, per := k.layout(in[0])
	pos := graph.Ints(in[1])
	for i, p := range pos {
		if p < 0 || p >= t {
			return nil, errors.Errorf("pick: position %d of row %d outside [0, %d)", p, i, t)
		}
	}
	shape := append([]int{n}, in[0].Shape()[2:]...)
	out := graph.NewDense(in[0].Dtype(), shape...)
	return out, onFloat(in[0].Dtype(),
		func() { pickRows(vals[float32](in[0]), graph.Slice[float32](out), pos, t, per, false) },
		func() { pickRows(vals[float64](in[0]), graph.Slice[float64](out), pos, t, per, false) })
}

func (k pickKernel) Backward(_ int, in []*tensor.Dense, _, g *tensor.Dense) (*tensor.Dense, error) {
	_, t, per := k.layout(in[0])
	pos := graph.Ints(in[1])
	grad := graph.NewDense(in[0].Dtype(), in[0].Shape()...)
	return grad, onFloat(in[0].Dtype(),
		func() { pickRows(graph.Slice[float32](grad), vals[float32](g), pos, t, per, true) },
		func() { pickRows(graph.Slice[float64](grad), vals[float64](g), pos, t, per, true) })
}

// pickRows copies row pos[n] of block n of big into small (scatter false) or back.
func pickRows[T graph.Float](big, small []T, pos []int, t, per int, scatter bool) {
	for n, p := range pos {
		b := big[(n*t+p)*per : (n*t+p+1)*per]
		s := small[n*per : (n+1)*per]
		if scatter {
			copy(b, s)
		} else {
			copy(s, b)
		}
	}
}

// ---- concat ----

// concatKernel joins inputs (..., d_i) along the last axis into (..., sum d_i).
type concatKernel struct{}

func (concatKernel) Key() string { return "attention.concat_last" }

func (concatKernel) OutputShape(in []tensor.Shape) (tensor.Shape, error) {
	first := in[0]
	if first.Dims() < 1 {
		return nil, errors.New("concat: scalar input")
	}
	lead := first[:first.Dims()-1]
	width := 0
	for i, s := range in {
		if s.Dims() != first.Dims() || !tensor.Shape(s[:s.Dims()-1]).Eq(lead) {
			return nil, errors.Errorf("concat: input %d has shape %v, input 0 %v", i, s, first)
		}
		width += s[s.Dims()-1]
	}
	return append(append(tensor.Shape{}, lead...), width), nil
}

func (concatKernel) Differentiable(n int) []bool { return allTrue(n) }

func (k concatKernel) Forward(in []*tensor.Dense) (*tensor.Dense, error) {
	shapes := make([]tensor.Shape, len(in))
	for i, x := range in {
		shapes[i] = x.Shape()
	}
	s, err := k.OutputShape(shapes)
	if err != nil {
		return nil, err
	}
	out := graph.NewDense(in[0].Dtype(), s...)
	width := s[s.Dims()-1]
	rows := s.TotalSize() / width
	return out, onFloat(in[0].Dtype(),
		func() {
			o, off := graph.Slice[float32](out), 0
			for _, x := range in {
				d := x.Shape()[x.Dims()-1]
				copyColumns(o, vals[float32](x), rows, width, d, off, false)
				off += d
			}
		},
		func() {
			o, off := graph.Slice[float64](out), 0
			for _, x := range in {
				d := x.Shape()[x.Dims()-1]
				copyColumns(o, vals[float64](x), rows, width, d, off, false)
				off += d
			}
		})
}

func (concatKernel) Backward(wrt int, in []*tensor.Dense, _, g *tensor.Dense) (*tensor.Dense, error) {
	s := in[wrt].Shape()
	d := s[s.Dims()-1]
	rows := s.TotalSize() / d
	off := 0
	for _, x := range in[:wrt] {
		off += x.Shape()[x.Dims()-1]
	}
	width := g.Shape()[g.Dims()-1]
	grad := graph.NewDense(in[wrt].Dtype(), s...)
	return grad, onFloat(in[0].Dtype(),
		func() { copyColumns(vals[float32](g), graph.Slice[float32](grad), rows, width, d, off, true) },
		func() { copyColumns(vals[float64](g), graph.Slice[float64](grad), rows, width, d, off, true) })
}

// copyColumns copies the (rows, d) block x into columns [off, off+d) of the
// (rows, width) matrix wide, or back when toX.
func copyColumns[T graph.Float](wide, x []T, rows, width, d, off int, toX bool) {
	for r := 0; r < rows; r++ {
		w := wide[r*width+off : r*width+off+d]
		if toX {
			copy(x[r*d:(r+1)*d], w)
		} else {
			copy(w, x[r*d:(r+1)*d])
		}
	}
}
