package rnn

import (
	"encoding/json"
	"fmt"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/triadml/triad/graph"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

type parityFixture struct {
	Cell   Cell
	Params map[string][]float64
	Grads  map[string][]float64
	X      []float64
	H0     []float64
	C0     []float64
	WOut   []float64 `json:"w_out"`
	WH     []float64 `json:"w_h"`
	Out    []float64
	HN     []float64
	Loss   float64
}

// TestPyTorchParity runs torch.nn.RNN/LSTM/GRU(3, 4, num_layers=2,
// bidirectional=True) in float64 on shared weights and inputs
// (scripts/fixtures_rnn.py) and compares outputs, final states, loss and every
// parameter gradient.
func TestPyTorchParity(t *testing.T) {
	const T, B, I, H, S = 3, 2, 3, 4, 4
	for _, name := range []string{"rnn", "lstm", "gru"} {
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile("testdata/parity_" + name + ".json")
			require.NoError(t, err)
			var fx parityFixture
			require.NoError(t, json.Unmarshal(raw, &fx))
			s := graph.NewStore(tensor.Float64, graph.NewRNG(1, "init"))
			r, err := New(s, "", Config{Cell: fx.Cell, Input: I, Hidden: H, Layers: 2, Bidirectional: true})
			require.NoError(t, err)
			require.Len(t, s.Params(), len(fx.Params))
			for _, p := range s.Params() {
				vals, ok := fx.Params[p.Name]
				require.True(t, ok, p.Name)
				copy(graph.Slice[float64](p.Value), vals)
			}
			b := graph.NewBuilder(s, graph.Train)
			var xs []*G.Node
			for i := 0; i < T; i++ {
				xs = append(xs, b.Input(fmt.Sprintf("x%d", i), tensor.Float64, B, I))
			}
			init := r.ZeroState(b, "s", B)
			outs, final := r.Forward(b, xs, init, nil)
			var loss *G.Node
			add := func(n *G.Node, name string) {
				w := b.Input(name, tensor.Float64, n.Shape()...)
				term := b.Check(G.Sum(b.Check(G.HadamardProd(n, w))))
				if loss == nil {
					loss = term
				} else {
					loss = b.Check(G.Add(loss, term))
				}
			}
			for i, o := range outs {
				b.Output(fmt.Sprintf("out%d", i), o)
				add(o, fmt.Sprintf("wo%d", i))
			}
			for k, h := range final.H {
				b.Output(fmt.Sprintf("hn%d", k), h)
				add(h, fmt.Sprintf("wh%d", k))
			}
			p, err := b.Compile(loss)
			require.NoError(t, err)
			set := func(name string, vals []float64, shape ...int) {
				require.NoError(t, p.Set(name, graph.FromFloat64s(tensor.Float64, vals, shape...)))
			}
			for i := 0; i < T; i++ {
				set(fmt.Sprintf("x%d", i), fx.X[i*B*I:(i+1)*B*I], B, I)
				set(fmt.Sprintf("wo%d", i), fx.WOut[i*B*2*H:(i+1)*B*2*H], B, 2*H)
			}
			for k := 0; k < S; k++ {
				set(fmt.Sprintf("s.h0.%d", k), fx.H0[k*B*H:(k+1)*B*H], B, H)
				set(fmt.Sprintf("wh%d", k), fx.WH[k*B*H:(k+1)*B*H], B, H)
				if fx.Cell == LSTM {
					set(fmt.Sprintf("s.c0.%d", k), fx.C0[k*B*H:(k+1)*B*H], B, H)
				}
			}
			require.NoError(t, p.Run())
			require.InDelta(t, fx.Loss, p.Loss(), 1e-10)
			for i := 0; i < T; i++ {
				o, _ := p.Output(fmt.Sprintf("out%d", i))
				requireClose(t, fx.Out[i*B*2*H:(i+1)*B*2*H], graph.Float64s(o), "output step %d", i)
			}
			for k := 0; k < S; k++ {
				h, _ := p.Output(fmt.Sprintf("hn%d", k))
				requireClose(t, fx.HN[k*B*H:(k+1)*B*H], graph.Float64s(h), "h_n[%d]", k)
			}
			for _, prm := range s.Params() {
				requireClose(t, fx.Grads[prm.Name], graph.Float64s(prm.Grad), "gradient of %s", prm.Name)
			}
		})
	}
}

func requireClose(t *testing.T, want, got []float64, msg string, args ...any) {
	t.Helper()
	require.Len(t, got, len(want), msg, args)
	for i := range want {
		require.InDelta(t, want[i], got[i], 1e-10*(1+abs(want[i])), "%s [%d]", fmt.Sprintf(msg, args...), i)
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}
