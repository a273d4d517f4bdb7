package vae

import (
	"testing"

	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/models/internal/modeltest"
	"github.com/triadml/triad/solvers"
)

// benchModel returns the default network, float32, in a store seeded as in
// every benchmark.
func benchModel(b *testing.B) (*VAE, *graph.Store) {
	s := graph.NewStore(tensor.Float32, graph.NewRNG(1, "init"))
	m, err := New(s, DefaultConfig())
	if err != nil {
		b.Fatal(err)
	}
	return m, s
}

// BenchmarkMNISTStep is one training step (forward, backward, Adam) of the
// default 784-400-20 Bernoulli VAE on a batch of 128, float32: the step of
// PyTorch's examples/vae.
func BenchmarkMNISTStep(b *testing.B) {
	const batch = 128
	m, s := benchModel(b)
	p, err := m.BuildELBO(s, graph.Train, batch, nil)
	if err != nil {
		b.Fatal(err)
	}
	rng := graph.NewRNG(2, "data")
	x := graph.Slice[float32](p.X())
	for i := range x {
		x[i] = float32(rng.Float64())
	}
	opt, err := solvers.NewAdam(solvers.DefaultAdamConfig())
	if err != nil {
		b.Fatal(err)
	}
	noise := graph.NewRNG(3, "noise")
	modeltest.TimeSteps(b, func() error {
		if err := p.Feed(nil, 1); err != nil {
			return err
		}
		p.SetNoise(noise)
		if err := p.Run(); err != nil {
			return err
		}
		return opt.Step(s.Params())
	})
}

// BenchmarkIWAE100 computes the log-weights of 100 samples for each of 100
// examples (10,000 decoder rows) with the default network.
func BenchmarkIWAE100(b *testing.B) {
	m, s := benchModel(b)
	data := make([]float32, 100*784)
	rng := graph.NewRNG(2, "data")
	for i := range data {
		data[i] = float32(rng.Float64())
	}
	b.ResetTimer()
	for range b.N {
		if _, err := m.ImportanceWeighted(s, data, 100, graph.NewRNG(3, "iwae"), IWAEOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
