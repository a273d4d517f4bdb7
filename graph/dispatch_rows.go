package graph

import "gorgonia.org/tensor"

// Dispatch2 is Dispatch for a kernel whose work is f(a, b, out, s) over the
// row-major elements of its two inputs in[0] and in[1] and of out, s being
// in[0]'s shape (for the kernels that broadcast one input over the other's
// leading axes): it runs f32 or f64 by out's dtype.
func Dispatch2(out *tensor.Dense, in []*tensor.Dense, f32 func(a, b, out []float32, s tensor.Shape), f64 func(a, b, out []float64, s tensor.Shape)) error {
	s := in[0].Shape()
	return Dispatch(out.Dtype(),
		func() { f32(RowMajor[float32](in[0]), RowMajor[float32](in[1]), Slice[float32](out), s) },
		func() { f64(RowMajor[float64](in[0]), RowMajor[float64](in[1]), Slice[float64](out), s) })
}
