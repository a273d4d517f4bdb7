package pointer

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/models/internal/modeltest"
)

// TestPyTorchParity compares the loss and every parameter's gradient with a
// pointer-generator written directly in PyTorch 1.13 in float64, which builds
// the extended distribution explicitly and scatters the attention onto it
// (scripts/fixtures_pointer.py), on shared weights and one padded batch whose
// targets copy out-of-vocabulary source words: to 1e-10 relative, in both
// decoder orders (Config.StateFirst).
func TestPyTorchParity(t *testing.T) {
	for file, stateFirst := range map[string]bool{"parity_pointer": false, "parity_pointer_state_first": true} {
		t.Run(file, func(t *testing.T) { checkParity(t, "testdata/"+file+".safetensors", stateFirst) })
	}
}

func checkParity(t *testing.T, path string, stateFirst bool) {
	fx := modeltest.LoadFixture(t, path)
	s := newStore(1)
	cfg := smallConfig(true)
	cfg.StateFirst = stateFirst
	m, err := New(s, cfg)
	require.NoError(t, err)
	fx.AssignParams(t, s)
	rows := func(name string) [][]int {
		v, ok := fx[name]
		require.True(t, ok, name)
		var out [][]int
		w := v.Shape()[1]
		for r := 0; r < v.Shape()[0]; r++ {
			var row []int
			for _, x := range v.Data().([]int64)[r*w : (r+1)*w] {
				if x >= 0 {
					row = append(row, int(x))
				}
			}
			out = append(out, row)
		}
		return out
	}
	srcs, tgts := rows("src"), rows("tgt")
	p, err := m.Build(s, graph.Train, len(srcs), 5, 4)
	require.NoError(t, err)
	_, err = p.Feed(srcs, tgts)
	require.NoError(t, err)
	require.NoError(t, p.Run())
	const tol = 1e-10 // relative
	modeltest.RequireWithin(t, graph.Float64s(fx["loss"]), []float64{p.Loss()}, tol, "loss")
	fx.RequireGradients(t, s, tol)
}
