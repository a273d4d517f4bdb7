package graph

import (
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Gather returns the rows of table selected by ids: for table (V, D...) and ids of
// any shape S (tensor.Int), the result has shape S + (D...) with
// out[s] = table[ids[s]]. The gradient with respect to table scatters back with
// addition, so a repeated id receives the sum of its rows' gradients. An id outside
// [0, V) is an error at run time.
func Gather(table, ids *G.Node) (*G.Node, error) {
	if ids.Dtype() != tensor.Int {
		return nil, errors.Errorf("gather: ids must be tensor.Int, got %v", ids.Dtype())
	}
	return Apply(gatherKernel{}, table, ids)
}

type gatherKernel struct{}

func (gatherKernel) Key() string { return "gather" }

func (gatherKernel) OutputShape(in []tensor.Shape) (tensor.Shape, error) {
	if in[0].Dims() < 1 {
		return nil, errors.New("gather: table must have at least one dimension")
	}
	out := append(tensor.Shape{}, in[1]...)
	out = append(out, in[0][1:]...)
	return out, nil
}

func (gatherKernel) Differentiable(int) []bool { return []bool{true, false} }

func (gatherKernel) ForwardInto(out *tensor.Dense, in []*tensor.Dense) error {
	table, ids := in[0], Ints(in[1])
	rows := table.Shape()[0]
	width := table.Shape().TotalSize() / rows
	return Dispatch(table.Dtype(),
		func() error { return gatherRows(Slice[float32](out), Slice[float32](table), ids, rows, width) },
		func() error { return gatherRows(Slice[float64](out), Slice[float64](table), ids, rows, width) })
}

func (gatherKernel) BackwardInto(grad *tensor.Dense, _ int, in []*tensor.Dense, _, gradOut *tensor.Dense) error {
	table, ids := in[0], Ints(in[1])
	width := table.Shape().TotalSize() / table.Shape()[0]
	return Dispatch(table.Dtype(),
		func() { scatterAddRows(Slice[float32](grad), Slice[float32](gradOut), ids, width) },
		func() { scatterAddRows(Slice[float64](grad), Slice[float64](gradOut), ids, width) })
}

// Overwrites implements Overwriter: every output row is copied; the table's
// gradient is a scatter-add.
func (gatherKernel) Overwrites(wrt int) bool { return wrt == -1 }

func gatherRows[T Float](out, table []T, ids []int, rows, width int) error {
	for i, id := range ids {
		if id < 0 || id >= rows {
			return errors.Errorf("gather: id %d at position %d outside [0, %d)", id, i, rows)
		}
		copy(out[i*width:(i+1)*width], table[id*width:(id+1)*width])
	}
	return nil
}

func scatterAddRows[T Float](grad, gradOut []T, ids []int, width int) {
	for i, id := range ids {
		dst := grad[id*width : (id+1)*width]
		for j, v := range gradOut[i*width : (i+1)*width] {
			dst[j] += v
		}
	}
}
