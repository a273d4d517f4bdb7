package graph

import (
	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// FromInts returns an int tensor of the given shape holding a copy of v.
func FromInts(v []int, shape ...int) *tensor.Dense {
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(append([]int(nil), v...)))
}

// SelectRows returns a new tensor of the rows (first-axis slices) of t in the
// given order, rows repeating as often as listed (the reordering of a beam's
// decoding state); nil for a nil t.
func SelectRows(t *tensor.Dense, rows []int) (*tensor.Dense, error) {
	if t == nil {
		return nil, nil
	}
	s := t.Shape()
	n := s[0]
	per := s.TotalSize() / n
	shape := append([]int{len(rows)}, s[1:]...)
	for _, r := range rows {
		if r < 0 || r >= n {
			return nil, errors.Errorf("select rows: row %d outside [0, %d)", r, n)
		}
	}
	switch src := t.Data().(type) {
	case []float32:
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(gatherBlocks(src, rows, per))), nil
	case []float64:
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(gatherBlocks(src, rows, per))), nil
	case []int:
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(gatherBlocks(src, rows, per))), nil
	}
	return nil, errors.Errorf("select rows: unsupported dtype %v", t.Dtype())
}

func gatherBlocks[E any](src []E, rows []int, per int) []E {
	out := make([]E, len(rows)*per)
	for i, r := range rows {
		copy(out[i*per:(i+1)*per], src[r*per:(r+1)*per])
	}
	return out
}

// Rows returns the rows of a float tensor (its first axis) as float64 slices,
// each capped at its own length.
func Rows(t *tensor.Dense) [][]float64 {
	v := Float64s(t)
	n := t.Shape()[0]
	per := len(v) / n
	out := make([][]float64, n)
	for i := range out {
		out[i] = v[i*per : (i+1)*per : (i+1)*per]
	}
	return out
}
