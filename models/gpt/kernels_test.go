package gpt

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/models/attention"
	"github.com/triadml/triad/models/internal/modeltest"
)

func TestConv1DGradients(t *testing.T) {
	modeltest.CheckKernel(t, conv1dKernel{}, [][]int{{2, 3, 4}, {4, 5}, {5}})
	modeltest.CheckKernel(t, conv1dKernel{}, [][]int{{3, 4}, {4, 2}})
	modeltest.CheckKernel(t, conv1dKernel{transposed: true}, [][]int{{2, 3, 4}, {5, 4}, {5}})
	modeltest.CheckKernel(t, conv1dKernel{transposed: true}, [][]int{{3, 4}, {6, 4}})
}

// One row takes the matrix-vector path; it computes what the matrix product
// computes for the same row among others.
func TestConv1DOneRow(t *testing.T) {
	for _, k := range []conv1dKernel{{}, {transposed: true}} {
		for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
			x := graph.FromFloat64s(dt, graph.Float64s(modeltest.NormalDense(1, 3, 4)), 3, 4)
			w := graph.FromFloat64s(dt, graph.Float64s(modeltest.NormalDense(2, 4, 5)), 4, 5)
			if k.transposed {
				w = graph.FromFloat64s(dt, graph.Float64s(w), 5, 4)
			}
			bias := graph.FromFloat64s(dt, graph.Float64s(modeltest.NormalDense(3, 5)), 5)
			all, err := graph.Forward(k, []*tensor.Dense{x, w, bias})
			require.NoError(t, err)
			row := graph.FromFloat64s(dt, graph.Float64s(x)[4:8], 1, 4)
			one, err := graph.Forward(k, []*tensor.Dense{row, w, bias})
			require.NoError(t, err)
			require.InDeltaSlice(t, graph.Float64s(all)[5:10], graph.Float64s(one), 1e-6)
		}
	}
}

func TestResidualGradients(t *testing.T) {
	modeltest.CheckKernel(t, residualKernel{}, [][]int{{2, 3, 4}, {2, 3, 4}})
}

func TestGELUTanhGradients(t *testing.T) {
	modeltest.CheckKernel(t, newGELU(), [][]int{{3, 7}})        // tanh kept from the forward pass
	modeltest.CheckKernel(t, geluTanhKernel{}, [][]int{{3, 7}}) // recomputed
}

// The tanh form against its formula, and against the erf form it approximates.
func TestGELUTanhValues(t *testing.T) {
	xs := []float64{-6, -2, -0.5, 0, 0.3, 1, 3, 10}
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		x := graph.FromFloat64s(dt, xs, len(xs))
		y, err := graph.Forward(geluTanhKernel{}, []*tensor.Dense{x})
		require.NoError(t, err)
		for i, v := range graph.Float64s(y) {
			want := 0.5 * xs[i] * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(xs[i]+0.044715*math.Pow(xs[i], 3))))
			tol := 1e-15
			if dt == tensor.Float32 {
				tol = 1e-6
			}
			require.InDelta(t, want, v, tol*math.Max(1, math.Abs(want)), "%v gelu(%g)", dt, xs[i])
			exact := xs[i] * 0.5 * (1 + math.Erf(xs[i]/math.Sqrt2))
			require.InDelta(t, exact, v, 1e-3)
		}
	}
}

func TestLayerNormNoBiasGradients(t *testing.T) {
	modeltest.CheckKernel(t, newLayerNormNoBias(1e-5), [][]int{{2, 3, 5}, {5}})         // kept from the forward pass
	modeltest.CheckKernel(t, layerNormNoBiasKernel{eps: 1e-5}, [][]int{{2, 3, 5}, {5}}) // recomputed
}

func TestCausalAttentionGradients(t *testing.T) {
	mask := tensor.New(tensor.Of(tensor.Float64), tensor.WithShape(4, 4, 4))
	graph.BernoulliMask(0.3)(3, 0, mask)
	for _, st := range []*kept{{}, nil} { // the weights kept from the forward pass, or recomputed
		modeltest.CheckKernel(t, causalAttnKernel{heads: 2, st: st}, [][]int{{2, 4, 12}})
		modeltest.CheckKernel(t, causalAttnKernel{heads: 2, dropout: true, st: st}, [][]int{{2, 4, 12}},
			modeltest.FixedInput{Name: "mask", Value: mask})
	}
}

// Causal attention against a direct evaluation of its formula.
func TestCausalAttentionValues(t *testing.T) {
	const B, T, H, D = 2, 5, 3, 2
	const E = H * D
	qkv := modeltest.NormalDense(4, B, T, 3*E)
	y, err := graph.Forward(causalAttnKernel{heads: H}, []*tensor.Dense{qkv})
	require.NoError(t, err)
	v, got := graph.Float64s(qkv), graph.Float64s(y)
	at := func(b, t, part, h, d int) float64 { return v[(b*T+t)*3*E+part*E+h*D+d] }
	for b := 0; b < B; b++ {
		for h := 0; h < H; h++ {
			for i := 0; i < T; i++ {
				s := make([]float64, i+1)
				var m, sum float64 = math.Inf(-1), 0
				for j := range s {
					for d := 0; d < D; d++ {
						s[j] += at(b, i, 0, h, d) * at(b, j, 1, h, d) / math.Sqrt(D)
					}
					m = math.Max(m, s[j])
				}
				for j := range s {
					s[j] = math.Exp(s[j] - m)
					sum += s[j]
				}
				for d := 0; d < D; d++ {
					var want float64
					for j := range s {
						want += s[j] / sum * at(b, j, 2, h, d)
					}
					require.InDelta(t, want, got[(b*T+i)*E+h*D+d], 1e-14)
				}
			}
		}
	}
}

// The cached attention, fed a sequence in pieces (a prompt, then one position at a
// time), gives the causal kernel's output over the whole sequence; with left
// padding, a row gives what it gives alone.
func TestCachedAttentionMatchesCausal(t *testing.T) {
	const B, T, H, E = 2, 6, 2, 4
	qkv := modeltest.NormalDense(5, B, T, 3*E)
	want, err := graph.Forward(causalAttnKernel{heads: H}, []*tensor.Dense{qkv})
	require.NoError(t, err)
	k := attention.CachedAttention{Cache: attention.NewKVCache(tensor.Float64, B, H, 8, E/H)}
	all := graph.Float64s(qkv)
	piece := func(from, to int) *tensor.Dense {
		var v []float64
		for b := 0; b < B; b++ {
			v = append(v, all[(b*T+from)*3*E:(b*T+to)*3*E]...)
		}
		return graph.FromFloat64s(tensor.Float64, v, B, to-from, 3*E)
	}
	var got []float64
	outs := make([][]float64, B)
	for _, r := range [][2]int{{0, 3}, {3, 4}, {4, 5}, {5, 6}} {
		y, err := graph.Forward(k, []*tensor.Dense{piece(r[0], r[1]), graph.FromInts([]int{r[0]}, 1), graph.FromInts([]int{0, 0}, B)})
		require.NoError(t, err)
		vals := graph.Float64s(y)
		n := (r[1] - r[0]) * E
		for b := 0; b < B; b++ {
			outs[b] = append(outs[b], vals[b*n:(b+1)*n]...)
		}
	}
	for b := range outs {
		got = append(got, outs[b]...)
	}
	require.InDeltaSlice(t, graph.Float64s(want), got, 1e-14)

	// row 1 starts two columns late: its first two queries are padding
	padded := graph.Float64s(piece(0, 4))
	copy(padded[4*3*E+2*3*E:], all[(1*T)*3*E:(1*T+2)*3*E]) // row 1: pad pad x0 x1
	for i := 0; i < 2*3*E; i++ {
		padded[4*3*E+i] = 100 // padding's keys and values must not matter
	}
	y, err := graph.Forward(k, []*tensor.Dense{graph.FromFloat64s(tensor.Float64, padded, B, 4, 3*E), graph.FromInts([]int{0}, 1), graph.FromInts([]int{0, 2}, B)})
	require.NoError(t, err)
	vals := graph.Float64s(y)
	require.Equal(t, make([]float64, 2*E), vals[4*E:6*E], "padding queries give zero")
	require.InDeltaSlice(t, graph.Float64s(want)[T*E:(T+2)*E], vals[6*E:8*E], 1e-14)
	_, err = graph.Forward(k, []*tensor.Dense{piece(0, 3), graph.FromInts([]int{6}, 1), graph.FromInts([]int{0, 0}, B)})
	require.ErrorContains(t, err, "outside the block")
}
