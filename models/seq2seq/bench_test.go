package seq2seq

import (
	"fmt"
	"testing"

	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/models/internal/modeltest"
)

// BenchmarkTrainStep times forward and backward of the date demo's GRU
// encoder-decoder with Bahdanau attention (float32, batch 64, 11 target steps) by
// encoder width and source length; the solver step is not included.
func BenchmarkTrainStep(b *testing.B) {
	for _, c := range []struct{ hidden, attn, srcLen int }{{32, 32, 16}, {32, 32, 40}, {48, 48, 40}} {
		b.Run(fmt.Sprintf("hidden%d_attn%d_src%d", c.hidden, c.attn, c.srcLen), func(b *testing.B) {
			s := graph.NewStore(tensor.Float32, graph.NewRNG(1, "init"))
			m, err := New(s, Config{SrcVocab: 70, TgtVocab: 15, Embed: 32, Hidden: c.hidden, AttnDim: c.attn, Bidirectional: true, Tokens: modeltest.Tokens})
			if err != nil {
				b.Fatal(err)
			}
			p, err := m.Build(s, graph.Train, 64, c.srcLen, 11, 0)
			if err != nil {
				b.Fatal(err)
			}
			modeltest.BenchRun(b, s, p, c.srcLen)
		})
	}
}
