package transformer

import (
	"testing"

	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/models/decode"
	"github.com/triadml/triad/models/internal/modeltest"
	"github.com/triadml/triad/solvers"
)

// BenchmarkTransformerTrainStep times forward and backward of a 2+2-layer
// Transformer of width 64 with 4 heads at the date demo's shape (float32, batch
// 64, sources of 24 tokens, 11 target steps); the solver step is not included.
func BenchmarkTransformerTrainStep(b *testing.B) {
	s := graph.NewStore(tensor.Float32, graph.NewRNG(1, "init"))
	m, err := New(s, Config{SrcVocab: 70, TgtVocab: 15, Dim: 64, Heads: 4, FF: 128, EncoderLayers: 2, DecoderLayers: 2, MaxLen: 40, Tokens: modeltest.Tokens})
	if err != nil {
		b.Fatal(err)
	}
	p, err := m.Build(s, graph.Train, 64, 24, 11, 0)
	if err != nil {
		b.Fatal(err)
	}
	modeltest.BenchRun(b, s, p, 24)
}

// BenchmarkTransformerReferenceStep is one training step (forward, backward, Adam)
// of the reference configuration of `triad bench` and scripts/bench_torch.py:
// d_model 256, 4 heads, feed-forward 1024, 3+3 layers, dropout 0.1, batch 64,
// source and target length 32, vocabularies 8000, float32.
func BenchmarkTransformerReferenceStep(b *testing.B) {
	const batch, length, vocab = 64, 32, 8000
	s := graph.NewStore(tensor.Float32, graph.NewRNG(1, "init"))
	m, err := New(s, Config{SrcVocab: vocab, TgtVocab: vocab, Dim: 256, Heads: 4, FF: 1024,
		EncoderLayers: 3, DecoderLayers: 3, Dropout: 0.1, MaxLen: length, Tokens: modeltest.Tokens})
	if err != nil {
		b.Fatal(err)
	}
	p, err := m.Build(s, graph.Train, batch, length, length, 0)
	if err != nil {
		b.Fatal(err)
	}
	p.SetNoise(graph.NewRNG(2, "noise"))
	rng := graph.NewRNG(3, "data")
	srcs, tgts := make([][]int, batch), make([][]int, batch)
	for i := range srcs {
		srcs[i], tgts[i] = make([]int, length), make([]int, length-1)
		for j := range srcs[i] {
			srcs[i][j] = 4 + rng.IntN(vocab-4)
		}
		for j := range tgts[i] {
			tgts[i][j] = 4 + rng.IntN(vocab-4)
		}
	}
	if _, err := p.Feed(srcs, tgts); err != nil {
		b.Fatal(err)
	}
	opt, err := solvers.NewAdam(solvers.DefaultAdamConfig())
	if err != nil {
		b.Fatal(err)
	}
	step := func() error {
		if err := p.Run(); err != nil {
			return err
		}
		return opt.Step(s.Params())
	}
	if err := step(); err != nil { // first-run allocations
		b.Fatal(err)
	}
	modeltest.TimeSteps(b, step)
}

// BenchmarkGemmShapes times the float32 matrix products of one training step of
// the reference configuration (N = 2048 rows, E = 256, F = 1024, V = 8000), by
// shape and transposition (N: as stored, T: transposed): the floor under the
// step's time.
func BenchmarkGemmShapes(b *testing.B) {
	for _, c := range []struct {
		name    string
		ta, tb  bool
		m, n, k int
	}{
		{"NT_2048x768x256", false, true, 2048, 768, 256},
		{"NN_2048x256x768", false, false, 2048, 256, 768},
		{"TN_768x256x2048", true, false, 768, 256, 2048},
		{"NT_2048x1024x256", false, true, 2048, 1024, 256},
		{"NT_2048x256x1024", false, true, 2048, 256, 1024},
		{"NN_2048x1024x256", false, false, 2048, 1024, 256},
		{"TN_1024x256x2048", true, false, 1024, 256, 2048},
		{"TN_256x1024x2048", true, false, 256, 1024, 2048},
		{"NT_2048x8000x256", false, true, 2048, 8000, 256},
		{"NN_2048x256x8000", false, false, 2048, 256, 8000},
		{"TN_8000x256x2048", true, false, 8000, 256, 2048},
		{"NT_32x32x64_head", false, true, 32, 32, 64},
	} {
		b.Run(c.name, func(b *testing.B) {
			a, bb, cc := make([]float32, c.m*c.k), make([]float32, c.k*c.n), make([]float32, c.m*c.n)
			for i := range a {
				a[i] = float32(i%13) / 13
			}
			for i := range bb {
				bb[i] = float32(i%7) / 7
			}
			lda, ldb := c.k, c.n
			if c.ta {
				lda = c.m
			}
			if c.tb {
				ldb = c.k
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				graph.Gemm(c.ta, c.tb, c.m, c.n, c.k, a, lda, bb, ldb, 0, cc, c.n)
			}
			b.ReportMetric(2*float64(c.m*c.n*c.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// BenchmarkDecode times decoding with and without the key/value cache
// (Decoder.Recompute), greedy (a batch of 32 sources) and with a beam of 5
// (one source at a time), at the date demo's model size (width 64, 2+2
// layers) and at the translation experiment's (width 256, 8 heads, 3+3
// layers, vocabularies of 8000), float32, random weights, sources of 17 to 24
// tokens and 20 decoding steps each (EOS forbidden, so that every sentence
// takes them all). It reports sentences per second.
func BenchmarkDecode(b *testing.B) {
	for _, size := range []struct {
		name string
		cfg  Config
	}{
		{"demo", Config{SrcVocab: 70, TgtVocab: 15, Dim: 64, Heads: 4, FF: 128, EncoderLayers: 2, DecoderLayers: 2, MaxLen: 40}},
		{"translate", Config{SrcVocab: 8000, TgtVocab: 8000, Dim: 256, Heads: 8, FF: 512, EncoderLayers: 3, DecoderLayers: 3, MaxLen: 51}},
	} {
		cfg := size.cfg
		cfg.Tokens = modeltest.Tokens
		s := graph.NewStore(tensor.Float32, graph.NewRNG(1, "init"))
		m, err := New(s, cfg)
		if err != nil {
			b.Fatal(err)
		}
		srcs, _ := modeltest.BenchPairs(32, 24, cfg.SrcVocab)
		opt := decode.Options{BOS: cfg.BOS, EOS: cfg.EOS, MaxLen: 20, Forbid: []int{cfg.EOS}}
		for _, mode := range []struct {
			name string
			beam int
		}{{"greedy", 1}, {"beam5", 5}} {
			for _, recompute := range []bool{true, false} {
				name := size.name + "/" + mode.name + "/cached"
				if recompute {
					name = size.name + "/" + mode.name + "/recompute"
				}
				b.Run(name, func(b *testing.B) {
					d := m.NewDecoder(s)
					d.Recompute = recompute
					defer d.Close()
					o := opt
					o.Beam = mode.beam
					run := func() (int, error) {
						if mode.beam == 1 {
							_, err := decode.Greedy(d, srcs, o)
							return len(srcs), err
						}
						for _, src := range srcs[:4] {
							if _, err := decode.BeamSearch(d, src, o); err != nil {
								return 0, err
							}
						}
						return 4, nil
					}
					modeltest.TimeSentences(b, run)
				})
			}
		}
	}
}
