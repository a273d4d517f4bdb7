package rnn_test

import (
	"os"
	"testing"

	"github.com/triadml/triad/bench"
	"github.com/triadml/triad/models/internal/modeltest"
	"github.com/triadml/triad/models/rnn"
)

// BenchmarkCharLSTMStep is one training step (forward, backward, Adam) of the
// character LSTM 2x128, batch 50, window 50, vocabulary 65, float32.
func BenchmarkCharLSTMStep(b *testing.B) { benchLM(b, rnn.LSTM, 2, 128) }

// BenchmarkCharLSTM512Step is the LSTM 2x512 counterpart.
func BenchmarkCharLSTM512Step(b *testing.B) { benchLM(b, rnn.LSTM, 2, 512) }

// BenchmarkCharGRUStep is the GRU 2x128 counterpart.
func BenchmarkCharGRUStep(b *testing.B) { benchLM(b, rnn.GRU, 2, 128) }

// BenchmarkCharRNNStep is the Elman RNN 1x128 counterpart.
func BenchmarkCharRNNStep(b *testing.B) { benchLM(b, rnn.Tanh, 1, 128) }

// benchLM times the language model's training step (bench.CharLM);
// TRIAD_BENCH_UNROLLED=1 times the unrolled reference graph instead of the fused
// one.
func benchLM(b *testing.B, cell rnn.Cell, layers, hidden int) {
	step, tokens, _, err := bench.CharLM(cell, layers, hidden, os.Getenv("TRIAD_BENCH_UNROLLED") == "1")
	if err != nil {
		b.Fatal(err)
	}
	if err := step(); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu := modeltest.CPUTime()
	for i := 0; i < b.N; i++ {
		if err := step(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(tokens)*float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
	if c := modeltest.CPUTime(); c > 0 {
		// CPU time (all threads) per step: steadier than wall time on a busy machine
		b.ReportMetric((c-cpu).Seconds()/float64(b.N), "cpu-s/op")
	}
}
