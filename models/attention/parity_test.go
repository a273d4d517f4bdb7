package attention

import (
	"testing"

	"github.com/stretchr/testify/require"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/models/internal/modeltest"
)

// The fixture is written by scripts/fixtures_attention.py with PyTorch's module
// in float64 (batch_first=True, dropout 0); see modeltest.Fixture.

// TestMultiHeadParity: torch.nn.MultiheadAttention(8, 2, batch_first=True) with a
// key padding mask and a float attention mask, average_attn_weights=True.
func TestMultiHeadParity(t *testing.T) {
	f := modeltest.LoadFixture(t, "testdata/mha.safetensors")
	f.RequireFloat64(t, "mha")
	s := modeltest.NewStore()
	mha, err := NewMultiHead(s, "mha", 8, 2, 0)
	require.NoError(t, err)
	f.Assign(t, s, "mha.")
	b := graph.NewBuilder(s, graph.Train)
	q, k, v := f.Input(t, s, b, "q"), f.Input(t, s, b, "k"), f.Input(t, s, b, "v")
	mask := b.Input("mask", tensor.Float64, f["input.mask"].Shape()...)
	feeds := map[string]*tensor.Dense{"mask": f["input.mask"]}
	out, w := mha.Forward(b, q, k, v, mask)
	mean := MeanHeads(b, w, 2)
	b.Output("out", out)
	b.Output("weights", mean)
	loss := b.Check(G.Add(f.Weighted(t, b, out, "out", feeds), f.Weighted(t, b, mean, "weights", feeds)))
	f.Compare(t, s, b, loss, feeds, []string{"out", "weights"}, "mha.")
}
