package bench

import (
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/models/gpt"
	"github.com/triadml/triad/solvers"
)

// gptTrainSetup sets up a training step of a character-level GPT in the manner
// of nanoGPT's shakespeare_char runs: vocabulary 65, no biases, float32, AdamW
// (lr 1e-3, beta2 0.99, weight decay 0.1), batch windows of block tokens.
// nanoGPT's CPU "baby GPT" is batch 12, block 64, 4 layers of 4 heads, width
// 128, dropout 0.
func gptTrainSetup(batch, block, layers, heads, width int, dropout float64) func() (func() error, int, float64, error) {
	return func() (func() error, int, float64, error) {
		const vocab = 65
		s := graph.NewStore(tensor.Float32, graph.NewRNG(1, "init"))
		m, err := gpt.New(s, gpt.Config{VocabSize: vocab, BlockSize: block, Layers: layers, Heads: heads, Embed: width, Dropout: dropout})
		if err != nil {
			return nil, 0, 0, err
		}
		p, err := m.Build(s, graph.Train, batch, block)
		if err != nil {
			return nil, 0, 0, err
		}
		p.SetNoise(graph.NewRNG(2, "noise"))
		if err := p.Feed(graph.RandomTokens(1, batch, block, vocab), graph.RandomTokens(2, batch, block, vocab)); err != nil {
			return nil, 0, 0, err
		}
		opt, err := solvers.NewAdamW(solvers.AdamConfig{LR: 1e-3, Beta1: 0.9, Beta2: 0.99, Eps: 1e-8, WeightDecay: 0.1})
		if err != nil {
			return nil, 0, 0, err
		}
		// multiply-adds of the forward pass a token: 12 E^2 a layer (QKV, output
		// projection, MLP), 2 T E a layer for the attention scores and sums, and
		// the output layer; backward twice the forward
		tokens := float64(batch * block)
		fwd := tokens * float64(layers*(12*width*width+2*block*width)+vocab*width)
		return trainStep(s, opt, p.Run), batch * block, 3 * 2 * fwd, nil
	}
}

// benchGPT2Generate sets up GPT-2 small's generation (12 layers, 12 heads,
// width 768, vocabulary 50257, random float32 weights): a prompt of 16 tokens
// and 128 new ones, greedy, batch 1, with the key/value cache. A step is the
// whole generation; its items are the 128 new tokens.
func benchGPT2Generate() (func() error, int, float64, error) {
	const prompt, newTokens = 16, 128
	s := graph.NewStore(tensor.Float32, graph.NewRNG(1, "init"))
	cfg := gpt.GPT2Small()
	m, err := gpt.New(s, cfg)
	if err != nil {
		return nil, 0, 0, err
	}
	g := m.NewGenerator(s)
	ids := graph.RandomTokens(3, 1, prompt, cfg.VocabSize)
	// 2 multiply-adds a parameter a token (the embeddings count once, as the
	// output layer), the attention over the cache aside
	params := float64(12*cfg.Layers*cfg.Embed*cfg.Embed + cfg.VocabSize*cfg.Embed)
	step := func() error {
		_, err := g.Generate(ids, gpt.Options{MaxNewTokens: newTokens})
		return err
	}
	return step, newTokens, 2 * params * (prompt + newTokens), nil
}
