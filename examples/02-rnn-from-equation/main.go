// Command 02-rnn-from-equation builds the Elman RNN from its equation with
// Gorgonia's ops, checks it against models/rnn, and trains it to remember.
//
//	go run ./examples/02-rnn-from-equation [-out DIR] [-short]
package main

import (
	"fmt"
	"math"
	"os"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/examples/notebook"
	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/losses"
	"github.com/triadml/triad/models/rnn"
	"github.com/triadml/triad/solvers"
)

func main() {
	notebook.Run("examples/02-rnn-from-equation/out", run)
}

const (
	batch, steps, hidden = 16, 12, 16
	delay                = 2 // the task: output now what came in `delay` steps ago
)

func run(out string, short bool) error {
	nb, err := notebook.New(out, "An RNN from its equation", short, os.Stdout)
	if err != nil {
		return err
	}
	nb.Text("The Elman network keeps a state h and updates it with each input x:\n\n    h_t = tanh(W_hh h_{t-1} + W_hx x_t + b_h)\n\nWe write that line with Gorgonia's ops, unrolled over %d steps, one input node per step.", steps)

	store := graph.NewStore(tensor.Float64, graph.NewRNG(3, "init"))
	// models/rnn creates the weights with PyTorch's names and layout:
	// weight_ih_l0 is W_hx (hidden x input), weight_hh_l0 is W_hh, and PyTorch
	// splits b_h into bias_ih_l0 + bias_hh_l0.
	ref, err := rnn.New(store, "rnn", rnn.Config{Cell: rnn.Tanh, Input: 1, Hidden: hidden})
	if err != nil {
		return err
	}
	head, err := graph.NewLinear(store, "head", hidden, 1, true)
	if err != nil {
		return err
	}
	w := ref.Weights[0][0]

	// The equation, by hand. Rows are batch elements, so W h becomes h W^T.
	handStep := func(b *graph.Builder, h, x *G.Node) *G.Node {
		whh := b.Check(G.Mul(h, b.Check(G.Transpose(b.Param(w.HH)))))
		whx := b.Check(G.Mul(x, b.Check(G.Transpose(b.Param(w.IH)))))
		bias := b.Check(G.Add(b.Param(w.BiasIH), b.Param(w.BiasHH)))
		pre := b.Check(G.BroadcastAdd(b.Check(G.Add(whh, whx)), bias, nil, []byte{0}))
		return b.Check(G.Tanh(pre))
	}

	// Step 1: the hand-written cell and models/rnn agree on the same weights.
	b := graph.NewBuilder(store, graph.Eval)
	xs := make([]*G.Node, steps)
	for t := range xs {
		xs[t] = b.Input(fmt.Sprintf("x%d", t), tensor.Float64, batch, 1)
	}
	h := b.Input("h0", tensor.Float64, batch, hidden)
	var hand []*G.Node
	for t := 0; t < steps; t++ {
		h = handStep(b, h, xs[t])
		hand = append(hand, h)
	}
	outs, _ := ref.Forward(b, xs, rnn.State{H: []*G.Node{b.Input("ref.h0", tensor.Float64, batch, hidden)}}, nil)
	b.Output("hand", hand[steps-1])
	b.Output("ref", outs[steps-1])
	check, err := b.Compile(nil)
	if err != nil {
		return err
	}
	x, _ := delayTask(graph.NewRNG(4, "data"))
	for t := 0; t < steps; t++ {
		if err := check.Set(fmt.Sprintf("x%d", t), column(x, t)); err != nil {
			return err
		}
	}
	if err := check.Run(); err != nil {
		return err
	}
	hv, _ := check.Output("hand")
	rv, _ := check.Output("ref")
	maxDiff := 0.0
	for i, v := range graph.Float64s(hv) {
		maxDiff = math.Max(maxDiff, math.Abs(v-graph.Float64s(rv)[i]))
	}
	nb.Printf("largest difference between h_%d by hand and by models/rnn: %.2g\n", steps, maxDiff)
	if maxDiff > 1e-12 {
		return fmt.Errorf("the hand-built cell disagrees with models/rnn by %g", maxDiff)
	}

	// Step 2: train the hand-built network to output x_{t-delay} at step t.
	nb.Text("Now train it: at each step the network must output the input it saw %d steps earlier, so the state has to carry it. The loss is the mean squared error over the steps t >= %d; the solver is Adam.", delay, delay)
	tb := graph.NewBuilder(store, graph.Train)
	var txs []*G.Node
	for t := 0; t < steps; t++ {
		txs = append(txs, tb.Input(fmt.Sprintf("x%d", t), tensor.Float64, batch, 1))
	}
	th := tb.Input("h0", tensor.Float64, batch, hidden)
	var preds []*G.Node
	for t := 0; t < steps; t++ {
		th = handStep(tb, th, txs[t])
		if t >= delay {
			preds = append(preds, head.Forward(tb, th))
		}
	}
	// (rnn.StackSteps rather than G.Concat: Gorgonia merges the gradients of
	// concatenated slices whose bounds agree modulo 256.)
	pred := rnn.StackSteps(tb, preds)
	target := tb.Input("target", tensor.Float64, batch*(steps-delay), 1)
	loss := tb.Check(losses.MSE(pred, target, losses.Options{}))
	prog, err := tb.Compile(loss)
	if err != nil {
		return err
	}
	cfg := solvers.DefaultAdamConfig()
	cfg.LR = 0.01
	opt, err := solvers.NewAdam(cfg)
	if err != nil {
		return err
	}
	iters := 600
	if short {
		iters = 20
	}
	rng := graph.NewRNG(5, "data")
	var curve [][2]float64
	for it := 1; it <= iters; it++ {
		x, y := delayTask(rng)
		for t := 0; t < steps; t++ {
			if err := prog.Set(fmt.Sprintf("x%d", t), column(x, t)); err != nil {
				return err
			}
		}
		if err := prog.Set("target", targets(y)); err != nil {
			return err
		}
		if err := prog.Run(); err != nil {
			return err
		}
		if err := opt.Step(store.Params()); err != nil {
			return err
		}
		curve = append(curve, [2]float64{float64(it), prog.Loss()})
		if it%100 == 0 || it == iters {
			nb.Printf("iteration %4d  mean squared error %.4f\n", it, prog.Loss())
		}
	}
	if err := nb.Plot("loss", "learning to remember 2 steps", "iteration", "mean squared error", notebook.Curves{"hand-built Elman RNN": curve}, []string{"hand-built Elman RNN"}); err != nil {
		return err
	}
	nb.Text("Guessing 0 scores 1 (the inputs are +-1 with equal chance); the error falls towards 0 as the state learns to hold the last two inputs.")
	return nb.Close()
}

// delayTask draws a batch of +-1 sequences x and targets y_t = x_{t-delay}.
func delayTask(rng interface{ Float64() float64 }) (x, y [][]float64) {
	for i := 0; i < batch; i++ {
		var xs, ys []float64
		for t := 0; t < steps; t++ {
			v := 1.0
			if rng.Float64() < 0.5 {
				v = -1
			}
			xs = append(xs, v)
			if t >= delay {
				ys = append(ys, xs[t-delay])
			}
		}
		x, y = append(x, xs), append(y, ys)
	}
	return x, y
}

// column returns step t of every sequence as a (batch, 1) tensor.
func column(x [][]float64, t int) *tensor.Dense {
	c := make([]float64, batch)
	for i := range x {
		c[i] = x[i][t]
	}
	return tensor.New(tensor.WithShape(batch, 1), tensor.WithBacking(c))
}

// targets lays y out step-major, as the predictions are concatenated.
func targets(y [][]float64) *tensor.Dense {
	var v []float64
	for t := 0; t < steps-delay; t++ {
		for i := range y {
			v = append(v, y[i][t])
		}
	}
	return tensor.New(tensor.WithShape(len(v), 1), tensor.WithBacking(v))
}
