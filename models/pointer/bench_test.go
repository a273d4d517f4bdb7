package pointer

import (
	"testing"

	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/solvers"
)

// BenchmarkTrainStep times one training step (forward, backward, Adam) at the
// size of `triad summarize`'s defaults: batch 64, articles of 36 tokens,
// headlines of 9 tokens plus EOS, vocabulary 10,000, embeddings 128, encoder
// 2x128, decoder 256, attention 128.
func BenchmarkTrainStep(b *testing.B) {
	for _, copyMode := range []bool{true, false} {
		name := "plain"
		if copyMode {
			name = "copy"
		}
		b.Run(name, func(b *testing.B) {
			const batch, srcLen, tgtLen, v = 64, 36, 10, 10000
			s := graph.NewStore(tensor.Float32, graph.NewRNG(1, "init"))
			m, err := New(s, Config{Vocab: v, Embed: 128, Hidden: 128, AttnDim: 128, Dropout: 0.3, Copy: copyMode, Tokens: testTokens})
			if err != nil {
				b.Fatal(err)
			}
			p, err := m.Build(s, graph.Train, batch, srcLen, tgtLen)
			if err != nil {
				b.Fatal(err)
			}
			rng := graph.NewRNG(2, "data")
			srcs, tgts := make([][]int, batch), make([][]int, batch)
			for i := range srcs {
				srcs[i] = make([]int, srcLen-rng.IntN(8))
				for j := range srcs[i] {
					srcs[i][j] = 4 + rng.IntN(v+6-4) // a few out-of-vocabulary ids
				}
				tgts[i] = make([]int, tgtLen-1-rng.IntN(3))
				for j := range tgts[i] {
					tgts[i][j] = srcs[i][rng.IntN(len(srcs[i]))]
				}
			}
			opt, err := solvers.NewAdam(solvers.DefaultAdamConfig())
			if err != nil {
				b.Fatal(err)
			}
			p.SetNoise(graph.NewRNG(3, "noise"))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := p.Feed(srcs, tgts); err != nil {
					b.Fatal(err)
				}
				if err := p.Run(); err != nil {
					b.Fatal(err)
				}
				if err := opt.Step(s.Params()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
