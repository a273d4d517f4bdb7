package graph

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// weightedSum returns sum(y * r) for a fixed random r, a loss whose gradient
// reaches every output element with a different weight (a plain sum would hide
// errors: the sum of a layer norm's output does not depend on its input).
// It returns the loss node and the weights, to be fed as input "r".
func weightedSum(t *testing.T, b *Builder, y *G.Node, seed uint64) (*G.Node, *tensor.Dense) {
	t.Helper()
	require.NoError(t, b.Err())
	r := b.Input("r", tensor.Float64, y.Shape()...)
	vals := make([]float64, y.Shape().TotalSize())
	NormalFloat64s(NewRNG(seed, "weights"), vals)
	return b.Check(G.Sum(b.Check(G.HadamardProd(y, r)))), FromFloat64s(tensor.Float64, vals, y.Shape()...)
}

// checkLayer compiles the loss, feeds the weights and runs the gradient check.
func checkLayer(t *testing.T, b *Builder, loss *G.Node, r *tensor.Dense) {
	t.Helper()
	p, err := b.Compile(loss)
	require.NoError(t, err)
	require.NoError(t, p.Set("r", r))
	require.NoError(t, CheckGrad(p, CheckOptions{}))
}

func TestLinearGradients(t *testing.T) {
	for _, bias := range []bool{true, false} {
		s := NewStore(tensor.Float64, NewRNG(1, "init"))
		lin, err := NewLinear(s, "fc", 4, 3, bias)
		require.NoError(t, err)
		x := s.Must("x", []int{2, 5, 4}, Normal(0, 1)) // 3-D input: (B, T, in)
		b := NewBuilder(s, Train)
		y := lin.Forward(b, b.Param(x))
		require.Equal(t, tensor.Shape{2, 5, 3}, y.Shape())
		loss, r := weightedSum(t, b, y, 2)
		checkLayer(t, b, loss, r)
	}
}

func TestLinearMatchesDefinition(t *testing.T) {
	s := NewStore(tensor.Float64, NewRNG(1, "init"))
	lin, err := NewLinear(s, "fc", 2, 2, true)
	require.NoError(t, err)
	copy(Slice[float64](lin.Weight.Value), []float64{1, 2, 3, 4})
	copy(Slice[float64](lin.Bias.Value), []float64{10, 20})
	b := NewBuilder(s, Eval)
	x := b.Input("x", tensor.Float64, 1, 2)
	b.Output("y", lin.Forward(b, x))
	p, err := b.Compile(nil)
	require.NoError(t, err)
	require.NoError(t, p.Set("x", FromFloat64s(tensor.Float64, []float64{1, 1}, 1, 2)))
	require.NoError(t, p.Run())
	y, _ := p.Output("y")
	require.Equal(t, []float64{13, 27}, Float64s(y)) // [1+2+10, 3+4+20]
}

func TestEmbeddingRepeatedIdsAccumulate(t *testing.T) {
	s := NewStore(tensor.Float64, NewRNG(1, "init"))
	emb, err := NewEmbedding(s, "emb", 5, 3)
	require.NoError(t, err)
	b := NewBuilder(s, Train)
	ids := b.Input("ids", tensor.Int, 2, 3)
	y := emb.Forward(b, ids)
	require.Equal(t, tensor.Shape{2, 3, 3}, y.Shape())
	loss, rw := weightedSum(t, b, y, 3)
	p, err := b.Compile(loss)
	require.NoError(t, err)
	require.NoError(t, p.Set("ids", tensor.New(tensor.WithShape(2, 3), tensor.WithBacking([]int{4, 1, 4, 0, 4, 1}))))
	require.NoError(t, p.Set("r", rw))
	require.NoError(t, CheckGrad(p, CheckOptions{}))

	// id 4 appears three times: its gradient row is the sum of the three weight rows
	require.NoError(t, p.Run())
	r := Float64s(rw)
	g := Float64s(emb.Weight.Grad)
	for j := 0; j < 3; j++ {
		require.InDelta(t, r[0*3+j]+r[2*3+j]+r[4*3+j], g[4*3+j], 1e-15)
		require.Equal(t, 0.0, g[2*3+j], "unused id 2 has no gradient")
	}

	require.NoError(t, p.Set("ids", tensor.New(tensor.WithShape(2, 3), tensor.WithBacking([]int{0, 1, 2, 3, 4, 5}))))
	require.ErrorContains(t, p.Run(), "id 5 at position 5 outside [0, 5)")
}

func TestLayerNormGradientsAndValues(t *testing.T) {
	s := NewStore(tensor.Float64, NewRNG(1, "init"))
	ln, err := NewLayerNorm(s, "ln", 4)
	require.NoError(t, err)
	// non-trivial affine parameters so that their gradients are checked in general
	copy(Slice[float64](ln.Weight.Value), []float64{0.5, -1, 2, 1.5})
	copy(Slice[float64](ln.Bias.Value), []float64{0.1, 0.2, -0.3, 0})
	x := s.Must("x", []int{3, 4}, Normal(1, 2))
	b := NewBuilder(s, Train)
	y := ln.Forward(b, b.Param(x))
	loss, r := weightedSum(t, b, y, 4)
	checkLayer(t, b, loss, r)

	// [1,2,3,4]: mean 2.5, biased variance 1.25 -> (x-2.5)/sqrt(1.25+1e-5)
	s2 := NewStore(tensor.Float32, NewRNG(1, "init"))
	ln2, _ := NewLayerNorm(s2, "ln", 4)
	b2 := NewBuilder(s2, Eval)
	x2 := b2.Input("x", tensor.Float32, 1, 4)
	b2.Output("y", ln2.Forward(b2, x2))
	p2, err := b2.Compile(nil)
	require.NoError(t, err)
	require.NoError(t, p2.Set("x", FromFloat64s(tensor.Float32, []float64{1, 2, 3, 4}, 1, 4)))
	require.NoError(t, p2.Run())
	out, _ := p2.Output("y")
	for i, v := range Float64s(out) {
		want := (float64(i+1) - 2.5) / math.Sqrt(1.25+1e-5)
		require.InDelta(t, want, v, 1e-6)
	}
}

func TestGELUGradientAndValue(t *testing.T) {
	s := NewStore(tensor.Float64, NewRNG(1, "init"))
	x := s.Must("x", []int{7}, Normal(0, 2))
	b := NewBuilder(s, Train)
	y := b.Check(GELU(b.Param(x)))
	loss, r := weightedSum(t, b, y, 5)
	checkLayer(t, b, loss, r)
	// GELU(1) = 1 * Phi(1) = 0.8413447460685429 (standard normal CDF at 1)
	v, err := Forward(geluKernel{}, []*tensor.Dense{FromFloat64s(tensor.Float64, []float64{1}, 1)})
	require.NoError(t, err)
	require.InDelta(t, 0.8413447460685429, Float64s(v)[0], 1e-15)
}

func TestActivationsGradients(t *testing.T) {
	for _, name := range []string{"relu", "tanh", "sigmoid", "gelu", "leaky_relu", "softplus", "identity"} {
		act, err := ActivationByName(name)
		require.NoError(t, err)
		s := NewStore(tensor.Float64, NewRNG(1, "init"))
		// keep ReLU's kink away from the difference step: |x| >= 0.1
		x := s.Must("x", []int{2, 3}, Uniform(0.1, 2))
		xs := Slice[float64](x.Value)
		xs[1], xs[4] = -xs[1], -xs[4]
		b := NewBuilder(s, Train)
		loss, r := weightedSum(t, b, b.Check(act(b.Param(x))), 6)
		checkLayer(t, b, loss, r)
	}
	_, err := ActivationByName("swishy")
	require.ErrorContains(t, err, `unknown activation "swishy"`)
}

func TestDropout(t *testing.T) {
	s := NewStore(tensor.Float64, NewRNG(1, "init"))
	x := s.Must("x", []int{50, 40}, Ones())
	// evaluation graphs leave x alone
	be := NewBuilder(s, Eval)
	xe := be.Param(x)
	require.Same(t, xe, Dropout(be, xe, 0.5))

	b := NewBuilder(s, Train)
	y := Dropout(b, b.Param(x), 0.25)
	b.Output("y", y)
	loss, rw := weightedSum(t, b, y, 7)
	p, err := b.Compile(loss)
	require.NoError(t, err)
	require.NoError(t, p.Set("r", rw))
	require.ErrorContains(t, p.Run(), "no noise stream")
	p.SetNoise(NewRNG(1, "dropout"))
	require.NoError(t, p.Run())
	out, _ := p.Output("y")
	zeros := 0
	for _, v := range Float64s(out) {
		if v == 0 {
			zeros++
		} else {
			require.Equal(t, 1/0.75, v, "kept units are scaled by 1/(1-p)")
		}
	}
	// 2000 Bernoulli(0.25) draws: mean 500, sd sqrt(2000*.25*.75) = 19.4; 5 sd bounds
	require.InDelta(t, 500, zeros, 100)
	// a new run draws a new mask
	first := Float64s(out)
	require.NoError(t, p.Run())
	require.NotEqual(t, first, Float64s(out))
	require.NoError(t, CheckGrad(p, CheckOptions{MaxPerParam: 50}))
}

// A float32 parameter of an elementwise initializer, filled a block at a time,
// holds the float32 roundings of the draws a whole-tensor fill makes, and a
// shape-dependent initializer still sees the whole shape.
func TestStoreFillsBlocksAsAWhole(t *testing.T) {
	const n = 3*(1<<14) + 5
	for name, init := range map[string]Initializer{"normal": Normal(0.5, 2), "uniform": Uniform(-1, 3), "xavier": XavierUniform(1)} {
		s := NewStore(tensor.Float32, NewRNG(7, "init"))
		p, err := s.New("w", []int{3, n / 3}, init)
		require.NoError(t, err)
		want := make([]float64, 3*(n/3))
		require.NoError(t, init.Fill(NewRNG(7, "init"), []int{3, n / 3}, want))
		got := Slice[float32](p.Value)
		for i, v := range want {
			require.Equal(t, float32(v), got[i], "%s element %d", name, i)
		}
	}
	_, err := NewStore(tensor.Float32, NewRNG(1, "init")).New("bad", []int{4}, Normal(0, -1))
	require.ErrorContains(t, err, "negative std")
}
