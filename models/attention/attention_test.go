package attention

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/models/internal/modeltest"
)

func TestScaledDotProductGradients(t *testing.T) {
	for _, dropout := range []float64{0, 0.3} {
		s := modeltest.NewStore()
		b := graph.NewBuilder(s, graph.Train)
		q := b.Param(modeltest.Param(s, "q", 3, 2, 4))
		k := b.Param(modeltest.Param(s, "k", 3, 5, 4))
		v := b.Param(modeltest.Param(s, "v", 3, 5, 3))
		mask := b.Input("mask", tensor.Float64, 3, 2, 5)
		out, w := ScaledDotProduct(b, q, k, v, mask, dropout)
		require.Equal(t, tensor.Shape{3, 2, 3}, out.Shape())
		require.Equal(t, tensor.Shape{3, 2, 5}, w.Shape())
		l := modeltest.NewLoss(t, b)
		l.Add(out)
		l.Add(w)
		m := PaddingMask(tensor.Float64, []int{5, 3, 1}, 2, 5)
		graph.Slice[float64](m)[1*10+1*5+0] = MaskValue // batch 1, query 1: key 0 masked too
		for j := 0; j < 5; j++ {                        // batch 2, query 1: fully masked
			graph.Slice[float64](m)[2*10+1*5+j] = MaskValue
		}
		l.Check(map[string]*tensor.Dense{"mask": m}, graph.CheckOptions{Seed: 3})
	}
}

// A masked key gets exactly zero weight, and its value cannot reach the output; a
// fully masked query row gets zero weights and a zero output, not NaN.
func TestMaskedKeyGetsExactlyZeroWeight(t *testing.T) {
	s := modeltest.NewStore()
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
		return modeltest.RunEval(t, b, map[string]*tensor.Dense{"q": modeltest.NormalDense(1, 2, 3, 4), "k": modeltest.NormalDense(2, 2, 5, 4), "v": v, "mask": m}, "out", "w")
	}
	v := modeltest.NormalDense(3, 2, 5, 4)
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
	s := modeltest.NewStore()
	mha, err := NewMultiHead(s, "attn", E, 2, 0)
	require.NoError(t, err)
	run := func(x *tensor.Dense) map[string][]float64 {
		b := graph.NewBuilder(s, graph.Eval)
		xn := b.Input("x", tensor.Float64, B, T, E)
		keep := b.Input("keep", tensor.Float64, B, T)
		out, w := mha.Forward(b, xn, xn, xn, AttentionMask(b, keep, T, true))
		b.Output("out", out)
		b.Output("w", w)
		return modeltest.RunEval(t, b, map[string]*tensor.Dense{"x": x, "keep": KeepMask(tensor.Float64, []int{5, 5}, T)}, "out", "w")
	}
	x := modeltest.NormalDense(4, B, T, E)
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
	s := modeltest.NewStore()
	b := graph.NewBuilder(s, graph.Eval)
	keep := b.Input("keep", tensor.Float64, 1, 3)
	b.Output("m", AttentionMask(b, keep, 3, true))
	got := modeltest.RunEval(t, b, map[string]*tensor.Dense{"keep": KeepMask(tensor.Float64, []int{2}, 3)}, "m")["m"]
	M := MaskValue
	require.Equal(t, []float64{0, M, M, 0, 0, M, 0, 0, M}, got)
}

func TestRecurrentAttentionGradients(t *testing.T) {
	const B, S, H = 3, 4, 5
	for _, kind := range []string{"bahdanau", "dot", "general"} {
		t.Run(kind, func(t *testing.T) {
			s := modeltest.NewStore()
			a, err := NewRecurrent(s, "attn", kind, H, H, 6)
			require.NoError(t, err)
			b := graph.NewBuilder(s, graph.Train)
			q := b.Param(modeltest.Param(s, "q", B, H))
			mem := b.Param(modeltest.Param(s, "mem", B, S, H))
			mask := b.Input("mask", tensor.Float64, B, S)
			ctx, w := a.Attend(b, q, a.Keys(b, mem), mem, mask)
			require.Equal(t, tensor.Shape{B, H}, ctx.Shape())
			require.Equal(t, tensor.Shape{B, S}, w.Shape())
			l := modeltest.NewLoss(t, b)
			l.Add(ctx)
			l.Add(w)
			m := graph.FromFloat64s(tensor.Float64, []float64{0, 0, 0, 0, 0, 0, MaskValue, MaskValue, 0, MaskValue, MaskValue, MaskValue}, B, S)
			l.Check(map[string]*tensor.Dense{"mask": m}, graph.CheckOptions{})
		})
	}
}

func TestRecurrentAttentionMaskAndNames(t *testing.T) {
	s := modeltest.NewStore()
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
	r := modeltest.RunEval(t, b, map[string]*tensor.Dense{"q": modeltest.NormalDense(1, 2, 4), "mem": modeltest.NormalDense(2, 2, 3, 6),
		"mask": graph.FromFloat64s(tensor.Float64, []float64{0, 0, 0, 0, MaskValue, MaskValue}, 2, 3)}, "ctx", "w")
	require.Equal(t, 1.0, r["w"][3])
	require.Equal(t, []float64{0, 0}, r["w"][4:])
	// the context of a row attending to one position is that position's memory
	require.InDeltaSlice(t, graph.Float64s(modeltest.NormalDense(2, 2, 3, 6))[18:24], r["ctx"][6:], 1e-15)

	_, err = NewMultiplicative(s, "x", Dot, 3, 4)
	require.ErrorContains(t, err, "differs")
	_, err = NewRecurrent(s, "y", "concat", 3, 3, 3)
	require.ErrorContains(t, err, `unknown attention "concat"`)
}

func TestMultiHeadGradients(t *testing.T) {
	const B, TQ, TK, E = 2, 3, 4, 6
	for _, dropout := range []float64{0, 0.2} {
		mha, b := modeltest.TrainModule(t, func(s *graph.Store) (*MultiHead, error) { return NewMultiHead(s, "mha", E, 3, dropout) })
		q := b.Param(modeltest.Param(b.Store, "q", B, TQ, E))
		kv := b.Param(modeltest.Param(b.Store, "kv", B, TK, E))
		keep := b.Input("keep", tensor.Float64, B, TK)
		out, w := mha.Forward(b, q, kv, kv, AttentionMask(b, keep, TQ, false))
		l := modeltest.NewLoss(t, b)
		l.Add(out)
		l.Add(MeanHeads(b, w, 3))
		l.Check(map[string]*tensor.Dense{"keep": KeepMask(tensor.Float64, []int{4, 2}, TK)}, graph.CheckOptions{Seed: 5})
	}
	_, err := NewMultiHead(modeltest.NewStore(), "bad", 10, 3, 0)
	require.ErrorContains(t, err, "multiple of 3 heads")
}

func TestBMMAllTransposes(t *testing.T) {
	for _, ta := range []bool{false, true} {
		for _, tb := range []bool{false, true} {
			ash, bsh := []int{2, 3, 4}, []int{2, 4, 5} // op(A) (3,4), op(B) (4,5)
			if ta {
				ash = []int{2, 4, 3}
			}
			if tb {
				bsh = []int{2, 5, 4}
			}
			c := modeltest.CheckKernel(t, bmmKernel{transA: ta, transB: tb}, [][]int{ash, bsh})
			require.Equal(t, tensor.Shape{2, 3, 5}, c.Shape())
		}
	}
}
