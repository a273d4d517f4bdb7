package bench

import (
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/models/vae"
)

// benchVAE sets up a step of PyTorch's examples/vae: 784-400-20, ReLU,
// Bernoulli decoder, batch 128, float32, Adam.
func benchVAE() (func() error, int, float64, error) {
	const batch = 128
	s := graph.NewStore(tensor.Float32, graph.NewRNG(1, "init"))
	m, err := vae.New(s, vae.DefaultConfig())
	if err != nil {
		return nil, 0, 0, err
	}
	p, err := m.BuildELBO(s, graph.Train, batch, nil)
	if err != nil {
		return nil, 0, 0, err
	}
	p.SetNoise(graph.NewRNG(2, "noise"))
	x := p.X()
	rng := graph.NewRNG(3, "data")
	for i, xs := 0, graph.Slice[float32](x); i < len(xs); i++ {
		xs[i] = rng.Float32()
	}
	// multiply-adds forward: 784*400 + 2*400*20 + 20*400 + 400*784 per image;
	// backward twice that, less the first layer's input gradient
	fwd := float64(batch) * (784*400 + 2*400*20 + 20*400 + 400*784)
	flops := 2 * (3*fwd - float64(batch)*784*400)
	step, err := adamStep(s, func() error { return p.Feed(x, 1) }, p.Run)
	return step, batch, flops, err
}
