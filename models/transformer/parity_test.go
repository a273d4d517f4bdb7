package transformer

import (
	"testing"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/models/internal/modeltest"
)

// The fixtures are written by scripts/fixtures_attention.py with PyTorch's
// modules in float64 (batch_first=True, dropout 0); see modeltest.Fixture.

// TestEncoderLayerParity: torch.nn.TransformerEncoderLayer(8, 2, 16, dropout=0,
// batch_first=True), post-LN with ReLU and pre-LN (norm_first) with GELU, with a
// source key padding mask.
func TestEncoderLayerParity(t *testing.T) {
	for _, c := range []struct {
		name string
		cfg  LayerConfig
	}{
		{"encoder_post_relu", LayerConfig{Dim: 8, Heads: 2, FF: 16}},
		{"encoder_pre_gelu", LayerConfig{Dim: 8, Heads: 2, FF: 16, PreLN: true, Activation: "gelu"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			l, p := modeltest.NewParity(t, "testdata/"+c.name+".safetensors", "layer.", func(s *graph.Store) (*EncoderLayer, error) {
				return NewEncoderLayer(s, "layer", c.cfg)
			})
			out, _ := l.Forward(p.B, p.Input("x"), p.Fixed("mask"))
			p.Compare([]string{"out"}, out)
		})
	}
}

// TestDecoderLayerParity: torch.nn.TransformerDecoderLayer(8, 2, 16, dropout=0,
// batch_first=True), post- and pre-LN, with a causal target mask and key padding
// masks on both sides.
func TestDecoderLayerParity(t *testing.T) {
	for name, pre := range map[string]bool{"decoder_post": false, "decoder_pre": true} {
		t.Run(name, func(t *testing.T) {
			l, p := modeltest.NewParity(t, "testdata/"+name+".safetensors", "layer.", func(s *graph.Store) (*DecoderLayer, error) {
				return NewDecoderLayer(s, "layer", LayerConfig{Dim: 8, Heads: 2, FF: 16, PreLN: pre})
			})
			out, _, _ := l.Forward(p.B, p.Input("x"), p.Input("memory"), p.Fixed("self_mask"), p.Fixed("memory_mask"))
			p.Compare([]string{"out"}, out)
		})
	}
}

func TestFixturesAreFloat64(t *testing.T) {
	for _, name := range []string{"encoder_post_relu", "encoder_pre_gelu", "decoder_post", "decoder_pre"} {
		modeltest.LoadFixture(t, "testdata/"+name+".safetensors").RequireFloat64(t, name)
	}
}
