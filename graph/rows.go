package graph

import (
	"fmt"

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
// each capped at its own length, in memory of their own.
func Rows(t *tensor.Dense) [][]float64 {
	var r RowReader
	return r.Rows(t)
}

// RowReader reads float tensors' rows as float64 slices, as Rows does, into
// memory it keeps from call to call: for loops that read an output of the same
// size at every step (a decoder's vocabulary-wide log-probabilities), where a
// fresh slice per step costs more than the conversion. The rows a call returns
// are overwritten by the next call. Its zero value is ready to use.
type RowReader struct {
	buf    []float64
	rows   [][]float64
	rows32 [][]float32
}

// Rows returns the rows of t (its first axis), valid until the next call.
func (r *RowReader) Rows(t *tensor.Dense) [][]float64 {
	n, size := t.Shape()[0], t.Shape().TotalSize()
	if n == 0 {
		return nil
	}
	r.buf = Grow(r.buf, size)
	switch d := t.Data().(type) {
	case []float64:
		copy(r.buf, d)
	case []float32:
		widen32(r.buf, d)
	default:
		panic(fmt.Sprintf("graph: RowReader of unsupported dtype %v", t.Dtype()))
	}
	if cap(r.rows) < n {
		r.rows = make([][]float64, n)
	}
	r.rows = r.rows[:n]
	per := size / n
	for i := range r.rows {
		r.rows[i] = r.buf[i*per : (i+1)*per : (i+1)*per]
	}
	return r.rows
}

// Rows32 returns the rows of the float32 tensor t (its first axis) as they
// are: views of t's memory, valid while t's values are, for readers that take
// float32 rows, where converting or copying them costs as much as reading
// them.
func (r *RowReader) Rows32(t *tensor.Dense) [][]float32 {
	d, ok := t.Data().([]float32)
	if !ok {
		panic(fmt.Sprintf("graph: RowReader.Rows32 of dtype %v", t.Dtype()))
	}
	n := t.Shape()[0]
	if n == 0 {
		return nil
	}
	if cap(r.rows32) < n {
		r.rows32 = make([][]float32, n)
	}
	r.rows32 = r.rows32[:n]
	per := len(d) / n
	for i := range r.rows32 {
		r.rows32[i] = d[i*per : (i+1)*per : (i+1)*per]
	}
	return r.rows32
}
