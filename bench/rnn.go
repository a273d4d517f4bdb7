package bench

import (
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/models/rnn"
)

// charLMSetup is the Setup of CharLM's fused configuration.
func charLMSetup(cell rnn.Cell, layers, hidden int) func() (func() error, int, float64, error) {
	return func() (func() error, int, float64, error) { return CharLM(cell, layers, hidden, false) }
}

// CharLM sets up a training step (forward, backward, Adam) of a character
// language model: batch 50, window 50, vocabulary 65, embedding = hidden,
// float32; unrolled builds the reference graph of a node per time step instead
// of the fused layers. It returns the step, the tokens a step covers and the
// floating-point operations it does.
func CharLM(cell rnn.Cell, layers, hidden int, unrolled bool) (step func() error, tokens int, flops float64, err error) {
	const batch, steps, vocab = 50, 50, 65
	s := graph.NewStore(tensor.Float32, graph.NewRNG(1, "init"))
	lm, err := rnn.NewLM(s, rnn.LMConfig{Vocab: vocab, Hidden: hidden, Layers: layers, Cell: cell, Unrolled: unrolled})
	if err != nil {
		return nil, 0, 0, err
	}
	p, err := lm.Build(s, graph.Train, batch, steps, false)
	if err != nil {
		return nil, 0, 0, err
	}
	rng := graph.NewRNG(2, "data")
	x, y := make([]int, batch*steps), make([]int, batch*steps)
	for i := range x {
		x[i], y[i] = rng.IntN(vocab), rng.IntN(vocab)
	}
	st := lm.NewState(tensor.Float32, batch)
	gates := map[rnn.Cell]float64{rnn.LSTM: 4, rnn.GRU: 3, rnn.Tanh: 1}[cell]
	// multiply-adds of the forward pass: input and recurrent products of every
	// layer and step, and the output head; backward costs twice the forward
	fwd := float64(batch*steps) * (float64(layers)*gates*float64(hidden)*float64(2*hidden) + float64(hidden*vocab))
	flops = 3 * 2 * fwd
	step, err = adamStep(s, func() error { return p.Feed(x, y) }, func() error { return p.SetState(st) }, p.Run)
	return step, batch * steps, flops, err
}
