package rnn

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
)

// build makes a float64 training program whose loss is a fixed random weighting of
// every output and final state, with the inputs and initial states as parameters
// so that their gradients are checked too.
func build(t *testing.T, cfg Config, batch, steps int, lengths []int) (*graph.Program, *RNN) {
	t.Helper()
	s := graph.NewStore(tensor.Float64, graph.NewRNG(1, "init"))
	r, err := New(s, "rnn", cfg)
	require.NoError(t, err)
	b := graph.NewBuilder(s, graph.Train)
	var xs, masks []*G.Node
	feeds := map[string]*tensor.Dense{}
	for i := 0; i < steps; i++ {
		xs = append(xs, b.Param(s.Must(fmt.Sprintf("x%d", i), []int{batch, cfg.Input}, graph.Normal(0, 1))))
		if lengths != nil {
			m := make([]float64, batch)
			for j, l := range lengths {
				if i < l {
					m[j] = 1
				}
			}
			name := fmt.Sprintf("mask%d", i)
			masks = append(masks, b.Input(name, tensor.Float64, batch, 1))
			feeds[name] = graph.FromFloat64s(tensor.Float64, m, batch, 1)
		}
	}
	var init State
	for k := 0; k < r.States(); k++ {
		init.H = append(init.H, b.Param(s.Must(fmt.Sprintf("h0.%d", k), []int{batch, cfg.Hidden}, graph.Normal(0, 0.5))))
		if cfg.Cell == LSTM {
			init.C = append(init.C, b.Param(s.Must(fmt.Sprintf("c0.%d", k), []int{batch, cfg.Hidden}, graph.Normal(0, 0.5))))
		}
	}
	outs, final := r.Forward(b, xs, init, masks)
	require.NoError(t, b.Err())
	var terms []*G.Node
	for _, n := range append(append(outs, final.H...), final.C...) {
		w := s.Must(b.UniqueName("w"), n.Shape(), graph.Normal(0, 1))
		terms = append(terms, b.Check(G.Sum(b.Check(G.HadamardProd(n, b.Param(w))))))
	}
	loss := terms[0]
	for _, tm := range terms[1:] {
		loss = b.Check(G.Add(loss, tm))
	}
	p, err := b.Compile(loss)
	require.NoError(t, err)
	for name, v := range feeds {
		require.NoError(t, p.Set(name, v))
	}
	p.SetNoise(graph.NewRNG(3, "dropout"))
	return p, r
}

func TestCellGradients(t *testing.T) {
	for _, cell := range []Cell{Tanh, ReLU, LSTM, GRU} {
		t.Run(string(cell), func(t *testing.T) {
			p, _ := build(t, Config{Cell: cell, Input: 3, Hidden: 4}, 2, 3, nil)
			require.NoError(t, graph.CheckGrad(p, graph.CheckOptions{}))
		})
	}
}

func TestStackedBidirectionalMaskedGradients(t *testing.T) {
	for _, cell := range []Cell{Tanh, LSTM, GRU} {
		t.Run(string(cell), func(t *testing.T) {
			cfg := Config{Cell: cell, Input: 3, Hidden: 3, Layers: 2, Bidirectional: true, Dropout: 0.3}
			p, _ := build(t, cfg, 3, 4, []int{4, 2, 1})
			require.NoError(t, graph.CheckGrad(p, graph.CheckOptions{Seed: 7}))
		})
	}
}

func TestPyTorchNamesAndShapes(t *testing.T) {
	s := graph.NewStore(tensor.Float32, graph.NewRNG(1, "init"))
	_, err := New(s, "lstm", Config{Cell: LSTM, Input: 10, Hidden: 20, Layers: 2, Bidirectional: true})
	require.NoError(t, err)
	got := map[string][]int{}
	for _, p := range s.Params() {
		got[p.Name] = p.Shape()
	}
	// torch.nn.LSTM(10, 20, num_layers=2, bidirectional=True).state_dict() shapes
	require.Equal(t, []int{80, 10}, got["lstm.weight_ih_l0"])
	require.Equal(t, []int{80, 20}, got["lstm.weight_hh_l0_reverse"])
	require.Equal(t, []int{80, 40}, got["lstm.weight_ih_l1"])
	require.Equal(t, []int{80}, got["lstm.bias_hh_l1_reverse"])
	require.Len(t, got, 16)
	// forget-gate bias block of b_ih is 1
	bih, _ := s.Get("lstm.bias_ih_l0")
	vals := graph.Float64s(bih.Value)
	for j := 20; j < 40; j++ {
		require.Equal(t, 1.0, vals[j])
	}
	_, err = New(s, "x", Config{Cell: "elman", Input: 1, Hidden: 1})
	require.ErrorContains(t, err, `unknown cell "elman"`)
}

// A padded step leaves the state alone: the final state of a sequence of length 2
// padded to 4 equals that of the same sequence unpadded.
func TestMaskedStepsKeepState(t *testing.T) {
	s := graph.NewStore(tensor.Float64, graph.NewRNG(1, "init"))
	r, err := New(s, "gru", Config{Cell: GRU, Input: 2, Hidden: 3})
	require.NoError(t, err)
	run := func(steps int, masked bool) []float64 {
		b := graph.NewBuilder(s, graph.Eval)
		var xs, ms []*G.Node
		for i := 0; i < steps; i++ {
			xs = append(xs, b.Input(fmt.Sprintf("x%d", i), tensor.Float64, 1, 2))
			if masked {
				ms = append(ms, b.Input(fmt.Sprintf("m%d", i), tensor.Float64, 1, 1))
			}
		}
		init := r.ZeroState(b, "s", 1)
		_, final := r.Forward(b, xs, init, ms)
		b.Output("h", final.H[0])
		p, err := b.Compile(nil)
		require.NoError(t, err)
		for i := 0; i < steps; i++ {
			require.NoError(t, p.Set(fmt.Sprintf("x%d", i), graph.FromFloat64s(tensor.Float64, []float64{float64(i) + 0.5, -1}, 1, 2)))
			if masked {
				m := 0.0
				if i < 2 {
					m = 1
				}
				require.NoError(t, p.Set(fmt.Sprintf("m%d", i), graph.FromFloat64s(tensor.Float64, []float64{m}, 1, 1)))
			}
		}
		require.NoError(t, p.Run())
		h, _ := p.Output("h")
		return graph.Float64s(h)
	}
	require.Equal(t, run(2, false), run(4, true))
}
