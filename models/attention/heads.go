package attention

import (
	"fmt"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
)

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

func (affineRowsKernel) Differentiable(n int) []bool { return graph.AllDifferentiable(n) }

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
