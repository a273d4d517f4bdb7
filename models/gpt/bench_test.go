package gpt

import (
	"testing"
	"time"

	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/models/internal/modeltest"
	"github.com/triadml/triad/solvers"
)

// BenchmarkBabyGPTTrainStep is one training step (forward, backward, AdamW) of
// nanoGPT's character-level "baby GPT" in float32: vocabulary 65, block 64,
// batch 12, 4 layers, 4 heads, width 128, dropout 0, biases.
func BenchmarkBabyGPTTrainStep(b *testing.B) {
	const batch, block, vocab = 12, 64, 65
	s, m := newModel(b, tensor.Float32, Config{VocabSize: vocab, BlockSize: block, Layers: 4, Heads: 4, Embed: 128, Bias: true})
	p, err := m.Build(s, graph.Train, batch, block)
	if err != nil {
		b.Fatal(err)
	}
	idx, tgt := randomRows(1, batch, block, vocab), randomRows(2, batch, block, vocab)
	if err := p.Feed(idx, tgt); err != nil {
		b.Fatal(err)
	}
	// nanoGPT's shakespeare_char settings
	opt, err := solvers.NewAdamW(solvers.AdamConfig{LR: 1e-3, Beta1: 0.9, Beta2: 0.99, Eps: 1e-8, WeightDecay: 0.1})
	if err != nil {
		b.Fatal(err)
	}
	step := func() {
		if err := p.Run(); err != nil {
			b.Fatal(err)
		}
		if err := opt.Step(s.Params()); err != nil {
			b.Fatal(err)
		}
	}
	step() // first-run allocations
	b.ResetTimer()
	c0 := modeltest.CPUTime()
	for i := 0; i < b.N; i++ {
		step()
	}
	b.ReportMetric(float64(modeltest.CPUTime()-c0)/float64(b.N)/1e6, "cpu-ms/op")
}

// BenchmarkGPT2SmallGenerate generates 128 tokens greedily after a prompt of 16
// with GPT-2 small's shape (12 layers, 12 heads, width 768, vocabulary 50257,
// block 1024) on random float32 weights, batch 1, and reports tokens per
// second (the prompt's pass included).
func BenchmarkGPT2SmallGenerate(b *testing.B) {
	s, m := newModel(b, tensor.Float32, GPT2Small())
	g := m.NewGenerator(s)
	defer g.Close()
	prompt := randomRows(3, 1, 16, m.Config.VocabSize)
	opt := Options{MaxNewTokens: 128}
	if _, err := g.Generate(prompt, Options{MaxNewTokens: 2}); err != nil { // compile both programs
		b.Fatal(err)
	}
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		gens, err := g.Generate(prompt, opt)
		if err != nil {
			b.Fatal(err)
		}
		if len(gens[0].Tokens) != 128 {
			b.Fatalf("%d tokens", len(gens[0].Tokens))
		}
	}
	b.ReportMetric(float64(128*b.N)/time.Since(start).Seconds(), "tokens/s")
}
