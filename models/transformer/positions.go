package transformer

import (
	"math"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
)

// Positional adds position information to embeddings (B, T, E).
type Positional interface {
	Add(b *graph.Builder, x *G.Node) *G.Node
}

// SinusoidalPositions is the fixed encoding of Vaswani et al. (2017), sec. 3.5
// (see Sinusoid); it has no parameters.
type SinusoidalPositions struct{}

// Add returns x + PE[:T].
func (SinusoidalPositions) Add(b *graph.Builder, x *G.Node) *G.Node {
	if x == nil {
		return nil
	}
	return b.Check(graph.Apply(sinusoidKernel{}, x))
}

// LearnedPositions is a learned (MaxLen, E) table of position embeddings (Gehring
// et al. 2017), name.weight, initialised N(0, 1/E) (standard deviation 1/sqrt(E)).
type LearnedPositions struct {
	Weight *graph.Param
	MaxLen int
}

// NewLearnedPositions creates name.weight (maxLen, dim) in s.
func NewLearnedPositions(s *graph.Store, name string, maxLen, dim int) (*LearnedPositions, error) {
	if maxLen <= 0 || dim <= 0 {
		return nil, errors.Errorf("learned positions %q: invalid sizes %d x %d", name, maxLen, dim)
	}
	w, err := s.New(name+".weight", []int{maxLen, dim}, graph.Normal(0, 1/math.Sqrt(float64(dim))))
	if err != nil {
		return nil, err
	}
	return &LearnedPositions{Weight: w, MaxLen: maxLen}, nil
}

// Add returns x + P[:T]; T must not exceed MaxLen.
func (p *LearnedPositions) Add(b *graph.Builder, x *G.Node) *G.Node {
	if x == nil {
		return nil
	}
	return b.Check(graph.Apply(addPositionsKernel{}, x, b.Param(p.Weight)))
}

// Sinusoid returns the sinusoidal positional encoding of Vaswani et al. (2017),
// sec. 3.5, for position pos and feature i of a width-d model:
// PE(pos, 2j) = sin(pos / 10000^(2j/d)), PE(pos, 2j+1) = cos(pos / 10000^(2j/d)).
func Sinusoid(pos, i, d int) float64 {
	j := i / 2
	angle := float64(pos) / math.Pow(10000, float64(2*j)/float64(d))
	if i%2 == 0 {
		return math.Sin(angle)
	}
	return math.Cos(angle)
}

// sinusoidKernel adds the sinusoidal encoding to x (B, T, E).
type sinusoidKernel struct{}

func (sinusoidKernel) Key() string { return "transformer.sinusoid" }

func (sinusoidKernel) OutputShape(in []tensor.Shape) (tensor.Shape, error) {
	if in[0].Dims() != 3 {
		return nil, errors.Errorf("positional encoding: input %v, want (B, T, E)", in[0])
	}
	return in[0].Clone(), nil
}

func (sinusoidKernel) Differentiable(int) []bool { return []bool{true} }

func (sinusoidKernel) ForwardInto(out *tensor.Dense, in []*tensor.Dense) error {
	s := in[0].Shape()
	return graph.Dispatch(out.Dtype(),
		func() { addSinusoid(graph.RowMajor[float32](in[0]), graph.Slice[float32](out), s[0], s[1], s[2]) },
		func() { addSinusoid(graph.RowMajor[float64](in[0]), graph.Slice[float64](out), s[0], s[1], s[2]) })
}

func addSinusoid[T graph.Float](x, y []T, b, t, e int) {
	pe := make([]T, t*e)
	for p := 0; p < t; p++ {
		for i := 0; i < e; i++ {
			pe[p*e+i] = T(Sinusoid(p, i, e))
		}
	}
	for bi := 0; bi < b; bi++ {
		for j, v := range pe {
			y[bi*t*e+j] = x[bi*t*e+j] + v
		}
	}
}

func (sinusoidKernel) BackwardInto(grad *tensor.Dense, _ int, _ []*tensor.Dense, _, g *tensor.Dense) error {
	return graph.ScaleInto(grad, g, 1)
}

// Overwrites implements graph.Overwriter: every element is written.
func (sinusoidKernel) Overwrites(int) bool { return true }

// addPositionsKernel adds the first T rows of a (L, E) table to x (B, T, E).
type addPositionsKernel struct{}

func (addPositionsKernel) Key() string { return "transformer.add_positions" }

func (addPositionsKernel) OutputShape(in []tensor.Shape) (tensor.Shape, error) {
	x, p := in[0], in[1]
	if x.Dims() != 3 || p.Dims() != 2 || p[1] != x[2] || p[0] < x[1] {
		return nil, errors.Errorf("learned positions: input %v, table %v (need T <= rows)", x, p)
	}
	return x.Clone(), nil
}

func (addPositionsKernel) Differentiable(int) []bool { return []bool{true, true} }

func (addPositionsKernel) ForwardInto(out *tensor.Dense, in []*tensor.Dense) error {
	return graph.Dispatch2(out, in, addTable[float32], addTable[float64])
}

// addTable: x and y (B, T, E) of shape s, p the table.
func addTable[T graph.Float](x, p, y []T, s tensor.Shape) {
	b, per := s[0], s[1]*s[2]
	for bi := 0; bi < b; bi++ {
		for j := 0; j < per; j++ {
			y[bi*per+j] = x[bi*per+j] + p[j]
		}
	}
}

func (addPositionsKernel) BackwardInto(grad *tensor.Dense, wrt int, in []*tensor.Dense, _, g *tensor.Dense) error {
	if wrt == 0 {
		return graph.ScaleInto(grad, g, 1)
	}
	s := in[0].Shape()
	per := s[1] * s[2]
	return graph.Dispatch(grad.Dtype(),
		func() { graph.AddColumnSums(graph.Slice[float32](grad), graph.RowMajor[float32](g), s[0], per) },
		func() { graph.AddColumnSums(graph.Slice[float64](grad), graph.RowMajor[float64](g), s[0], per) })
}

// Overwrites implements graph.Overwriter: the output and the input's gradient
// are written whole; the table's is summed over the batch.
func (addPositionsKernel) Overwrites(wrt int) bool { return wrt <= 0 }
