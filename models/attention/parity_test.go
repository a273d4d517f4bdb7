package attention

import (
	"testing"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/models/internal/modeltest"
)

// The fixture is written by scripts/fixtures_attention.py with PyTorch's module
// in float64 (batch_first=True, dropout 0); see modeltest.Fixture.

// TestMultiHeadParity: torch.nn.MultiheadAttention(8, 2, batch_first=True) with a
// key padding mask and a float attention mask, average_attn_weights=True.
func TestMultiHeadParity(t *testing.T) {
	mha, p := modeltest.NewParity(t, "testdata/mha.safetensors", "mha.", func(s *graph.Store) (*MultiHead, error) { return NewMultiHead(s, "mha", 8, 2, 0) })
	p.RequireFloat64(t, "mha")
	out, w := mha.Forward(p.B, p.Input("q"), p.Input("k"), p.Input("v"), p.Fixed("mask"))
	p.Compare([]string{"out", "weights"}, out, MeanHeads(p.B, w, 2))
}
