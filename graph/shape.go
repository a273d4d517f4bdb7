package graph

import (
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Shape ops of the project's own, each one kernel with a float64 gradient check
// (shape_test.go):
//
//	Stack:   T nodes (B, D...) -> (B, T, D...)
//	Concat:  nodes (..., d_i) -> (..., sum d_i)       (along the last axis)
//	Scale:   y = c x                                  (a constant c)
//	Pick:    y_n = x_n,pos_n                          (one position per row)

// Stack stacks T nodes of shape (B, D...) into one (B, T, D...) node (for example
// per-step decoder outputs or attention weights). Every input is differentiated.
func Stack(b *Builder, xs []*G.Node) *G.Node {
	if len(xs) == 0 {
		return b.Fail(errors.New("stack: no inputs"))
	}
	for _, x := range xs {
		if x == nil {
			return nil
		}
	}
	return b.Check(Apply(stackKernel{}, xs...))
}

// Concat joins nodes (..., d_i) with equal leading dimensions along the last
// axis into (..., sum d_i). Every input is differentiated.
func Concat(b *Builder, xs ...*G.Node) *G.Node {
	for _, x := range xs {
		if x == nil {
			return nil
		}
	}
	if len(xs) == 0 {
		return b.Fail(errors.New("concat: no inputs"))
	}
	return b.Check(Apply(concatKernel{}, xs...))
}

// Scale multiplies x by the constant c.
func Scale(b *Builder, x *G.Node, c float64) *G.Node {
	if x == nil {
		return nil
	}
	return b.Check(Apply(scaleKernel{c: c}, x))
}

// Pick selects position pos[n] of each row n of x (N, T, D...): pos is a (N)
// tensor.Int node; the result is (N, D...). x is differentiated (its gradient is
// zero but at the picked positions), pos is not; a position outside [0, T) is an
// error at run time.
func Pick(b *Builder, x, pos *G.Node) *G.Node {
	if x == nil || pos == nil {
		return nil
	}
	return b.Check(Apply(pickKernel{}, x, pos))
}

// Grow returns buf resliced to n elements, or a new slice of n where buf's
// capacity is short: a kernel's scratch kept across runs. Old contents stay.
func Grow[T any](buf []T, n int) []T {
	if cap(buf) < n {
		return make([]T, n)
	}
	return buf[:n]
}

// AllDifferentiable returns n trues: the Differentiable of a kernel whose
// every input is differentiated.
func AllDifferentiable(n int) []bool {
	d := make([]bool, n)
	for i := range d {
		d[i] = true
	}
	return d
}

// ---- stack ----

// stackKernel stacks T inputs (B, D...) into (B, T, D...).
type stackKernel struct{}

func (stackKernel) Key() string { return "stack" }

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

func (stackKernel) Differentiable(n int) []bool { return AllDifferentiable(n) }

func (stackKernel) ForwardInto(out *tensor.Dense, in []*tensor.Dense) error {
	s := in[0].Shape()
	per := s.TotalSize() / s[0]
	return Dispatch(out.Dtype(),
		func() {
			for t, x := range in {
				stackInto(Slice[float32](out), RowMajor[float32](x), s[0], len(in), t, per)
			}
		},
		func() {
			for t, x := range in {
				stackInto(Slice[float64](out), RowMajor[float64](x), s[0], len(in), t, per)
			}
		})
}

func (stackKernel) BackwardInto(grad *tensor.Dense, wrt int, in []*tensor.Dense, _, g *tensor.Dense) error {
	s := in[wrt].Shape()
	per := s.TotalSize() / s[0]
	return Dispatch(grad.Dtype(),
		func() { unstackFrom(Slice[float32](grad), RowMajor[float32](g), s[0], len(in), wrt, per) },
		func() { unstackFrom(Slice[float64](grad), RowMajor[float64](g), s[0], len(in), wrt, per) })
}

// Overwrites implements Overwriter: the output and every gradient are copied
// whole.
func (stackKernel) Overwrites(int) bool { return true }

func stackInto[T Float](out, x []T, b, steps, t, per int) {
	for bi := 0; bi < b; bi++ {
		copy(out[(bi*steps+t)*per:(bi*steps+t+1)*per], x[bi*per:(bi+1)*per])
	}
}

func unstackFrom[T Float](d, g []T, b, steps, t, per int) {
	for bi := 0; bi < b; bi++ {
		copy(d[bi*per:(bi+1)*per], g[(bi*steps+t)*per:(bi*steps+t+1)*per])
	}
}

// ---- concat ----

// concatKernel joins inputs (..., d_i) along the last axis into (..., sum d_i).
type concatKernel struct{}

func (concatKernel) Key() string { return "concat_last" }

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

func (concatKernel) Differentiable(n int) []bool { return AllDifferentiable(n) }

func (concatKernel) ForwardInto(out *tensor.Dense, in []*tensor.Dense) error {
	s := out.Shape()
	width := s[s.Dims()-1]
	rows := s.TotalSize() / width
	return Dispatch(out.Dtype(),
		func() {
			off := 0
			for _, x := range in {
				d := x.Shape()[x.Dims()-1]
				copyColumns(Slice[float32](out), RowMajor[float32](x), rows, width, d, off, false)
				off += d
			}
		},
		func() {
			off := 0
			for _, x := range in {
				d := x.Shape()[x.Dims()-1]
				copyColumns(Slice[float64](out), RowMajor[float64](x), rows, width, d, off, false)
				off += d
			}
		})
}

func (concatKernel) BackwardInto(grad *tensor.Dense, wrt int, in []*tensor.Dense, _, g *tensor.Dense) error {
	s := in[wrt].Shape()
	d := s[s.Dims()-1]
	rows := s.TotalSize() / d
	off := 0
	for _, x := range in[:wrt] {
		off += x.Shape()[x.Dims()-1]
	}
	width := g.Shape()[g.Dims()-1]
	return Dispatch(grad.Dtype(),
		func() { copyColumns(RowMajor[float32](g), Slice[float32](grad), rows, width, d, off, true) },
		func() { copyColumns(RowMajor[float64](g), Slice[float64](grad), rows, width, d, off, true) })
}

// Overwrites implements Overwriter: the output and every gradient are copied
// whole.
func (concatKernel) Overwrites(int) bool { return true }

// copyColumns copies the (rows, d) block x into columns [off, off+d) of the
// (rows, width) matrix wide, or back when toX.
func copyColumns[T Float](wide, x []T, rows, width, d, off int, toX bool) {
	for r := 0; r < rows; r++ {
		w := wide[r*width+off : r*width+off+d]
		if toX {
			copy(x[r*d:(r+1)*d], w)
		} else {
			copy(w, x[r*d:(r+1)*d])
		}
	}
}

// ---- scale ----

// scaleKernel computes y = c x.
type scaleKernel struct{ c float64 }

func (k scaleKernel) Key() string { return "scale(" + formatFloat(k.c) + ")" }

func (scaleKernel) OutputShape(in []tensor.Shape) (tensor.Shape, error) { return in[0].Clone(), nil }
func (scaleKernel) Differentiable(int) []bool                           { return []bool{true} }

func (k scaleKernel) ForwardInto(out *tensor.Dense, in []*tensor.Dense) error {
	return ScaleInto(out, in[0], k.c)
}

func (k scaleKernel) BackwardInto(grad *tensor.Dense, _ int, _ []*tensor.Dense, _, g *tensor.Dense) error {
	return ScaleInto(grad, g, k.c)
}

// Overwrites implements Overwriter: every element is written.
func (scaleKernel) Overwrites(int) bool { return true }

// ScaleInto sets dst = c x elementwise, in the precision of their dtype (c
// rounded to it), for a float tensor x and a dst of its size and dtype. With
// c = 1 it copies x: the gradient of an addition.
func ScaleInto(dst, x *tensor.Dense, c float64) error {
	return Dispatch(x.Dtype(),
		func() { scaleSlice(Slice[float32](dst), RowMajor[float32](x), float32(c)) },
		func() { scaleSlice(Slice[float64](dst), RowMajor[float64](x), c) })
}

func scaleSlice[T Float](y, x []T, c T) {
	for i, v := range x {
		y[i] = c * v
	}
}

// ---- pick ----

// pickKernel selects one position per row: x (N, T, E...), pos (N) tensor.Int ->
// (N, E...).
type pickKernel struct{}

func (pickKernel) Key() string { return "pick" }

func (pickKernel) OutputShape(in []tensor.Shape) (tensor.Shape, error) {
	x, p := in[0], in[1]
	if x.Dims() < 2 || p.TotalSize() != x[0] {
		return nil, errors.Errorf("pick: input %v, positions %v", x, p)
	}
	return append(tensor.Shape{x[0]}, x[2:]...), nil
}

func (pickKernel) Differentiable(int) []bool { return []bool{true, false} }

// layout returns the rows, the positions per row and the elements per position.
func (pickKernel) layout(x *tensor.Dense) (n, t, per int) {
	s := x.Shape()
	return s[0], s[1], s.TotalSize() / (s[0] * s[1])
}

func (k pickKernel) ForwardInto(out *tensor.Dense, in []*tensor.Dense) error {
	_, t, per := k.layout(in[0])
	pos := Ints(Contiguous(in[1]))
	for i, p := range pos {
		if p < 0 || p >= t {
			return errors.Errorf("pick: position %d of row %d outside [0, %d)", p, i, t)
		}
	}
	return Dispatch(out.Dtype(),
		func() { pickRows(RowMajor[float32](in[0]), Slice[float32](out), pos, t, per, false) },
		func() { pickRows(RowMajor[float64](in[0]), Slice[float64](out), pos, t, per, false) })
}

func (k pickKernel) BackwardInto(grad *tensor.Dense, _ int, in []*tensor.Dense, _, g *tensor.Dense) error {
	_, t, per := k.layout(in[0])
	pos := Ints(Contiguous(in[1]))
	return Dispatch(grad.Dtype(),
		func() { pickRows(Slice[float32](grad), RowMajor[float32](g), pos, t, per, true) },
		func() { pickRows(Slice[float64](grad), RowMajor[float64](g), pos, t, per, true) })
}

// Overwrites implements Overwriter: the output is written whole; the gradient
// is zero but at the picked positions.
func (pickKernel) Overwrites(wrt int) bool { return wrt == -1 }

// pickRows copies row pos[n] of block n of big into small (scatter false) or back.
func pickRows[T Float](big, small []T, pos []int, t, per int, scatter bool) {
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
