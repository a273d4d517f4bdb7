package attention

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
)

// The fixtures are written by scripts/fixtures_attention.py with PyTorch's
// modules in float64 (batch_first=True, dropout 0): parameters ("param.NAME"),
// inputs ("input.X"), the loss weights ("r.Y"), outputs, the loss sum(out*r.out)
// (+ sum(weights*r.weights) for attention), and the gradients of every parameter
// ("grad.NAME") and input ("grad_input.X").

// parityTol is the relative tolerance of the comparisons.
const parityTol = 1e-6

type fixture map[string]*tensor.Dense

func loadFixture(t *testing.T, name string) fixture {
	t.Helper()
	ts, _, err := graph.LoadTensors("testdata/" + name + ".safetensors")
	require.NoError(t, err)
	return ts
}

// assign copies the fixture's parameters into every parameter of s (by name
// relative to prefix) and checks that none is left over.
func (f fixture) assign(t *testing.T, s *graph.Store, prefix string) {
	t.Helper()
	n := 0
	for _, p := range s.Params() {
		name := strings.TrimPrefix(p.Name, prefix)
		v, ok := f["param."+name]
		require.True(t, ok, "fixture has no parameter %s", name)
		require.Equal(t, v.Shape(), p.Value.Shape(), name)
		copy(graph.Slice[float64](p.Value), graph.Slice[float64](v))
		n++
	}
	count := 0
	for k := range f {
		if strings.HasPrefix(k, "param.") {
			count++
		}
	}
	require.Equal(t, count, n, "parameters in the fixture and in the model")
}

// input binds fixture input name as a parameter (so that its gradient is
// computed) and returns its node.
func (f fixture) input(t *testing.T, s *graph.Store, b *graph.Builder, name string) *G.Node {
	t.Helper()
	v := f["input."+name]
	require.NotNil(t, v, name)
	p := s.Must("input."+name, v.Shape(), nil)
	copy(graph.Slice[float64](p.Value), graph.Slice[float64](v))
	return b.Param(p)
}

func requireRelClose(t *testing.T, want, got []float64, what string) {
	t.Helper()
	require.Len(t, got, len(want), what)
	for i := range want {
		d := math.Abs(want[i] - got[i])
		require.LessOrEqual(t, d, parityTol*math.Max(math.Abs(want[i]), 1e-3), "%s[%d]: want %.12g, got %.12g", what, i, want[i], got[i])
	}
}

// weighted adds sum(y * r) to the loss with r the fixture's "r.<name>".
func weighted(t *testing.T, b *graph.Builder, f fixture, y *G.Node, name string, feeds map[string]*tensor.Dense) *G.Node {
	t.Helper()
	require.NoError(t, b.Err())
	r := f["r."+name]
	require.NotNil(t, r, name)
	in := b.Input("r."+name, tensor.Float64, r.Shape()...)
	feeds["r."+name] = r
	return b.Check(G.Sum(b.Check(G.HadamardProd(y, in))))
}

// compare runs the program and compares the loss, the outputs and every
// parameter's and input's gradient with the fixture's.
func compare(t *testing.T, s *graph.Store, b *graph.Builder, f fixture, loss *G.Node, feeds map[string]*tensor.Dense, outputs []string, prefix string) {
	t.Helper()
	p, err := b.Compile(loss)
	require.NoError(t, err)
	for k, v := range feeds {
		require.NoError(t, p.Set(k, v))
	}
	require.NoError(t, p.Run())
	requireRelClose(t, graph.Float64s(f["loss"]), []float64{p.Loss()}, "loss")
	for _, name := range outputs {
		o, err := p.Output(name)
		require.NoError(t, err)
		requireRelClose(t, graph.Float64s(f[name]), graph.Float64s(o), name)
	}
	checked := 0
	for _, prm := range s.Params() {
		var key string
		if in, ok := strings.CutPrefix(prm.Name, "input."); ok {
			key = "grad_input." + in
		} else {
			key = "grad." + strings.TrimPrefix(prm.Name, prefix)
		}
		want, ok := f[key]
		require.True(t, ok, "fixture has no %s", key)
		requireRelClose(t, graph.Float64s(want), graph.Float64s(prm.Grad), key)
		checked++
	}
	require.Greater(t, checked, 4)
}

// TestMultiHeadParity: torch.nn.MultiheadAttention(8, 2, batch_first=True) with a
// key padding mask and a float attention mask, average_attn_weights=True.
func TestMultiHeadParity(t *testing.T) {
	f := loadFixture(t, "mha")
	s := newStore()
	mha, err := NewMultiHead(s, "mha", 8, 2, 0)
	require.NoError(t, err)
	f.assign(t, s, "mha.")
	b := graph.NewBuilder(s, graph.Train)
	q, k, v := f.input(t, s, b, "q"), f.input(t, s, b, "k"), f.input(t, s, b, "v")
	mask := b.Input("mask", tensor.Float64, f["input.mask"].Shape()...)
	feeds := map[string]*tensor.Dense{"mask": f["input.mask"]}
	out, w := mha.Forward(b, q, k, v, mask)
	mean := MeanHeads(b, w, 2)
	b.Output("out", out)
	b.Output("weights", mean)
	loss := b.Check(G.Add(weighted(t, b, f, out, "out", feeds), weighted(t, b, f, mean, "weights", feeds)))
	compare(t, s, b, f, loss, feeds, []string{"out", "weights"}, "mha.")
}

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
			f := loadFixture(t, c.name)
			s := newStore()
			l, err := NewEncoderLayer(s, "layer", c.cfg)
			require.NoError(t, err)
			f.assign(t, s, "layer.")
			b := graph.NewBuilder(s, graph.Train)
			x := f.input(t, s, b, "x")
			mask := b.Input("mask", tensor.Float64, f["input.mask"].Shape()...)
			feeds := map[string]*tensor.Dense{"mask": f["input.mask"]}
			out, _ := l.Forward(b, x, mask)
			b.Output("out", out)
			compare(t, s, b, f, weighted(t, b, f, out, "out", feeds), feeds, []string{"out"}, "layer.")
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
			f := loadFixture(t, name)
			s := newStore()
			l, err := NewDecoderLayer(s, "layer", LayerConfig{Dim: 8, Heads: 2, FF: 16, PreLN: pre})
			require.NoError(t, err)
			f.assign(t, s, "layer.")
			b := graph.NewBuilder(s, graph.Train)
			x, mem := f.input(t, s, b, "x"), f.input(t, s, b, "memory")
			feeds := map[string]*tensor.Dense{}
			masks := make([]*G.Node, 2)
			for i, m := range []string{"self_mask", "memory_mask"} {
				masks[i] = b.Input(m, tensor.Float64, f["input."+m].Shape()...)
				feeds[m] = f["input."+m]
			}
			out, _, _ := l.Forward(b, x, mem, masks[0], masks[1])
			b.Output("out", out)
			compare(t, s, b, f, weighted(t, b, f, out, "out", feeds), feeds, []string{"out"}, "layer.")
		})
	}
}

func TestFixturesAreFloat64(t *testing.T) {
	for _, name := range []string{"mha", "encoder_post_relu", "encoder_pre_gelu", "decoder_post", "decoder_pre"} {
		for k, v := range loadFixture(t, name) {
			require.Equal(t, tensor.Float64, v.Dtype(), fmt.Sprintf("%s: %s", name, k))
		}
	}
}
