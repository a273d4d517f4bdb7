package graph

import (
	"fmt"

	"gorgonia.org/tensor"
)

// Float is the set of element types triad computes in.
type Float interface{ ~float32 | ~float64 }

// Slice returns the backing slice of a float tensor of element type T (also for a
// 0-d tensor, whose slice has one element). It panics on a dtype mismatch, which is
// a programming error.
func Slice[T Float](t *tensor.Dense) []T {
	var z T
	switch any(z).(type) {
	case float32:
		return any(t.Float32s()).([]T)
	case float64:
		return any(t.Float64s()).([]T)
	}
	panic(fmt.Sprintf("graph: Slice of %v", t.Dtype()))
}

// Ints returns the backing slice of an int tensor.
func Ints(t *tensor.Dense) []int { return t.Ints() }

// NewDense returns a zeroed tensor of dtype and shape; a shape of no dimensions
// gives a 0-d tensor.
func NewDense(dtype tensor.Dtype, shape ...int) *tensor.Dense {
	if len(shape) == 0 {
		switch dtype {
		case tensor.Float32:
			return tensor.New(tensor.FromScalar(float32(0)))
		case tensor.Float64:
			return tensor.New(tensor.FromScalar(float64(0)))
		}
	}
	return tensor.New(tensor.Of(dtype), tensor.WithShape(shape...))
}

// Scalar returns the single value of a one-element float tensor as float64.
func Scalar(t *tensor.Dense) float64 {
	switch t.Dtype() {
	case tensor.Float32:
		return float64(t.Float32s()[0])
	case tensor.Float64:
		return t.Float64s()[0]
	}
	panic(fmt.Sprintf("graph: Scalar of %v", t.Dtype()))
}
