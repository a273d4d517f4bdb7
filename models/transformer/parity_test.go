package transformer

import (
	"testing"

	"github.com/stretchr/testify/require"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

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
			f := modeltest.LoadFixture(t, "testdata/"+c.name+".safetensors")
			s := modeltest.NewStore()
			l, err := NewEncoderLayer(s, "layer", c.cfg)
			require.NoError(t, err)
			f.Assign(t, s, "layer.")
			b := graph.NewBuilder(s, graph.Train)
			x := f.Input(t, s, b, "x")
			mask := b.Input("mask", tensor.Float64, f["input.mask"].Shape()...)
			feeds := map[string]*tensor.Dense{"mask": f["input.mask"]}
			out, _ := l.Forward(b, x, mask)
			b.Output("out", out)
			f.Compare(t, s, b, f.Weighted(t, b, out, "out", feeds), feeds, []string{"out"}, "layer.")
		})
	}
}

// TestDecoderLayerParity: torch.nn.TransformerDecoderLayer(8, 2, 16, dropout=0,
// batch_first=True), post- and pre-LN, with a causal target mask and key padding
// masks on both sides.
func TestDecoderLayerParity(t *testing.T) {
	for _, pre := range []bool{false, true} {
		name := "decoder_post"
		if pre {
			name = "decoder_pre"
		}
		t.Run(name, func(t *testing.T) {
			f := modeltest.LoadFixture(t, "testdata/"+name+".safetensors")
			s := modeltest.NewStore()
			l, err := NewDecoderLayer(s, "layer", LayerConfig{Dim: 8, Heads: 2, FF: 16, PreLN: pre})
			require.NoError(t, err)
			f.Assign(t, s, "layer.")
			b := graph.NewBuilder(s, graph.Train)
			x, mem := f.Input(t, s, b, "x"), f.Input(t, s, b, "memory")
			feeds := map[string]*tensor.Dense{}
			masks := make([]*G.Node, 2)
			for i, m := range []string{"self_mask", "memory_mask"} {
				masks[i] = b.Input(m, tensor.Float64, f["input."+m].Shape()...)
				feeds[m] = f["input."+m]
			}
			out, _, _ := l.Forward(b, x, mem, masks[0], masks[1])
			b.Output("out", out)
			f.Compare(t, s, b, f.Weighted(t, b, out, "out", feeds), feeds, []string{"out"}, "layer.")
		})
	}
}

func TestFixturesAreFloat64(t *testing.T) {
	for _, name := range []string{"encoder_post_relu", "encoder_pre_gelu", "decoder_post", "decoder_pre"} {
		modeltest.LoadFixture(t, "testdata/"+name+".safetensors").RequireFloat64(t, name)
	}
}
