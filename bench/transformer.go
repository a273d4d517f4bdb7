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

// benchTransformerDecode sets up the decoding of a batch of 32 sentences by the
// translation experiment's Transformer (d_model 256, 8 heads, feed-forward
// 512, 3+3 layers, vocabularies 8000, random float32 weights), source length
// 16, with the key/value cache: greedy (beam 1) or batched beam search. EOS is
// forbidden, so that every hypothesis runs the 20 steps and the work does not
// depend on the weights. A step is the batch; its items are its sentences.
func benchTransformerDecode(beam int) func() (func() error, int, float64, error) {
	return func() (func() error, int, float64, error) {
		const sentences, srcLen, steps, vocab, d, ff, layers = 32, 16, 20, 8000, 256, 512, 3
		s := graph.NewStore(tensor.Float32, graph.NewRNG(1, "init"))
		tokens := decode.Tokens{Pad: 0, BOS: 1, EOS: 2}
		m, err := transformer.New(s, transformer.Config{
			SrcVocab: vocab, TgtVocab: vocab, Dim: d, Heads: 8, FF: ff, EncoderLayers: layers, DecoderLayers: layers,
			MaxLen: steps + 1, Tokens: tokens,
		})
		if err != nil {
			return nil, 0, 0, err
		}
		dec := m.NewDecoder(s)
		srcs := graph.RandomTokens(3, sentences, srcLen, vocab)
		for _, src := range srcs {
			for j, t := range src {
				src[j] = 3 + t%(vocab-3) // no special tokens
			}
		}
		opt := decode.Options{BOS: tokens.BOS, EOS: tokens.EOS, MaxLen: steps, Beam: beam, Forbid: []int{tokens.EOS}}
		step := func() error {
			if beam == 1 {
				_, err := decode.Greedy(dec, srcs, opt)
				return err
			}
			_, err := decode.BeamSearchBatch(dec, srcs, []decode.Options{opt})
			return err
		}
		// multiply-adds a row a step: self-attention 4d^2 and its scores over
		// the prefix, cross-attention 2d^2 and its scores over the source, the
		// feed-forward 2 d ff, then the output layer d V; the encoder once
		rows := float64(sentences * beam)
		enc := float64(sentences*srcLen) * layers * (4*d*d + 2*d*ff + 2*srcLen*d)
		perRow := float64(layers*(6*d*d+2*d*ff+2*(steps/2+srcLen)*d) + d*vocab)
		return step, sentences, 2 * (enc + rows*steps*perRow), nil
	}
}
