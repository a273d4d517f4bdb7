package transformer

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/models/attention"
	"github.com/triadml/triad/models/internal/modeltest"
)

func TestEncoderLayerGradients(t *testing.T) {
	const B, T, E = 2, 4, 6
	for _, c := range []struct {
		name string
		cfg  LayerConfig
	}{
		{"post_relu", LayerConfig{Dim: E, Heads: 2, FF: 8}},
		{"pre_gelu_dropout", LayerConfig{Dim: E, Heads: 3, FF: 8, PreLN: true, Activation: "gelu", Dropout: 0.2}},
	} {
		t.Run(c.name, func(t *testing.T) {
			l, b := modeltest.TrainModule(t, func(s *graph.Store) (*EncoderLayer, error) { return NewEncoderLayer(s, "enc", c.cfg) })
			x := b.Param(modeltest.Param(b.Store, "x", B, T, E))
			keep := b.Input("keep", tensor.Float64, B, T)
			out, _ := l.Forward(b, x, attention.AttentionMask(b, keep, T, false))
			lb := modeltest.NewLoss(t, b)
			lb.Add(out)
			lb.Check(map[string]*tensor.Dense{"keep": attention.KeepMask(tensor.Float64, []int{4, 3}, T)}, graph.CheckOptions{Seed: 2, MaxPerParam: 24})
		})
	}
}

func TestDecoderLayerGradients(t *testing.T) {
	const B, T, S, E = 2, 3, 4, 6
	for _, c := range []struct {
		name string
		cfg  LayerConfig
	}{
		{"post", LayerConfig{Dim: E, Heads: 2, FF: 8}},
		{"pre_dropout", LayerConfig{Dim: E, Heads: 2, FF: 8, PreLN: true, Dropout: 0.2, Activation: "gelu"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			l, b := modeltest.TrainModule(t, func(s *graph.Store) (*DecoderLayer, error) { return NewDecoderLayer(s, "dec", c.cfg) })
			x := b.Param(modeltest.Param(b.Store, "x", B, T, E))
			mem := b.Param(modeltest.Param(b.Store, "mem", B, S, E))
			tk := b.Input("tgt_keep", tensor.Float64, B, T)
			sk := b.Input("src_keep", tensor.Float64, B, S)
			out, sw, cw := l.Forward(b, x, mem, attention.AttentionMask(b, tk, T, true), attention.AttentionMask(b, sk, T, false))
			require.Equal(t, tensor.Shape{B * 2, T, T}, sw.Shape())
			require.Equal(t, tensor.Shape{B * 2, T, S}, cw.Shape())
			lb := modeltest.NewLoss(t, b)
			lb.Add(out)
			lb.Check(map[string]*tensor.Dense{"tgt_keep": attention.KeepMask(tensor.Float64, []int{3, 2}, T), "src_keep": attention.KeepMask(tensor.Float64, []int{4, 2}, S)}, graph.CheckOptions{Seed: 4, MaxPerParam: 24})
		})
	}
}

func TestPositionalGradients(t *testing.T) {
	s := modeltest.NewStore()
	lp, err := NewLearnedPositions(s, "pos", 5, 4)
	require.NoError(t, err)
	b := graph.NewBuilder(s, graph.Train)
	x := b.Param(modeltest.Param(s, "x", 2, 3, 4))
	l := modeltest.NewLoss(t, b)
	l.Add(lp.Add(b, x))
	l.Add(SinusoidalPositions{}.Add(b, x))
	l.Check(nil, graph.CheckOptions{})
}

// Sinusoid follows Vaswani et al. (2017), sec. 3.5.
func TestSinusoid(t *testing.T) {
	require.Equal(t, 0.0, Sinusoid(0, 0, 8))
	require.Equal(t, 1.0, Sinusoid(0, 1, 8))
	require.InDelta(t, math.Sin(3), Sinusoid(3, 0, 8), 1e-15)
	require.InDelta(t, math.Cos(3), Sinusoid(3, 1, 8), 1e-15)
	require.InDelta(t, math.Sin(3/math.Pow(10000, 2.0/8)), Sinusoid(3, 2, 8), 1e-15)
	require.InDelta(t, math.Cos(3/math.Pow(10000, 6.0/8)), Sinusoid(3, 7, 8), 1e-15)
}

func TestPyTorchNames(t *testing.T) {
	s := graph.NewStore(tensor.Float32, graph.NewRNG(1, "init"))
	_, err := NewDecoderLayer(s, "layer", LayerConfig{Dim: 8, Heads: 2, FF: 16})
	require.NoError(t, err)
	got := map[string][]int{}
	for _, p := range s.Params() {
		got[p.Name] = p.Shape()
	}
	// torch.nn.TransformerDecoderLayer(8, 2, 16).state_dict() shapes
	want := map[string][]int{
		"layer.self_attn.in_proj_weight": {24, 8}, "layer.self_attn.in_proj_bias": {24},
		"layer.self_attn.out_proj.weight": {8, 8}, "layer.self_attn.out_proj.bias": {8},
		"layer.multihead_attn.in_proj_weight": {24, 8}, "layer.multihead_attn.in_proj_bias": {24},
		"layer.multihead_attn.out_proj.weight": {8, 8}, "layer.multihead_attn.out_proj.bias": {8},
		"layer.linear1.weight": {16, 8}, "layer.linear1.bias": {16}, "layer.linear2.weight": {8, 16}, "layer.linear2.bias": {8},
		"layer.norm1.weight": {8}, "layer.norm1.bias": {8}, "layer.norm2.weight": {8}, "layer.norm2.bias": {8},
		"layer.norm3.weight": {8}, "layer.norm3.bias": {8},
	}
	require.Equal(t, want, got)
	_, err = NewEncoderLayer(s, "bad2", LayerConfig{Dim: 8, Heads: 2, FF: 4, Activation: "swish"})
	require.ErrorContains(t, err, `activation "swish"`)
}
