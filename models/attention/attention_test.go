package attention

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
)

func newStore() *graph.Store { return graph.NewStore(tensor.Float64, graph.NewRNG(1, "init")) }

// lossBuilder accumulates sum(y * r) terms with fixed random r inputs: a loss whose
// gradient reaches every output element with a different weight.
type lossBuilder struct {
	t     *testing.T
	b     *graph.Builder
	loss  *G.Node
	feeds map[string]*tensor.Dense
	seed  uint64
}

func newLoss(t *testing.T, b *graph.Builder) *lossBuilder {
	return &lossBuilder{t: t, b: b, feeds: map[string]*tensor.Dense{}, seed: 100}
}

func (l *lossBuilder) add(y *G.Node) {
	l.t.Helper()
	require.NoError(l.t, l.b.Err())
	require.NotNil(l.t, y)
	name := l.b.UniqueName("r")
	r := l.b.Input(name, tensor.Float64, y.Shape()...)
	vals := make([]float64, y.Shape().TotalSize())
	l.seed++
	graph.StandardNormal(graph.NewRNG(l.seed, "weights"), vals)
	l.feeds[name] = graph.FromFloat64s(tensor.Float64, vals, y.Shape()...)
	term := l.b.Check(G.Sum(l.b.Check(G.HadamardProd(y, r))))
	if l.loss == nil {
		l.loss = term
	} else {
		l.loss = l.b.Check(G.Add(l.loss, term))
	}
}

// check compiles the loss, feeds the weights and extra inputs, and runs the
// gradient check.
func (l *lossBuilder) check(inputs map[string]*tensor.Dense, opt graph.CheckOptions) {
	l.t.Helper()
	p, err := l.b.Compile(l.loss)
	require.NoError(l.t, err)
	for k, v := range l.feeds {
		require.NoError(l.t, p.Set(k, v))
	}
	for k, v := range inputs {
		require.NoError(l.t, p.Set(k, v))
	}
	require.NoError(l.t, graph.CheckGrad(p, opt))
}

func param(s *graph.Store, name string, shape ...int) *graph.Param {
	return s.Must(name, shape, graph.Normal(0, 1))
}

func TestScaledDotProductGradients(t *testing.T) {
	for _, dropout := range []float64{0, 0.3} {
		s := newStore()
		b := graph.NewBuilder(s, graph.Train)
		q := b.Param(param(s, "q", 3, 2, 4))
		k := b.Param(param(s, "k", 3, 5, 4))
		v := b.Param(param(s, "v", 3, 5, 3))
		mask := b.Input("mask", tensor.Float64, 3, 2, 5)
		out, w := ScaledDotProduct(b, q, k, v, mask, dropout)
		require.Equal(t, tensor.Shape{3, 2, 3}, out.Shape())
		require.Equal(t, tensor.Shape{3, 2, 5}, w.Shape())
		l := newLoss(t, b)
		l.add(out)
		l.add(w)
		m := PaddingMask(tensor.Float64, []int{5, 3, 1}, 2, 5)
		graph.Slice[float64](m)[1*10+1*5+0] = MaskValue // batch 1, query 1: key 0 masked too
		for j := 0; j < 5; j++ {                        // batch 2, query 1: fully masked
			graph.Slice[float64](m)[2*10+1*5+j] = MaskValue
		}
		l.check(map[string]*tensor.Dense{"mask": m}, graph.CheckOptions{Seed: 3})
	}
}

// runEval compiles an evaluation graph, feeds inputs and returns the outputs.
func runEval(t *testing.T, b *graph.Builder, inputs map[string]*tensor.Dense, names ...string) map[string][]float64 {
	t.Helper()
	p, err := b.Compile(nil)
	require.NoError(t, err)
	for k, v := range inputs {
		require.NoError(t, p.Set(k, v))
	}
	require.NoError(t, p.Run())
	out := map[string][]float64{}
	for _, n := range names {
		o, err := p.Output(n)
		require.NoError(t, err)
		out[n] = graph.Float64s(o)
	}
	return out
}

func normalDense(seed uint64, shape ...int) *tensor.Dense {
	n := 1
	for _, d := range shape {
		n *= d
	}
	v := make([]float64, n)
	graph.StandardNormal(graph.NewRNG(seed, "data"), v)
	return graph.FromFloat64s(tensor.Float64, v, shape...)
}

// A masked key gets exactly zero weight, and its value cannot reach the output; a
// fully masked query row gets zero weights and a zero output, not NaN.
func TestMaskedKeyGetsExactlyZeroWeight(t *testing.T) {
	s := newStore()
	run := func(v *tensor.Dense) map[string][]float64 {
		b := graph.NewBuilder(s, graph.Eval)
		q := b.Input("q", tensor.Float64, 2, 3, 4)
		k := b.Input("k", tensor.Float64, 2, 5, 4)
		vn := b.Input("v", tensor.Float64, 2, 5, 4)
		mask := b.Input("mask", tensor.Float64, 2, 3, 5)
		out, w := ScaledDotProduct(b, q, k, vn, mask, 0)
		b.Output("out", out)
		b.Output("w", w)
		m := PaddingMask(tensor.Float64, []int{5, 2}, 3, 5)
		for j := 0; j < 5; j++ { // batch 0, query 2: every key masked
			graph.Slice[float64](m)[2*5+j] = MaskValue
		}
		return runEval(t, b, map[string]*tensor.Dense{"q": normalDense(1, 2, 3, 4), "k": normalDense(2, 2, 5, 4), "v": v, "mask": m}, "out", "w")
	}
	v := normalDense(3, 2, 5, 4)
	r1 := run(v)
	w, out := r1["w"], r1["out"]
	for q := 0; q < 3; q++ {
		for j := 2; j < 5; j++ { // batch 1 has 2 keys
			require.Equal(t, 0.0, w[15+q*5+j], "batch 1 query %d key %d", q, j)
		}
		sum := 0.0
		for j := 0; j < 5; j++ {
			sum += w[15+q*5+j]
		}
		require.InDelta(t, 1, sum, 1e-12)
	}
	for j := 0; j < 5; j++ {
		require.Equal(t, 0.0, w[2*5+j])
	}
	for i := 0; i < 4; i++ {
		require.Equal(t, 0.0, out[2*4+i])
	}
	for _, x := range append(append([]float64(nil), w...), out...) {
		require.False(t, math.IsNaN(x))
	}
	// changing the values of masked keys changes nothing
	vv := graph.Slice[float64](v)
	for j := 2; j < 5; j++ {
		for i := 0; i < 4; i++ {
			vv[(5+j)*4+i] = 1e6
		}
	}
	require.Equal(t, out, run(v)["out"])
}

// With a causal mask, no weight reaches a future key, and changing a later input
// changes no earlier output.
func TestCausalMaskBlocksFuture(t *testing.T) {
	const B, T, E = 2, 5, 8
	s := newStore()
	mha, err := NewMultiHead(s, "attn", E, 2, 0)
	require.NoError(t, err)
	run := func(x *tensor.Dense) map[string][]float64 {
		b := graph.NewBuilder(s, graph.Eval)
		xn := b.Input("x", tensor.Float64, B, T, E)
		keep := b.Input("keep", tensor.Float64, B, T)
		out, w := mha.Forward(b, xn, xn, xn, AttentionMask(b, keep, T, true))
		b.Output("out", out)
		b.Output("w", w)
		return runEval(t, b, map[string]*tensor.Dense{"x": x, "keep": KeepMask(tensor.Float64, []int{5, 5}, T)}, "out", "w")
	}
	x := normalDense(4, B, T, E)
	r := run(x)
	for n := 0; n < B*2; n++ {
		for i := 0; i < T; i++ {
			for j := i + 1; j < T; j++ {
				require.Equal(t, 0.0, r["w"][(n*T+i)*T+j])
			}
		}
	}
	xv := graph.Slice[float64](x)
	for bi := 0; bi < B; bi++ {
		for i := 0; i < E; i++ {
			xv[(bi*T+3)*E+i] += 5 // change position 3
		}
	}
	r2 := run(x)
	for bi := 0; bi < B; bi++ {
		for p := 0; p < T; p++ {
			for i := 0; i < E; i++ {
				idx := (bi*T+p)*E + i
				if p < 3 {
					require.Equal(t, r["out"][idx], r2["out"][idx], "position %d", p)
				}
			}
		}
		require.NotEqual(t, r["out"][(bi*T+3)*E], r2["out"][(bi*T+3)*E])
	}
}

func TestMaskHelpers(t *testing.T) {
	require.Equal(t, []float64{1, 1, 0, 1, 0, 0}, graph.Float64s(KeepMask(tensor.Float64, []int{2, 1}, 3)))
	require.Equal(t, []float64{0, MaskValue, 0, 0}, graph.Float64s(CausalMask(tensor.Float64, 2)))
	require.Equal(t, []float64{0, MaskValue, 0, MaskValue}, graph.Float64s(PaddingMask(tensor.Float64, []int{1}, 2, 2)))
	require.LessOrEqual(t, MaskValue, graph.MaskThreshold)
	// the in-graph mask equals padding + causal
	s := newStore()
	b := graph.NewBuilder(s, graph.Eval)
	keep := b.Input("keep", tensor.Float64, 1, 3)
	b.Output("m", AttentionMask(b, keep, 3, true))
	got := runEval(t, b, map[string]*tensor.Dense{"keep": KeepMask(tensor.Float64, []int{2}, 3)}, "m")["m"]
	M := MaskValue
	require.Equal(t, []float64{0, M, M, 0, 0, M, 0, 0, M}, got)
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

func TestRecurrentAttentionGradients(t *testing.T) {
	const B, S, H = 3, 4, 5
	for _, kind := range []string{"bahdanau", "dot", "general"} {
		t.Run(kind, func(t *testing.T) {
			s := newStore()
			a, err := NewRecurrent(s, "attn", kind, H, H, 6)
			require.NoError(t, err)
			b := graph.NewBuilder(s, graph.Train)
			q := b.Param(param(s, "q", B, H))
			mem := b.Param(param(s, "mem", B, S, H))
			mask := b.Input("mask", tensor.Float64, B, S)
			ctx, w := a.Attend(b, q, a.Keys(b, mem), mem, mask)
			require.Equal(t, tensor.Shape{B, H}, ctx.Shape())
			require.Equal(t, tensor.Shape{B, S}, w.Shape())
			l := newLoss(t, b)
			l.add(ctx)
			l.add(w)
			m := graph.FromFloat64s(tensor.Float64, []float64{0, 0, 0, 0, 0, 0, MaskValue, MaskValue, 0, MaskValue, MaskValue, MaskValue}, B, S)
			l.check(map[string]*tensor.Dense{"mask": m}, graph.CheckOptions{})
		})
	}
}

func TestRecurrentAttentionMaskAndNames(t *testing.T) {
	s := newStore()
	a, err := NewAdditive(s, "attention", 4, 6, 5)
	require.NoError(t, err)
	got := map[string][]int{}
	for _, p := range s.Params() {
		got[p.Name] = p.Shape()
	}
	require.Equal(t, map[string][]int{"attention.query.weight": {5, 4}, "attention.key.weight": {5, 6}, "attention.key.bias": {5}, "attention.v.weight": {1, 5}}, got)
	b := graph.NewBuilder(s, graph.Eval)
	q := b.Input("q", tensor.Float64, 2, 4)
	mem := b.Input("mem", tensor.Float64, 2, 3, 6)
	mask := b.Input("mask", tensor.Float64, 2, 3)
	ctx, w := a.Attend(b, q, a.Keys(b, mem), mem, mask)
	b.Output("ctx", ctx)
	b.Output("w", w)
	r := runEval(t, b, map[string]*tensor.Dense{"q": normalDense(1, 2, 4), "mem": normalDense(2, 2, 3, 6),
		"mask": graph.FromFloat64s(tensor.Float64, []float64{0, 0, 0, 0, MaskValue, MaskValue}, 2, 3)}, "ctx", "w")
	require.Equal(t, 1.0, r["w"][3])
	require.Equal(t, []float64{0, 0}, r["w"][4:])
	// the context of a row attending to one position is that position's memory
	require.InDeltaSlice(t, graph.Float64s(normalDense(2, 2, 3, 6))[18:24], r["ctx"][6:], 1e-15)

	_, err = NewMultiplicative(s, "x", Dot, 3, 4)
	require.ErrorContains(t, err, "differs")
	_, err = NewRecurrent(s, "y", "concat", 3, 3, 3)
	require.ErrorContains(t, err, `unknown attention "concat"`)
}

func TestMultiHeadGradients(t *testing.T) {
	const B, TQ, TK, E = 2, 3, 4, 6
	for _, dropout := range []float64{0, 0.2} {
		s := newStore()
		mha, err := NewMultiHead(s, "mha", E, 3, dropout)
		require.NoError(t, err)
		perturbBiases(s)
		b := graph.NewBuilder(s, graph.Train)
		q := b.Param(param(s, "q", B, TQ, E))
		kv := b.Param(param(s, "kv", B, TK, E))
		keep := b.Input("keep", tensor.Float64, B, TK)
		out, w := mha.Forward(b, q, kv, kv, AttentionMask(b, keep, TQ, false))
		l := newLoss(t, b)
		l.add(out)
		l.add(MeanHeads(b, w, 3))
		l.check(map[string]*tensor.Dense{"keep": KeepMask(tensor.Float64, []int{4, 2}, TK)}, graph.CheckOptions{Seed: 5})
	}
}

// perturbBiases gives the zero-initialised biases and the norms' weights random
// values, so that a gradient check does not sit at a special point.
func perturbBiases(s *graph.Store) {
	rng := graph.NewRNG(9, "perturb")
	for _, p := range s.Params() {
		if p.Value.Dims() == 1 {
			v := graph.Slice[float64](p.Value)
			for i := range v {
				v[i] += 0.1 * rng.NormFloat64()
			}
		}
	}
}

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
			s := newStore()
			l, err := NewEncoderLayer(s, "enc", c.cfg)
			require.NoError(t, err)
			perturbBiases(s)
			b := graph.NewBuilder(s, graph.Train)
			x := b.Param(param(s, "x", B, T, E))
			keep := b.Input("keep", tensor.Float64, B, T)
			out, _ := l.Forward(b, x, AttentionMask(b, keep, T, false))
			lb := newLoss(t, b)
			lb.add(out)
			lb.check(map[string]*tensor.Dense{"keep": KeepMask(tensor.Float64, []int{4, 3}, T)}, graph.CheckOptions{Seed: 2, MaxPerParam: 24})
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
			s := newStore()
			l, err := NewDecoderLayer(s, "dec", c.cfg)
			require.NoError(t, err)
			perturbBiases(s)
			b := graph.NewBuilder(s, graph.Train)
			x := b.Param(param(s, "x", B, T, E))
			mem := b.Param(param(s, "mem", B, S, E))
			tk := b.Input("tgt_keep", tensor.Float64, B, T)
			sk := b.Input("src_keep", tensor.Float64, B, S)
			out, sw, cw := l.Forward(b, x, mem, AttentionMask(b, tk, T, true), AttentionMask(b, sk, T, false))
			require.Equal(t, tensor.Shape{B * 2, T, T}, sw.Shape())
			require.Equal(t, tensor.Shape{B * 2, T, S}, cw.Shape())
			lb := newLoss(t, b)
			lb.add(out)
			lb.check(map[string]*tensor.Dense{"tgt_keep": KeepMask(tensor.Float64, []int{3, 2}, T), "src_keep": KeepMask(tensor.Float64, []int{4, 2}, S)}, graph.CheckOptions{Seed: 4, MaxPerParam: 24})
		})
	}
}

func TestPositionalGradients(t *testing.T) {
	s := newStore()
	lp, err := NewLearnedPositions(s, "pos", 5, 4)
	require.NoError(t, err)
	b := graph.NewBuilder(s, graph.Train)
	x := b.Param(param(s, "x", 2, 3, 4))
	l := newLoss(t, b)
	l.add(lp.Add(b, x))
	l.add(SinusoidalPositions{}.Add(b, x))
	l.check(nil, graph.CheckOptions{})
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
	_, err = NewMultiHead(s, "bad", 10, 3, 0)
	require.ErrorContains(t, err, "multiple of 3 heads")
	_, err = NewEncoderLayer(s, "bad2", LayerConfig{Dim: 8, Heads: 2, FF: 4, Activation: "swish"})
	require.ErrorContains(t, err, `activation "swish"`)
}
