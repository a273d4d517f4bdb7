package graph

import (
	"testing"

	"github.com/stretchr/testify/require"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// A linear model y = xW^T with loss sum(y) has dL/dW[i][j] = sum_n x[n][j].
func TestProgramGradientsAccumulateAndShareWeights(t *testing.T) {
	s := NewStore(tensor.Float64, NewRNG(1, "init"))
	w := s.Must("w", []int{2, 3}, Ones())
	build := func(mode Mode) (*Program, error) {
		b := NewBuilder(s, mode)
		x := b.Input("x", tensor.Float64, 2, 3)
		y := b.Check(G.Mul(x, b.Check(G.Transpose(b.Param(w)))))
		b.Output("y", y)
		if mode == Eval {
			return b.Compile(nil)
		}
		return b.Compile(b.Check(G.Sum(y)))
	}
	train, err := build(Train)
	require.NoError(t, err)
	eval, err := build(Eval)
	require.NoError(t, err)
	x := tensor.New(tensor.WithShape(2, 3), tensor.WithBacking([]float64{1, 2, 3, 4, 5, 6}))
	require.NoError(t, train.Set("x", x))
	require.NoError(t, train.Run())
	require.Equal(t, 42.0, train.Loss())
	require.Equal(t, []float64{5, 7, 9, 5, 7, 9}, Float64s(w.Grad))
	require.NoError(t, train.Run())
	require.Equal(t, []float64{10, 14, 18, 10, 14, 18}, Float64s(w.Grad), "gradients accumulate until zeroed")

	// an update in place is seen by the other program
	Slice[float64](w.Value)[0] = 2
	require.NoError(t, eval.Set("x", x))
	require.NoError(t, eval.Run())
	y, err := eval.Output("y")
	require.NoError(t, err)
	require.Equal(t, []float64{7, 6, 19, 15}, Float64s(y))
}

func TestProgramSetRejectsBadInputs(t *testing.T) {
	s := NewStore(tensor.Float32, NewRNG(1, "init"))
	b := NewBuilder(s, Eval)
	x := b.Input("tokens", tensor.Float32, 4, 5)
	b.Output("x2", b.Check(G.HadamardProd(x, x)))
	p, err := b.Compile(nil)
	require.NoError(t, err)
	err = p.Set("tokens", tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(5, 4)))
	require.ErrorContains(t, err, `input "tokens": shape (5, 4), want (4, 5)`)
	err = p.Set("tokens", tensor.New(tensor.Of(tensor.Float64), tensor.WithShape(4, 5)))
	require.ErrorContains(t, err, `input "tokens": dtype float64, want float32`)
	err = p.Set("nope", tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(4, 5)))
	require.ErrorContains(t, err, `no input "nope"`)
}

func TestCheckGradFindsWrongGradient(t *testing.T) {
	s := NewStore(tensor.Float64, NewRNG(2, "init"))
	w := s.Must("w", []int{3}, Normal(0, 1))
	b := NewBuilder(s, Train)
	// the kernel below has a deliberately wrong backward pass
	loss := b.Check(G.Sum(MustApply(wrongSquare{}, b.Param(w))))
	p, err := b.Compile(loss)
	require.NoError(t, err)
	require.ErrorContains(t, CheckGrad(p, CheckOptions{}), "gradcheck: w[0]")
}

type wrongSquare struct{}

func (wrongSquare) Key() string                                         { return "wrongSquare" }
func (wrongSquare) OutputShape(in []tensor.Shape) (tensor.Shape, error) { return in[0].Clone(), nil }
func (wrongSquare) Differentiable(int) []bool                           { return []bool{true} }
func (wrongSquare) ForwardInto(out *tensor.Dense, in []*tensor.Dense) error {
	for i, v := range Slice[float64](in[0]) {
		Slice[float64](out)[i] = v * v
	}
	return nil
}
func (wrongSquare) BackwardInto(grad *tensor.Dense, _ int, in []*tensor.Dense, _, g *tensor.Dense) error {
	x, gs := Slice[float64](in[0]), Slice[float64](g) // d(x^2)/dx is 2x; this gives x*g
	for i, v := range x {
		Slice[float64](grad)[i] = v * gs[i]
	}
	return nil
}
