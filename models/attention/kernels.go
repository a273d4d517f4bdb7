package attention

import (
	"fmt"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
)

// The attention layers are built from small fused kernels over row-major tensors,
// each with a float64 gradient check (attention_test.go, kernels_test.go):
//
//	bmm:          C_n = op(A_n) op(B_n) for every n of a batch (op: identity or transpose)
//	affineRows:   y = x W[lo:hi]^T + b[lo:hi]       (one block of a packed projection; heads.go)
//	heads:        (B, T, h*d) <-> (B*h, T, d)        (split and merge attention heads)
//	repeatMask:   (B, Tq, Tk) -> (B*h, Tq, Tk)       (a mask for every head; not differentiated)
//	meanHeads:    (B*h, Tq, Tk) -> (B, Tq, Tk)       (head-averaged weights)
//	keyMask:      keep (B, Tk) -> additive (B, Tq, Tk), optionally causal (not differentiated; mask.go)
//	addTanh:      T_bsa = tanh(K_bsa + q_ba)                   (Bahdanau's score is T v; score.go)
//	vecScore:     e_bs = sum_a T_bsa v_a
//	dot:          e_bs = sum_h q_bh K_bsh                      (Luong's dot score)
//	context:      c_bh = sum_s w_bs V_bsh
//
// The generic shape ops (stack, concat, scale, pick) are graph's.

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

// leadingDims returns the row strides of the stored a, (m, k) or transposed
// (k, m), and b, (k, p) or transposed (p, k).
func leadingDims(ta, tb bool, m, p, k int) (lda, ldb int) {
	lda, ldb = k, p
	if ta {
		lda = m
	}
	if tb {
		ldb = k
	}
	return lda, ldb
}

// bmm computes c_n = op(a_n) op(b_n) with op(a_n) (m, k) and op(b_n) (k, p).
func bmm[T graph.Float](ta, tb bool, n, m, p, k int, a, b, c []T) {
	lda, ldb := leadingDims(ta, tb, m, p, k)
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
	lda, ldb := leadingDims(ta, tb, m, p, k)
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
