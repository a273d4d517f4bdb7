package graph

import (
	"testing"

	"github.com/stretchr/testify/require"
	"gorgonia.org/tensor"
)

// Kernels that declare they overwrite their buffers (Overwriter) get them
// unzeroed from the second run on: a second run of the same program on the same
// input must repeat the first exactly (the gather's scatter-add, the bias and
// norm parameter sums must still start from zero).
func TestOverwritersRepeat(t *testing.T) {
	s := NewStore(tensor.Float64, NewRNG(1, "init"))
	emb, err := NewEmbedding(s, "emb", 7, 4)
	require.NoError(t, err)
	lin, err := NewLinear(s, "fc", 4, 3, true)
	require.NoError(t, err)
	ln, err := NewLayerNorm(s, "ln", 3)
	require.NoError(t, err)
	b := NewBuilder(s, Train)
	ids := b.Input("ids", tensor.Int, 2, 3)
	y := ln.Forward(b, lin.Forward(b, emb.Forward(b, ids)))
	loss, r := weightedSum(t, b, y, 3)
	p, err := b.Compile(loss)
	require.NoError(t, err)
	require.NoError(t, p.Set("r", r))
	require.NoError(t, p.Set("ids", tensor.New(tensor.WithShape(2, 3), tensor.WithBacking([]int{1, 2, 2, 6, 0, 1}))))
	var grads [2]map[string][]float64
	for run := range grads {
		require.NoError(t, p.Run())
		grads[run] = map[string][]float64{}
		for _, prm := range s.Params() {
			grads[run][prm.Name] = Float64s(prm.Grad)
		}
		s.ZeroGrads()
	}
	require.Equal(t, grads[0], grads[1])
}
