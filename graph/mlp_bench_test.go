package graph_test

import (
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/losses"
	"github.com/triadml/triad/solvers"
)

// BenchmarkMLPStep is one training step of Linear(784,256)-ReLU-Linear(256,10)
// with softmax cross-entropy and Adam, batch 64, float32: feeding the batch,
// forward, backward and the solver step.
func BenchmarkMLPStep(b *testing.B) {
	const batch = 64
	s := graph.NewStore(tensor.Float32, graph.NewRNG(1, "init"))
	fc1, err := graph.NewLinear(s, "fc1", 784, 256, true)
	if err != nil {
		b.Fatal(err)
	}
	fc2, err := graph.NewLinear(s, "fc2", 256, 10, true)
	if err != nil {
		b.Fatal(err)
	}
	bd := graph.NewBuilder(s, graph.Train)
	x := bd.Input("x", tensor.Float32, batch, 784)
	y := bd.Input("y", tensor.Int, batch)
	logits := fc2.Forward(bd, bd.Check(G.Rectify(fc1.Forward(bd, x))))
	loss := bd.Check(losses.CrossEntropy(logits, y, losses.CEOptions{}))
	p, err := bd.Compile(loss)
	if err != nil {
		b.Fatal(err)
	}
	opt, err := solvers.NewAdam(solvers.DefaultAdamConfig())
	if err != nil {
		b.Fatal(err)
	}
	rng := graph.NewRNG(2, "data")
	xs := make([]float32, batch*784)
	for i := range xs {
		xs[i] = rng.Float32()
	}
	ys := make([]int, batch)
	for i := range ys {
		ys[i] = rng.IntN(10)
	}
	xt := tensor.New(tensor.WithShape(batch, 784), tensor.WithBacking(xs))
	yt := tensor.New(tensor.WithShape(batch), tensor.WithBacking(ys))
	step := func() {
		if err := p.Set("x", xt); err != nil {
			b.Fatal(err)
		}
		if err := p.Set("y", yt); err != nil {
			b.Fatal(err)
		}
		if err := p.Run(); err != nil {
			b.Fatal(err)
		}
		if err := opt.Step(s.Params()); err != nil {
			b.Fatal(err)
		}
	}
	step()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		step()
	}
}
