package graph

import (
	"testing"

	"github.com/stretchr/testify/require"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// SaltName leaves names alone without salt.
func TestSaltNames(t *testing.T) {
	require.Equal(t, "src.3", SaltName("src.3", 0))
	require.Equal(t, "src.3#2", SaltName("src.3", 2))
}

// SetInputs feeds inputs by their unsalted names, leaving nil values out, and
// reports an input the program lacks.
func TestSetInputs(t *testing.T) {
	s := NewStore(tensor.Float64, NewRNG(1, "init"))
	p, err := CompileSalted(func(b SaltedBuilder) (*Program, error) {
		b.Builder = NewBuilder(s, Eval)
		x, y := b.In("x", tensor.Float64, 2), b.In("y", tensor.Float64, 2)
		b.Output("sum", b.Check(G.Add(x, y)))
		return b.Compile(nil)
	})
	require.NoError(t, err)
	require.NoError(t, p.SetInputs(map[string]*tensor.Dense{
		"x": FromFloat64s(tensor.Float64, []float64{1, 2}, 2), "y": FromFloat64s(tensor.Float64, []float64{10, 20}, 2), "absent": nil}))
	require.NoError(t, p.Run())
	out, err := p.Output("sum")
	require.NoError(t, err)
	require.Equal(t, []float64{11, 22}, Float64s(out))
	require.Error(t, p.SetInputs(map[string]*tensor.Dense{"z": FromFloat64s(tensor.Float64, []float64{1, 2}, 2)}))
}
