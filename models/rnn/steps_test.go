package rnn

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
)

// TestStackStepsManyRows: each step's gradient is its own rows of the stacked
// output's gradient, also past 256 rows (65 steps of 4 rows), where cuts of
// the gradient 256 rows apart would hash equal.
func TestStackStepsManyRows(t *testing.T) {
	const steps, batch, width = 65, 4, 3
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		s := graph.NewStore(dt, graph.NewRNG(1, "init"))
		b := graph.NewBuilder(s, graph.Train)
		var xs []*G.Node
		var params []*graph.Param
		for i := range steps {
			p := s.Must(fmt.Sprintf("x%d", i), []int{batch, width}, graph.Normal(0, 1))
			params = append(params, p)
			xs = append(xs, b.Param(p))
		}
		h := StackSteps(b, xs)
		require.Equal(t, tensor.Shape{steps * batch, width}, h.Shape())
		w := s.Must("w", []int{steps * batch, width}, graph.Normal(0, 1))
		loss := b.Check(G.Sum(b.Check(G.HadamardProd(h, b.Param(w)))))
		p, err := b.Compile(loss)
		require.NoError(t, err)
		require.NoError(t, p.Run())
		rows := graph.Float64s(w.Value)
		var sum float64
		for i, x := range params {
			n := batch * width
			require.Equal(t, rows[i*n:(i+1)*n], graph.Float64s(x.Grad), "step %d, %v", i, dt)
			for j, v := range graph.Float64s(x.Value) {
				sum += v * rows[i*n+j]
			}
		}
		require.InDelta(t, sum, p.Loss(), 1e-4)
		require.NoError(t, p.Close())
	}
}

// TestStackStepsErrors: no steps, or steps of different shapes, are errors.
func TestStackStepsErrors(t *testing.T) {
	s := graph.NewStore(tensor.Float64, graph.NewRNG(1, "init"))
	b := graph.NewBuilder(s, graph.Train)
	require.Nil(t, StackSteps(b, nil))
	require.ErrorContains(t, b.Err(), "no steps")
	b = graph.NewBuilder(s, graph.Train)
	x := b.Input("x", tensor.Float64, 2, 3)
	require.Same(t, x, StackSteps(b, []*G.Node{x}))
	require.Nil(t, StackSteps(b, []*G.Node{x, b.Input("y", tensor.Float64, 3, 2)}))
	require.ErrorContains(t, b.Err(), "step 1 has shape (3, 2), step 0 (2, 3)")
}

// TestBidirectionalWide: the two directions of a bidirectional layer get their
// own halves of the output's gradient with 256 units a direction, where cuts
// of the joined output at columns 0 and 256 would hash equal.
func TestBidirectionalWide(t *testing.T) {
	for _, fused := range []bool{false, true} {
		p, _ := build(t, Config{Cell: Tanh, Input: 2, Hidden: 256, Bidirectional: true, Fused: fused}, 1, 2, nil)
		require.NoError(t, graph.CheckGrad(p, graph.CheckOptions{Seed: 1, MaxPerParam: 6}), "fused %v", fused)
	}
}

// TestStepsInvertsStackSteps: Steps cuts a time-major node into the steps
// StackSteps joined, and each step's gradient flows back to its own rows.
func TestStepsInvertsStackSteps(t *testing.T) {
	const steps, batch, width = 5, 3, 2
	s := graph.NewStore(tensor.Float64, graph.NewRNG(1, "init"))
	x := s.Must("x", []int{steps * batch, width}, graph.Normal(0, 1))
	w := s.Must("w", []int{steps * batch, width}, graph.Normal(0, 1))
	b := graph.NewBuilder(s, graph.Train)
	cut := Steps(b, b.Param(x), steps)
	require.Len(t, cut, steps)
	for _, c := range cut {
		require.Equal(t, tensor.Shape{batch, width}, c.Shape())
	}
	h := StackSteps(b, cut)
	b.Output("h", h)
	loss := b.Check(G.Sum(b.Check(G.HadamardProd(h, b.Param(w)))))
	p, err := b.Compile(loss)
	require.NoError(t, err)
	require.NoError(t, p.Run())
	out, err := p.Output("h")
	require.NoError(t, err)
	require.Equal(t, graph.Float64s(x.Value), graph.Float64s(out))
	require.Equal(t, graph.Float64s(w.Value), graph.Float64s(x.Grad))
	require.NoError(t, p.Close())

	b = graph.NewBuilder(s, graph.Train)
	require.Nil(t, Steps(b, b.Param(x), 4))
	require.ErrorContains(t, b.Err(), "cannot cut (15, 2) into 4 steps")
}

// TestBatchMajor: a time-major sequence (T*B, D) becomes (B, T, D), and the
// gradient checks out in float64.
func TestBatchMajor(t *testing.T) {
	const steps, batch, width = 3, 2, 4
	s := graph.NewStore(tensor.Float64, graph.NewRNG(1, "init"))
	x := s.Must("x", []int{steps * batch, width}, graph.Normal(0, 1))
	w := s.Must("w", []int{batch, steps, width}, graph.Normal(0, 1))
	b := graph.NewBuilder(s, graph.Train)
	y := BatchMajor(b, b.Param(x), steps)
	require.Equal(t, tensor.Shape{batch, steps, width}, y.Shape())
	b.Output("y", y)
	loss := b.Check(G.Sum(b.Check(G.HadamardProd(y, b.Param(w)))))
	p, err := b.Compile(loss)
	require.NoError(t, err)
	require.NoError(t, graph.CheckGrad(p, graph.CheckOptions{}))
	require.NoError(t, p.Run())
	out, err := p.Output("y")
	require.NoError(t, err)
	xv, yv := graph.Float64s(x.Value), graph.Float64s(out)
	for tt := 0; tt < steps; tt++ {
		for bi := 0; bi < batch; bi++ {
			require.Equal(t, xv[(tt*batch+bi)*width:(tt*batch+bi+1)*width], yv[(bi*steps+tt)*width:(bi*steps+tt+1)*width])
		}
	}
	require.Nil(t, BatchMajor(b, b.Param(s.Must("odd", []int{5, 4}, graph.Normal(0, 1))), steps))
	require.ErrorContains(t, b.Err(), "not (steps*B, D)")
}
