package bench

import (
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/models/decode"
	"github.com/triadml/triad/models/transformer"
)

// benchTransformer sets up a step of an encoder-decoder Transformer as PyTorch's
// nn.Transformer: d_model 256, 4 heads, feed-forward 1024, 3+3 layers, dropout
// 0.1, batch 64, source and target length 32, vocabularies 8000, float32, Adam.
func benchTransformer() (func() error, int, float64, error) {
	const batch, length, vocab, d, ff, layers = 64, 32, 8000, 256, 1024, 3
	s := graph.NewStore(tensor.Float32, graph.NewRNG(1, "init"))
	m, err := transformer.New(s, transformer.Config{
		SrcVocab: vocab, TgtVocab: vocab, Dim: d, Heads: 4, FF: ff, EncoderLayers: layers, DecoderLayers: layers,
		Dropout: 0.1, MaxLen: length, Tokens: decode.Tokens{Pad: 0, BOS: 1, EOS: 2},
	})
	if err != nil {
		return nil, 0, 0, err
	}
	p, err := m.Build(s, graph.Train, batch, length, length, 0)
	if err != nil {
		return nil, 0, 0, err
	}
	p.SetNoise(graph.NewRNG(2, "noise"))
	rng := graph.NewRNG(3, "data")
	srcs, tgts := make([][]int, batch), make([][]int, batch)
	for i := range srcs {
		srcs[i], tgts[i] = make([]int, length), make([]int, length-1) // + BOS / EOS
		for j := range srcs[i] {
			srcs[i][j] = 3 + rng.IntN(vocab-3)
		}
		for j := range tgts[i] {
			tgts[i][j] = 3 + rng.IntN(vocab-3)
		}
	}
	// multiply-adds forward per token: encoder layers 4d^2 (attention
	// projections) + 2 d ff, decoder layers 8d^2 + 2 d ff, attention scores and
	// contexts 2 L d per attention, and the generator d V; backward twice that
	tok := float64(batch * length)
	fwd := tok*(layers*(4*d*d+2*d*ff+2*length*d)+layers*(8*d*d+2*d*ff+4*length*d)) + tok*d*vocab
	flops := 3 * 2 * fwd
	feed := func() error {
		_, err := p.Feed(srcs, tgts)
		return err
	}
	step, err := adamStep(s, feed, p.Run)
	return step, batch * length, flops, err
}
