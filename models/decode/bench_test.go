package decode_test

import (
	"testing"

	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/models/decode"
	"github.com/triadml/triad/models/internal/modeltest"
	"github.com/triadml/triad/models/transformer"
)

// BenchmarkBeamSearchBatch times beam search with a beam of 5 at the
// translation experiment's Transformer size (width 256, 8 heads, 3+3 layers,
// vocabularies of 8000, float32, random weights, the key/value cache), sources
// of 17 to 24 tokens and 20 decoding steps each (EOS forbidden): one source at
// a time (BeamSearch) and in batches of 8 and 32 (BeamSearchBatch). It reports
// sentences per second.
func BenchmarkBeamSearchBatch(b *testing.B) {
	cfg := transformer.Config{SrcVocab: 8000, TgtVocab: 8000, Dim: 256, Heads: 8, FF: 512, EncoderLayers: 3,
		DecoderLayers: 3, MaxLen: 51, Tokens: modeltest.Tokens}
	s := graph.NewStore(tensor.Float32, graph.NewRNG(1, "init"))
	m, err := transformer.New(s, cfg)
	if err != nil {
		b.Fatal(err)
	}
	srcs, _ := modeltest.BenchPairs(32, 24, cfg.SrcVocab)
	opt := decode.Options{BOS: cfg.BOS, EOS: cfg.EOS, MaxLen: 20, Forbid: []int{cfg.EOS}, Beam: 5, Alpha: 0.6}
	for _, c := range []struct {
		name  string
		batch int // 0: one source at a time
	}{{"one_by_one", 0}, {"batch8", 8}, {"batch32", 32}} {
		b.Run(c.name, func(b *testing.B) {
			d := m.NewDecoder(s)
			defer d.Close()
			run := func() (int, error) {
				if c.batch == 0 {
					for _, src := range srcs[:4] {
						if _, err := decode.BeamSearch(d, src, opt); err != nil {
							return 0, err
						}
					}
					return 4, nil
				}
				for lo := 0; lo < len(srcs); lo += c.batch {
					if _, err := decode.BeamSearchBatch(d, srcs[lo:lo+c.batch], []decode.Options{opt}); err != nil {
						return 0, err
					}
				}
				return len(srcs), nil
			}
			modeltest.TimeSentences(b, run)
		})
	}
}
