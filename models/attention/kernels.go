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
//	affineRows:   y = x W[lo:hi]^T + b[lo:hi]       (one block of a packed projection)
//	heads:        (B, T, h*d) <-> (B*h, T, d)        (split and merge attention heads)
//	repeatMask:   (B, Tq, Tk) -> (B*h, Tq, Tk)       (a mask for every head; not differentiated)
//	meanHeads:    (B*h, Tq, Tk) -> (B, Tq, Tk)       (head-averaged weights)
//	keyMask:      keep (B, Tk) -> additive (B, Tq, Tk), optionally causal (not differentiated)
//	addTanh:      T_bsa = tanh(K_bsa + q_ba)                   (Bahdanau's score is T v)
//	vecScore:     e_bs = sum_a T_bsa v_a
//	dot:          e_bs = sum_h q_bh K_bsh                      (Luong's dot score)
//	context:      c_bh = sum_s w_bs V_bsh
//	sinusoid:     y_bti = x_bti + PE_ti                        (Vaswani et al. 2017, sec. 3.5)
//	addPositions: y_bti = x_bti + P_ti for a (L, E) table P, T <= L
//
// The generic shape ops (stack, concat, scale, pick) are graph's.

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

func (k bmmKernel) ForwardInto(out *tensor.Dense, in []*tensor.Dense) error {
	n, m, kk, p, err := k.dims(in[0].Shape(), in[1].Shape())
	if err != nil {
		return err
	}
	return graph.Dispatch(out.Dtype(),
		func() {
			bmm(k.transA, k.transB, n, m, p, kk, graph.RowMajor[float32](in[0]), graph.RowMajor[float32](in[1]), graph.Slice[float32](out))
		},
		func() {
			bmm(k.transA, k.transB, n, m, p, kk, graph.RowMajor[float64](in[0]), graph.RowMajor[float64](in[1]), graph.Slice[float64](out))
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

// BackwardInto: with C = op(A) op(B) and G = dL/dC,
//
//	A (no trans): dA = G op(B)^T;  A trans: dA = op(B) G^T
//	B (no trans): dB = op(A)^T G;  B trans: dB = G^T op(A)
func (k bmmKernel) BackwardInto(grad *tensor.Dense, wrt int, in []*tensor.Dense, _, g *tensor.Dense) error {
	n, m, kk, p, err := k.dims(in[0].Shape(), in[1].Shape())
	if err != nil {
		return err
	}
	return graph.Dispatch(grad.Dtype(),
		func() {
			bmmBack(k.transA, k.transB, wrt, n, m, p, kk, graph.RowMajor[float32](in[0]), graph.RowMajor[float32](in[1]), graph.RowMajor[float32](g), graph.Slice[float32](grad))
		},
		func() {
			bmmBack(k.transA, k.transB, wrt, n, m, p, kk, graph.RowMajor[float64](in[0]), graph.RowMajor[float64](in[1]), graph.RowMajor[float64](g), graph.Slice[float64](grad))
		})
}

// Overwrites implements graph.Overwriter: every product is written whole (beta 0).
func (bmmKernel) Overwrites(int) bool { return true }

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

func (k affineRowsKernel) ForwardInto(out *tensor.Dense, in []*tensor.Dense) error {
	return graph.Dispatch(out.Dtype(),
		func() { affineRowsForward[float32](k, in, out) },
		func() { affineRowsForward[float64](k, in, out) })
}

func affineRowsForward[T graph.Float](k affineRowsKernel, in []*tensor.Dense, out *tensor.Dense) {
	x, w := graph.RowMajor[T](in[0]), graph.RowMajor[T](in[1])
	kk := in[1].Shape()[1]
	n := k.hi - k.lo
	m := len(x) / kk
	y := graph.Slice[T](out)
	var beta T
	if len(in) == 3 {
		b := graph.RowMajor[T](in[2])[k.lo:k.hi]
		for i := 0; i < m; i++ {
			copy(y[i*n:(i+1)*n], b)
		}
		beta = 1
	}
	graph.Gemm(false, true, m, n, kk, x, kk, w[k.lo*kk:k.hi*kk], kk, beta, y, n)
}

func (k affineRowsKernel) BackwardInto(grad *tensor.Dense, wrt int, in []*tensor.Dense, _, g *tensor.Dense) error {
	return graph.Dispatch(grad.Dtype(),
		func() { affineRowsBackward[float32](k, wrt, in, g, grad) },
		func() { affineRowsBackward[float64](k, wrt, in, g, grad) })
}

// Overwrites implements graph.Overwriter: the output and the input's gradient
// are written whole; the weight's gradient only in rows [lo, hi), the bias's
// summed.
func (affineRowsKernel) Overwrites(wrt int) bool { return wrt <= 0 }

func affineRowsBackward[T graph.Float](k affineRowsKernel, wrt int, in []*tensor.Dense, gt, grad *tensor.Dense) {
	x, w, g, d := graph.RowMajor[T](in[0]), graph.RowMajor[T](in[1]), graph.RowMajor[T](gt), graph.Slice[T](grad)
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

func (k headsKernel) ForwardInto(out *tensor.Dense, in []*tensor.Dense) error {
	return k.permute(out, in[0], k.merge)
}

func (k headsKernel) BackwardInto(grad *tensor.Dense, _ int, _ []*tensor.Dense, _, g *tensor.Dense) error {
	return k.permute(grad, g, !k.merge)
}

// Overwrites implements graph.Overwriter: a permutation writes every element.
func (headsKernel) Overwrites(int) bool { return true }

// permute writes x, split into heads or merged back, into out.
func (k headsKernel) permute(out, x *tensor.Dense, merge bool) error {
	s := x.Shape()
	b, t, d := s[0], s[1], s[2]/k.h
	if merge {
		b, d = s[0]/k.h, s[2]
	}
	return graph.Dispatch(out.Dtype(),
		func() { permuteHeads(graph.RowMajor[float32](x), graph.Slice[float32](out), b, t, k.h, d, merge) },
		func() { permuteHeads(graph.RowMajor[float64](x), graph.Slice[float64](out), b, t, k.h, d, merge) })
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
type repeatMaskKernel struct {
	graph.NoGradient
	h int
}

func (k repeatMaskKernel) Key() string { return fmt.Sprintf("attention.repeat_mask(%d)", k.h) }

func (k repeatMaskKernel) OutputShape(in []tensor.Shape) (tensor.Shape, error) {
	s := in[0]
	if s.Dims() != 3 {
		return nil, errors.Errorf("mask %v, want (B, Tq, Tk)", s)
	}
	return tensor.Shape{s[0] * k.h, s[1], s[2]}, nil
}

func (repeatMaskKernel) Differentiable(int) []bool { return []bool{false} }

func (k repeatMaskKernel) ForwardInto(out *tensor.Dense, in []*tensor.Dense) error {
	s := in[0].Shape()
	per := s[1] * s[2]
	return graph.Dispatch(out.Dtype(),
		func() { repeatBlocks(graph.RowMajor[float32](in[0]), graph.Slice[float32](out), s[0], k.h, per) },
		func() { repeatBlocks(graph.RowMajor[float64](in[0]), graph.Slice[float64](out), s[0], k.h, per) })
}

// Overwrites implements graph.Overwriter: every block is copied.
func (repeatMaskKernel) Overwrites(int) bool { return true }

func repeatBlocks[T graph.Float](src, dst []T, b, h, per int) {
	for bi := 0; bi < b; bi++ {
		for hi := 0; hi < h; hi++ {
			copy(dst[(bi*h+hi)*per:(bi*h+hi+1)*per], src[bi*per:(bi+1)*per])
		}
	}
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

func (k meanHeadsKernel) ForwardInto(out *tensor.Dense, in []*tensor.Dense) error {
	s := in[0].Shape()
	b, per := s[0]/k.h, s[1]*s[2]
	return graph.Dispatch(out.Dtype(),
		func() { meanBlocks(graph.RowMajor[float32](in[0]), graph.Slice[float32](out), b, k.h, per) },
		func() { meanBlocks(graph.RowMajor[float64](in[0]), graph.Slice[float64](out), b, k.h, per) })
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

func (k meanHeadsKernel) BackwardInto(grad *tensor.Dense, _ int, in []*tensor.Dense, _, g *tensor.Dense) error {
	s := in[0].Shape()
	b, per := s[0]/k.h, s[1]*s[2]
	return graph.Dispatch(grad.Dtype(),
		func() { spreadBlocks(graph.RowMajor[float32](g), graph.Slice[float32](grad), b, k.h, per) },
		func() { spreadBlocks(graph.RowMajor[float64](g), graph.Slice[float64](grad), b, k.h, per) })
}

// Overwrites implements graph.Overwriter: the mean is accumulated; its gradient
// is written whole.
func (meanHeadsKernel) Overwrites(wrt int) bool { return wrt == 0 }

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
	graph.NoGradient
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

func (k keyMaskKernel) ForwardInto(out *tensor.Dense, in []*tensor.Dense) error {
	s := in[0].Shape()
	return graph.Dispatch(out.Dtype(),
		func() {
			fillKeyMask(graph.RowMajor[float32](in[0]), graph.Slice[float32](out), s[0], k.tq, s[1], k.causal)
		},
		func() {
			fillKeyMask(graph.RowMajor[float64](in[0]), graph.Slice[float64](out), s[0], k.tq, s[1], k.causal)
		})
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
	s := in[0].Shape()
	return graph.Dispatch(out.Dtype(),
		func() {
			addTanh(graph.RowMajor[float32](in[0]), graph.RowMajor[float32](in[1]), graph.Slice[float32](out), s[0], s[1], s[2])
		},
		func() {
			addTanh(graph.RowMajor[float64](in[0]), graph.RowMajor[float64](in[1]), graph.Slice[float64](out), s[0], s[1], s[2])
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
	return graph.Dispatch(out.Dtype(),
		func() {
			vecScore(graph.RowMajor[float32](in[0]), graph.RowMajor[float32](in[1]), graph.Slice[float32](out))
		},
		func() {
			vecScore(graph.RowMajor[float64](in[0]), graph.RowMajor[float64](in[1]), graph.Slice[float64](out))
		})
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

func (dotKernel) ForwardInto(out *tensor.Dense, in []*tensor.Dense) error {
	return graph.Dispatch(out.Dtype(), func() { dotScore[float32](in, nil, -1, out) }, func() { dotScore[float64](in, nil, -1, out) })
}

func (dotKernel) BackwardInto(grad *tensor.Dense, wrt int, in []*tensor.Dense, _, g *tensor.Dense) error {
	return graph.Dispatch(grad.Dtype(), func() { dotScore[float32](in, g, wrt, grad) }, func() { dotScore[float64](in, g, wrt, grad) })
}

// Overwrites implements graph.Overwriter: the scores and the keys' gradient are
// written whole; the query's is summed.
func (dotKernel) Overwrites(wrt int) bool { return wrt != 0 }

// dotScore: dq_b = sum_s g_bs K_bs, dK_bs = g_bs q_b.
func dotScore[T graph.Float](in []*tensor.Dense, gt *tensor.Dense, wrt int, out *tensor.Dense) {
	q, kk := graph.RowMajor[T](in[0]), graph.RowMajor[T](in[1])
	s := in[1].Shape()
	b, n, h := s[0], s[1], s[2]
	o := graph.Slice[T](out)
	var g []T
	if gt != nil {
		g = graph.RowMajor[T](gt)
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

func (contextKernel) ForwardInto(out *tensor.Dense, in []*tensor.Dense) error {
	return graph.Dispatch(out.Dtype(), func() { contextOp[float32](in, nil, -1, out) }, func() { contextOp[float64](in, nil, -1, out) })
}

func (contextKernel) BackwardInto(grad *tensor.Dense, wrt int, in []*tensor.Dense, _, g *tensor.Dense) error {
	return graph.Dispatch(grad.Dtype(), func() { contextOp[float32](in, g, wrt, grad) }, func() { contextOp[float64](in, g, wrt, grad) })
}

// Overwrites implements graph.Overwriter: the context is summed; both gradients
// are written whole.
func (contextKernel) Overwrites(wrt int) bool { return wrt >= 0 }

// contextOp: dw_bs = g_b . V_bs, dV_bs = w_bs g_b.
func contextOp[T graph.Float](in []*tensor.Dense, gt *tensor.Dense, wrt int, out *tensor.Dense) {
	w, v := graph.RowMajor[T](in[0]), graph.RowMajor[T](in[1])
	s := in[1].Shape()
	b, n, h := s[0], s[1], s[2]
	o := graph.Slice[T](out)
	var g []T
	if gt != nil {
		g = graph.RowMajor[T](gt)
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

func (sinusoidKernel) ForwardInto(out *tensor.Dense, in []*tensor.Dense) error {
	s := in[0].Shape()
	return graph.Dispatch(out.Dtype(),
		func() { addSinusoid(graph.RowMajor[float32](in[0]), graph.Slice[float32](out), s[0], s[1], s[2]) },
		func() { addSinusoid(graph.RowMajor[float64](in[0]), graph.Slice[float64](out), s[0], s[1], s[2]) })
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

func (sinusoidKernel) BackwardInto(grad *tensor.Dense, _ int, _ []*tensor.Dense, _, g *tensor.Dense) error {
	return graph.ScaleInto(grad, g, 1)
}

// Overwrites implements graph.Overwriter: every element is written.
func (sinusoidKernel) Overwrites(int) bool { return true }

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

func (addPositionsKernel) ForwardInto(out *tensor.Dense, in []*tensor.Dense) error {
	s := in[0].Shape()
	return graph.Dispatch(out.Dtype(),
		func() {
			addTable(graph.RowMajor[float32](in[0]), graph.RowMajor[float32](in[1]), graph.Slice[float32](out), s[0], s[1]*s[2])
		},
		func() {
			addTable(graph.RowMajor[float64](in[0]), graph.RowMajor[float64](in[1]), graph.Slice[float64](out), s[0], s[1]*s[2])
		})
}

func addTable[T graph.Float](x, p, y []T, b, per int) {
	for bi := 0; bi < b; bi++ {
		for j := 0; j < per; j++ {
			y[bi*per+j] = x[bi*per+j] + p[j]
		}
	}
}

func (addPositionsKernel) BackwardInto(grad *tensor.Dense, wrt int, in []*tensor.Dense, _, g *tensor.Dense) error {
	if wrt == 0 {
		return graph.ScaleInto(grad, g, 1)
	}
	s := in[0].Shape()
	per := s[1] * s[2]
	return graph.Dispatch(grad.Dtype(),
		func() { sumBatch(graph.RowMajor[float32](g), graph.Slice[float32](grad), s[0], per) },
		func() { sumBatch(graph.RowMajor[float64](g), graph.Slice[float64](grad), s[0], per) })
}

// Overwrites implements graph.Overwriter: the output and the input's gradient
// are written whole; the table's is summed over the batch.
func (addPositionsKernel) Overwrites(wrt int) bool { return wrt <= 0 }

func sumBatch[T graph.Float](g, d []T, b, per int) {
	for bi := 0; bi < b; bi++ {
		for j, v := range g[bi*per : (bi+1)*per] {
			d[j] += v
		}
	}
}
