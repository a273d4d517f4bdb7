package attention

import (
	"fmt"
	"syscall"
	"testing"
	"time"

	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
)

// benchPairs returns batch random pairs of the shape of the date demo: sources of
// 8 to srcLen characters, targets of 10.
func benchPairs(batch, srcLen, vocab int) ([][]int, [][]int) {
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

// cpuTime returns the process's user+system CPU time: on a shared machine it
// measures the work better than the wall clock.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

type trainable interface {
	Feed(srcs, tgts [][]int) (int, error)
	Run() error
}

func benchProgram(b *testing.B, s *graph.Store, p trainable, srcLen int) {
	srcs, tgts := benchPairs(64, srcLen, 70)
	if _, err := p.Feed(srcs, tgts); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	c0 := cpuTime()
	for i := 0; i < b.N; i++ {
		if err := p.Run(); err != nil {
			b.Fatal(err)
		}
		s.ZeroGrads()
	}
	b.ReportMetric(float64(cpuTime()-c0)/float64(b.N)/1e6, "cpu-ms/op")
}

// BenchmarkSeq2SeqTrainStep times forward and backward of the date demo's GRU
// encoder-decoder with Bahdanau attention (float32, batch 64, 11 target steps) by
// encoder width and source length; the solver step is not included.
func BenchmarkSeq2SeqTrainStep(b *testing.B) {
	for _, c := range []struct{ hidden, attn, srcLen int }{{32, 32, 16}, {32, 32, 40}, {48, 48, 40}} {
		b.Run(fmt.Sprintf("hidden%d_attn%d_src%d", c.hidden, c.attn, c.srcLen), func(b *testing.B) {
			s := graph.NewStore(tensor.Float32, graph.NewRNG(1, "init"))
			m, err := NewSeq2Seq(s, Seq2SeqConfig{SrcVocab: 70, TgtVocab: 15, Embed: 32, Hidden: c.hidden, AttnDim: c.attn, Bidirectional: true, Tokens: testTokens})
			if err != nil {
				b.Fatal(err)
			}
			p, err := m.Build(s, graph.Train, 64, c.srcLen, 11, 0)
			if err != nil {
				b.Fatal(err)
			}
			benchProgram(b, s, p, c.srcLen)
		})
	}
}

// BenchmarkTransformerTrainStep times the same for a 2+2-layer Transformer of
// width 64 with 4 heads.
func BenchmarkTransformerTrainStep(b *testing.B) {
	s := graph.NewStore(tensor.Float32, graph.NewRNG(1, "init"))
	m, err := NewTransformer(s, TransformerConfig{SrcVocab: 70, TgtVocab: 15, Dim: 64, Heads: 4, FF: 128, EncoderLayers: 2, DecoderLayers: 2, MaxLen: 40, Tokens: testTokens})
	if err != nil {
		b.Fatal(err)
	}
	p, err := m.Build(s, graph.Train, 64, 24, 11, 0)
	if err != nil {
		b.Fatal(err)
	}
	benchProgram(b, s, p, 24)
}
