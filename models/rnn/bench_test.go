package rnn

import (
	"os"
	"testing"

	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/solvers"
)

// BenchmarkCharLSTMStep is one training step (forward, backward, Adam) of the
// character LSTM 2x128, batch 50, window 50, vocabulary 65, float32.
func BenchmarkCharLSTMStep(b *testing.B) { benchLM(b, LSTM, 2, 128) }

// BenchmarkCharLSTM512Step is the LSTM 2x512 counterpart.
func BenchmarkCharLSTM512Step(b *testing.B) { benchLM(b, LSTM, 2, 512) }

// BenchmarkCharGRUStep is the GRU 2x128 counterpart.
func BenchmarkCharGRUStep(b *testing.B) { benchLM(b, GRU, 2, 128) }

// BenchmarkCharRNNStep is the Elman RNN 1x128 counterpart.
func BenchmarkCharRNNStep(b *testing.B) { benchLM(b, Tanh, 1, 128) }

// benchLM times the language model's training step; TRIAD_BENCH_UNROLLED=1 times
// the unrolled reference graph instead of the fused one.
func benchLM(b *testing.B, cell Cell, layers, hidden int) {
	const batch, steps, vocab = 50, 50, 65
	s := graph.NewStore(tensor.Float32, graph.NewRNG(1, "init"))
	lm, err := NewLM(s, LMConfig{Vocab: vocab, Hidden: hidden, Layers: layers, Cell: cell,
		Unrolled: os.Getenv("TRIAD_BENCH_UNROLLED") == "1"})
	if err != nil {
		b.Fatal(err)
	}
	p, err := lm.Build(s, graph.Train, batch, steps, false)
	if err != nil {
		b.Fatal(err)
	}
	rng := graph.NewRNG(2, "data")
	x, y := make([]int, batch*steps), make([]int, batch*steps)
	for i := range x {
		x[i], y[i] = rng.IntN(vocab), rng.IntN(vocab)
	}
	st := lm.NewState(tensor.Float32, batch)
	opt, err := solvers.NewAdam(solvers.DefaultAdamConfig())
	if err != nil {
		b.Fatal(err)
	}
	step := func() {
		if err := p.Feed(x, y); err != nil {
			b.Fatal(err)
		}
		if err := p.SetState(st); err != nil {
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
	cpu := cpuSeconds()
	for i := 0; i < b.N; i++ {
		step()
	}
	b.ReportMetric(float64(batch*steps)*float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
	if c := cpuSeconds(); c > 0 {
		// CPU time (all threads) per step: steadier than wall time on a busy machine
		b.ReportMetric((c-cpu)/float64(b.N), "cpu-s/op")
	}
}
