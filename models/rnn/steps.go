package rnn

import (
	"fmt"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
)

// Steps cuts a time-major node (T*B, D) into its T step nodes (B, D), the
// inverse of StackSteps: one lookup or one dropout over a whole sequence, then a
// per-step graph. The gradient of each step node is the size of x, zero but
// on its rows: T of them are T times x, which is far less than a per-step
// lookup's gradient of the whole embedding table at every step.
func Steps(b *graph.Builder, x *G.Node, steps int) []*G.Node {
	if x == nil {
		return nil
	}
	if steps <= 0 || x.Dims() != 2 || x.Shape()[0]%steps != 0 {
		b.Fail(errors.Errorf("rnn: cannot cut %v into %d steps", x.Shape(), steps))
		return nil
	}
	batch := x.Shape()[0] / steps
	out := make([]*G.Node, steps)
	for t := range out {
		if out[t] = b.Check(graph.Apply(rowsKernel{t * batch, batch}, x)); out[t] == nil {
			return nil
		}
	}
	return out
}

// BatchMajor reorders a time-major sequence (T*B, D), row t*B+b holding step t
// of sequence b (ForwardSeq's output), into (B, T, D): an encoder's outputs as
// the memory an attention reads. Its gradient is the inverse reordering.
func BatchMajor(b *graph.Builder, x *G.Node, steps int) *G.Node {
	if x == nil {
		return nil
	}
	return b.Check(graph.Apply(batchMajorKernel{steps: steps}, x))
}

// StackSteps joins T step nodes (B, D) into one time-major (T*B, D) node, rows
// t*B..(t+1)*B-1 holding step t: per-step outputs gathered for one product
// over all steps (a head, a loss). A single step is returned as it is.
//
// Use it rather than Gorgonia's Concat along axis 0: Concat's gradient cuts
// the output's gradient with Slice nodes whose hash keeps only the low byte of
// each bound, so that two cuts 256 rows apart hash equal, the graph merges
// them, and once T*B exceeds 256 (T > 64 at B = 4, T > 8 at B = 32) later
// steps receive the gradient of earlier ones. The same holds for a Concat
// along the last axis of widths that are multiples of 256: graph.Concat has
// its own kernel for that.
func StackSteps(b *graph.Builder, xs []*G.Node) *G.Node {
	if len(xs) == 0 {
		return b.Fail(errors.New("rnn: no steps to stack"))
	}
	for _, x := range xs {
		if x == nil {
			return nil
		}
	}
	if len(xs) == 1 {
		return xs[0]
	}
	return b.Check(graph.Apply(stepsKernel{}, xs...))
}

// stepsKernel stacks T inputs (B, D) into (T*B, D), time-major; the gradient of
// input t is rows t*B..(t+1)*B-1 of the output's gradient.
type stepsKernel struct{}

func (stepsKernel) Key() string { return "rnn.stack_steps" }

func (stepsKernel) OutputShape(in []tensor.Shape) (tensor.Shape, error) {
	first := in[0]
	if first.Dims() != 2 {
		return nil, errors.Errorf("stack steps: step 0 has shape %v, want (batch, width)", first)
	}
	for t, s := range in[1:] {
		if !s.Eq(first) {
			return nil, errors.Errorf("stack steps: step %d has shape %v, step 0 %v", t+1, s, first)
		}
	}
	return tensor.Shape{len(in) * first[0], first[1]}, nil
}

func (stepsKernel) Differentiable(n int) []bool { return graph.AllDifferentiable(n) }

func (stepsKernel) ForwardInto(out *tensor.Dense, in []*tensor.Dense) error {
	return graph.Dispatch(out.Dtype(),
		func() {
			y := graph.Slice[float32](out)
			for t, x := range in {
				n := x.Shape().TotalSize()
				copy(y[t*n:(t+1)*n], graph.RowMajor[float32](x))
			}
		},
		func() {
			y := graph.Slice[float64](out)
			for t, x := range in {
				n := x.Shape().TotalSize()
				copy(y[t*n:(t+1)*n], graph.RowMajor[float64](x))
			}
		})
}

func (stepsKernel) BackwardInto(grad *tensor.Dense, wrt int, _ []*tensor.Dense, _, gradOut *tensor.Dense) error {
	n := grad.Shape().TotalSize()
	return graph.Dispatch(grad.Dtype(),
		func() { copy(graph.Slice[float32](grad), graph.RowMajor[float32](gradOut)[wrt*n:(wrt+1)*n]) },
		func() { copy(graph.Slice[float64](grad), graph.RowMajor[float64](gradOut)[wrt*n:(wrt+1)*n]) })
}

// Overwrites implements graph.Overwriter: the output and every gradient are
// copied whole.
func (stepsKernel) Overwrites(int) bool { return true }

var _ graph.Kernel = stepsKernel{}

// batchMajorKernel reorders time-major rows (S*B, D), row t*B+b holding step t
// of sequence b (the fused encoder's output), into (B, S, D).
type batchMajorKernel struct{ steps int }

func (k batchMajorKernel) Key() string { return fmt.Sprintf("rnn.batch_major(%d)", k.steps) }

func (k batchMajorKernel) OutputShape(in []tensor.Shape) (tensor.Shape, error) {
	x := in[0]
	if x.Dims() != 2 || k.steps <= 0 || x[0]%k.steps != 0 {
		return nil, errors.Errorf("batch major: input %v is not (steps*B, D) for %d steps", x, k.steps)
	}
	return tensor.Shape{x[0] / k.steps, k.steps, x[1]}, nil
}

func (batchMajorKernel) Differentiable(int) []bool { return []bool{true} }

func (k batchMajorKernel) ForwardInto(out *tensor.Dense, in []*tensor.Dense) error {
	x := in[0].Shape()
	b, d := x[0]/k.steps, x[1]
	return graph.Dispatch(in[0].Dtype(),
		func() { reorder(graph.RowMajor[float32](in[0]), graph.Slice[float32](out), k.steps, b, d, false) },
		func() { reorder(graph.RowMajor[float64](in[0]), graph.Slice[float64](out), k.steps, b, d, false) })
}

func (k batchMajorKernel) BackwardInto(grad *tensor.Dense, _ int, in []*tensor.Dense, _, g *tensor.Dense) error {
	x := in[0].Shape()
	b, d := x[0]/k.steps, x[1]
	return graph.Dispatch(in[0].Dtype(),
		func() { reorder(graph.RowMajor[float32](g), graph.Slice[float32](grad), k.steps, b, d, true) },
		func() { reorder(graph.RowMajor[float64](g), graph.Slice[float64](grad), k.steps, b, d, true) })
}

// reorder copies time-major rows src (steps*b, d) into batch-major dst (b, steps,
// d), or, with back, batch-major src into time-major dst.
func reorder[T graph.Float](src, dst []T, steps, b, d int, back bool) {
	for t := 0; t < steps; t++ {
		for bi := 0; bi < b; bi++ {
			tm, bm := (t*b+bi)*d, (bi*steps+t)*d
			if back {
				copy(dst[tm:tm+d], src[bm:bm+d])
			} else {
				copy(dst[bm:bm+d], src[tm:tm+d])
			}
		}
	}
}
