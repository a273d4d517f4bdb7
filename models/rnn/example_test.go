package rnn_test

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/models/rnn"
)

// An LSTM of 4 units over a batch of 2 sequences of 3 steps: create its
// parameters (PyTorch's nn.LSTM names and shapes), build the unrolled graph
// with one input node per step, run it and read the last step's output.
func ExampleNew() {
	store := graph.NewStore(tensor.Float64, graph.NewRNG(1, "init"))
	lstm, err := rnn.New(store, "lstm", rnn.Config{Cell: rnn.LSTM, Input: 2, Hidden: 4})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, p := range store.Params() {
		fmt.Println(p.Name, p.Shape())
	}

	const batch, steps = 2, 3
	b := graph.NewBuilder(store, graph.Eval)
	xs := make([]*G.Node, steps)
	for t := range xs {
		xs[t] = b.Input(fmt.Sprintf("x%d", t), tensor.Float64, batch, 2)
	}
	outs, final := lstm.Forward(b, xs, lstm.ZeroState(b, "state", batch), nil)
	b.Output("h", outs[steps-1])
	b.Output("c", final.C[0])
	prog, err := b.Compile(nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	// Sequence 1 is 1, 0, -1 on both features; sequence 2 is all zeros. The
	// initial states "state.h0.0" and "state.c0.0" start at zero.
	for t, v := range []float64{1, 0, -1} {
		x := tensor.New(tensor.WithShape(batch, 2), tensor.WithBacking([]float64{v, v, 0, 0}))
		if err := prog.Set(fmt.Sprintf("x%d", t), x); err != nil {
			fmt.Println(err)
			return
		}
	}
	if err := prog.Run(); err != nil {
		fmt.Println(err)
		return
	}
	h, _ := prog.Output("h")
	c, _ := prog.Output("c")
	fmt.Println("h_3 shape", h.Shape())
	fmt.Printf("h_3 %.4f\n", graph.Float64s(h))
	fmt.Printf("c_3 %.4f\n", graph.Float64s(c))
	// torch.nn.LSTM(2, 4) loaded with the same state_dict gives the same
	// numbers (checked with PyTorch 1.13).

	// Output:
	// lstm.weight_ih_l0 (16, 2)
	// lstm.weight_hh_l0 (16, 4)
	// lstm.bias_ih_l0 (16)
	// lstm.bias_hh_l0 (16)
	// h_3 shape (2, 4)
	// h_3 [-0.1676 -0.0524 -0.1753 -0.2008 -0.2246 -0.0489 -0.2110 -0.2301]
	// c_3 [-0.3221 -0.0949 -0.5363 -0.3043 -0.5055 -0.0936 -0.5896 -0.4840]
}
