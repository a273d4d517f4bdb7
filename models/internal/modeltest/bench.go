package modeltest

import (
	"testing"

	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
)

// BenchPairs returns batch random pairs of the shape of the date demo: sources
// of srcLen-7 to srcLen ids in [4, vocab), targets of 10 ids in [4, 15).
func BenchPairs(batch, srcLen, vocab int) ([][]int, [][]int) {
	rng := graph.NewRNG(1, "bench")
	srcs, tgts := make([][]int, batch), make([][]int, batch)
	for i := range srcs {
		n := srcLen - rng.IntN(8)
		for j := 0; j < n; j++ {
			srcs[i] = append(srcs[i], 4+rng.IntN(vocab-4))
		}
		for j := 0; j < 10; j++ {
			tgts[i] = append(tgts[i], 4+rng.IntN(11))
		}
	}
	return srcs, tgts
}

// Program is a compiled teacher-forced program of a sequence-to-sequence model.
type Program interface {
	Feed(srcs, tgts [][]int) (int, error)
	Run() error
	Output(name string) (*tensor.Dense, error)
}

// BenchRun times p's forward and backward pass on 64 BenchPairs of srcLen
// over a vocabulary of 70, and reports the CPU milliseconds per run.
func BenchRun(b *testing.B, s *graph.Store, p Program, srcLen int) {
	srcs, tgts := BenchPairs(64, srcLen, 70)
	if _, err := p.Feed(srcs, tgts); err != nil {
		b.Fatal(err)
	}
	TimeSteps(b, func() error {
		err := p.Run()
		s.ZeroGrads()
		return err
	})
}

// TimeSteps resets b's timer, runs step b.N times and reports the CPU
// milliseconds per step (see CPUTime).
func TimeSteps(b *testing.B, step func() error) {
	b.ResetTimer()
	c0 := CPUTime()
	for i := 0; i < b.N; i++ {
		if err := step(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(CPUTime()-c0)/float64(b.N)/1e6, "cpu-ms/op")
}

// TimeSentences runs decode once (it compiles the programs), then resets b's
// timer, runs it b.N times and reports the sentences per second; decode returns
// how many sentences it decoded.
func TimeSentences(b *testing.B, decode func() (int, error)) {
	if _, err := decode(); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	sentences := 0
	for i := 0; i < b.N; i++ {
		n, err := decode()
		if err != nil {
			b.Fatal(err)
		}
		sentences += n
	}
	b.ReportMetric(float64(sentences)/b.Elapsed().Seconds(), "sentences/s")
}
