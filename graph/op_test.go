package graph

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
	"gorgonia.org/tensor"
)

func TestWantInputs(t *testing.T) {
	two := []tensor.Shape{{2}, {2}}
	require.NoError(t, WantInputs(two, 2))
	require.NoError(t, WantInputs(two, 1, true))
	require.NoError(t, WantInputs(two, 1, false, true))
	require.EqualError(t, WantInputs(two, 1), "2 inputs, want 1")
	require.EqualError(t, WantInputs(two, 2, true, true), "2 inputs, want 4")
}

func TestAddColumnSums(t *testing.T) {
	d := []float64{1, 1, 1}
	AddColumnSums(d, []float64{1, 2, 3, 10, 20, 30}, 2, 3)
	require.Equal(t, []float64{12, 23, 34}, d)
	// float32, 11 columns: eight added as vectors, three one by one, each
	// column's sum in row order either way
	g, d32, want := make([]float32, 3*11), make([]float32, 11), make([]float32, 11)
	for i := range g {
		g[i] = float32(i%7) * 0.1
	}
	AddColumnSums(d32, g, 3, 11)
	for r := 0; r < 3; r++ {
		for j := range want {
			want[j] += g[r*11+j]
		}
	}
	require.Equal(t, want, d32)
}

func TestUniformFan(t *testing.T) {
	vals := make([]float64, 1000)
	require.NoError(t, UniformFan(16).Fill(NewRNG(1, "init"), []int{1000}, vals))
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range vals {
		lo, hi = min(lo, v), max(hi, v)
	}
	require.GreaterOrEqual(t, lo, -0.25)
	require.Less(t, hi, 0.25)
	require.Less(t, lo, -0.2) // the draws fill the range
	require.Greater(t, hi, 0.2)
}
