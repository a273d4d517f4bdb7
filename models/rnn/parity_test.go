package rnn

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/models/internal/modeltest"
)

// TestPyTorchParity runs torch.nn.RNN/LSTM/GRU(3, 4, num_layers=2,
// bidirectional=True) in float64 on shared weights and inputs
// (scripts/fixtures_rnn.py) and compares outputs, final states, loss and every
// parameter gradient to 1e-10 relative, through the unrolled graph and through
// the fused kernels.
func TestPyTorchParity(t *testing.T) {
	const parityTol = 1e-10
	const T, B, I, H, S = 3, 2, 3, 4, 4
	for _, run := range []string{"rnn", "lstm", "gru", "rnn/fused", "lstm/fused", "gru/fused"} {
		name, fused := strings.CutSuffix(run, "/fused")
		t.Run(run, func(t *testing.T) {
			ts, meta, err := graph.LoadTensors("testdata/parity_" + name + ".safetensors")
			require.NoError(t, err)
			fx := modeltest.Fixture(ts)
			get := func(k string) []float64 {
				v, ok := fx[k]
				require.True(t, ok, k)
				return graph.Float64s(v)
			}
			cell := Cell(meta["cell"])
			s := graph.NewStore(tensor.Float64, graph.NewRNG(1, "init"))
			r, err := New(s, "", Config{Cell: cell, Input: I, Hidden: H, Layers: 2, Bidirectional: true, Fused: fused})
			require.NoError(t, err)
			fx.AssignParams(t, s)
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
			x, wOut, h0, wH, c0 := get("x"), get("w_out"), get("h0"), get("w_h"), get("c0")
			for i := 0; i < T; i++ {
				set(fmt.Sprintf("x%d", i), x[i*B*I:(i+1)*B*I], B, I)
				set(fmt.Sprintf("wo%d", i), wOut[i*B*2*H:(i+1)*B*2*H], B, 2*H)
			}
			for k := 0; k < S; k++ {
				set(fmt.Sprintf("s.h0.%d", k), h0[k*B*H:(k+1)*B*H], B, H)
				set(fmt.Sprintf("wh%d", k), wH[k*B*H:(k+1)*B*H], B, H)
				if cell == LSTM {
					set(fmt.Sprintf("s.c0.%d", k), c0[k*B*H:(k+1)*B*H], B, H)
				}
			}
			require.NoError(t, p.Run())
			modeltest.RequireWithin(t, get("loss"), []float64{p.Loss()}, parityTol, "loss")
			out, hn := get("out"), get("hn")
			for i := 0; i < T; i++ {
				o, _ := p.Output(fmt.Sprintf("out%d", i))
				modeltest.RequireWithin(t, out[i*B*2*H:(i+1)*B*2*H], graph.Float64s(o), parityTol, "output step %d", i)
			}
			for k := 0; k < S; k++ {
				h, _ := p.Output(fmt.Sprintf("hn%d", k))
				modeltest.RequireWithin(t, hn[k*B*H:(k+1)*B*H], graph.Float64s(h), parityTol, "h_n[%d]", k)
			}
			fx.RequireGradients(t, s, parityTol)
		})
	}
}
