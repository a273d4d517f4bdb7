package graph

import (
	"unsafe"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// Dispatch runs f32 when dt is tensor.Float32 and f64 when it is tensor.Float64,
// and returns what the function returns (nil for a func()); any other dtype is an
// error. It is where a kernel turns the dtype of its tensors into the element
// type of a generic function:
//
//	return graph.Dispatch(out.Dtype(),
//		func() { scale(graph.Slice[float32](out), graph.RowMajor[float32](in[0])) },
//		func() { scale(graph.Slice[float64](out), graph.RowMajor[float64](in[0])) })
func Dispatch[F func() | func() error](dt tensor.Dtype, f32, f64 F) error {
	var f F
	switch dt {
	case tensor.Float32:
		f = f32
	case tensor.Float64:
		f = f64
	default:
		return errors.Errorf("unsupported dtype %v", dt)
	}
	switch f := any(f).(type) {
	case func():
		f()
		return nil
	case func() error:
		return f()
	}
	panic("graph: Dispatch of an unknown function type")
}

// Dispatch3 is Dispatch for a kernel whose work is f(out, a, b, c) over the
// elements of out and of its three inputs in[0], in[1] and in[2]: it runs f32 or
// f64 by out's dtype.
func Dispatch3(out *tensor.Dense, in []*tensor.Dense, f32 func(out, a, b, c []float32), f64 func(out, a, b, c []float64)) error {
	return Dispatch(out.Dtype(),
		func() { f32(Slice[float32](out), Slice[float32](in[0]), Slice[float32](in[1]), Slice[float32](in[2])) },
		func() { f64(Slice[float64](out), Slice[float64](in[0]), Slice[float64](in[1]), Slice[float64](in[2])) })
}

// Contiguous returns t itself when its backing slice holds its elements in
// row-major order, otherwise a compact copy (of a transposed or strided view).
func Contiguous(t *tensor.Dense) *tensor.Dense {
	if t.RequiresIterator() {
		if c, ok := t.Materialize().(*tensor.Dense); ok {
			return c
		}
	}
	return t
}

// RowMajor returns the elements of a float tensor of element type T in row-major
// order: its backing slice, or that of a compact copy of a strided view.
func RowMajor[T Float](t *tensor.Dense) []T { return Slice[T](Contiguous(t)) }

// Is32 reports whether T is float32: the test of a generic kernel's path in
// float32 arithmetic.
func Is32[T Float]() bool {
	var z T
	return unsafe.Sizeof(z) == 4
}

// As32 reinterprets v as a []float32; T must be float32 (Is32).
func As32[T Float](v []T) []float32 { return *(*[]float32)(unsafe.Pointer(&v)) }
