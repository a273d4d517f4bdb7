package decode_test

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/models/decode"
	"github.com/triadml/triad/models/internal/modeltest"
	"github.com/triadml/triad/models/pointer"
	"github.com/triadml/triad/models/seq2seq"
	"github.com/triadml/triad/models/transformer"
	"github.com/triadml/triad/solvers"
)

// trainProgram is a training program of one of the models.
type trainProgram interface {
	modeltest.Program
	Close() error
}

// train takes a few Adam steps of p on batches of 8 pairs whose target is the
// source reversed, mapped into the target ids 3..6: a model that ends its
// outputs at lengths that depend on the source, unlike a fresh one.
func train(t *testing.T, s *graph.Store, p trainProgram, steps int) {
	t.Helper()
	opt, err := solvers.NewAdam(solvers.AdamConfig{LR: 0.02, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8})
	require.NoError(t, err)
	for step := 0; step < steps; step++ {
		srcs := sources(uint64(100+step), 8, 3, 9)
		tgts := make([][]int, len(srcs))
		for i, src := range srcs {
			for j := len(src) - 1; j >= 0; j-- {
				tgts[i] = append(tgts[i], 3+src[j]%4)
			}
		}
		_, err := p.Feed(srcs, tgts)
		require.NoError(t, err)
		require.NoError(t, p.Run())
		require.NoError(t, opt.Step(s.Params()))
	}
	require.NoError(t, p.Close())
}

// sources returns n sources of 1 to 10 ids drawn from [lo, hi).
func sources(seed uint64, n, lo, hi int) [][]int {
	rng := rand.New(rand.NewPCG(seed, 1))
	out := make([][]int, n)
	for i := range out {
		out[i] = make([]int, 1+rng.IntN(10))
		for j := range out[i] {
			out[i][j] = lo + rng.IntN(hi-lo)
		}
	}
	return out
}

// requireBatchMatches decodes srcs with BeamSearchBatch and each source with
// BeamSearch, under beams of 1, 3 and 5, with and without constraints, and
// requires the same hypotheses: the same tokens, the same log-probabilities,
// scores and attention weights up to tol. A source's weights may be wider in
// the batch (padding of longer sources), by zeros.
func requireBatchMatches(t *testing.T, m decode.StepModel, srcs [][]int, maxLen int, tol float64) {
	t.Helper()
	tok := modeltest.Tokens
	finished, unfinished, lengths := 0, 0, map[int]bool{}
	for _, opt := range []decode.Options{
		{Beam: 1, MaxLen: maxLen},
		{Beam: 3, MaxLen: maxLen, Alpha: 0.6},
		{Beam: 5, MaxLen: maxLen, Alpha: 1, NoRepeatNgram: 2},
		{Beam: 4, MaxLen: maxLen - 2, Forbid: []int{tok.Pad, tok.BOS}},
	} {
		opt.BOS, opt.EOS = tok.BOS, tok.EOS
		got, err := decode.BeamSearchBatch(m, srcs, []decode.Options{opt})
		require.NoError(t, err)
		for i, src := range srcs {
			want, err := decode.BeamSearch(m, src, opt)
			require.NoError(t, err)
			require.Len(t, got[i], len(want), "beam %d, source %d", opt.Beam, i)
			for k, w := range want {
				g := got[i][k]
				require.Equal(t, w.Tokens, g.Tokens, "beam %d, source %d, hypothesis %d", opt.Beam, i, k)
				require.Equal(t, w.Finished, g.Finished)
				require.InDelta(t, w.LogProb, g.LogProb, tol)
				require.InDelta(t, w.Score, g.Score, tol)
				require.Len(t, g.Weights, len(w.Weights))
				for r := range w.Weights {
					require.GreaterOrEqual(t, len(g.Weights[r]), len(w.Weights[r]))
					require.InDeltaSlice(t, w.Weights[r], g.Weights[r][:len(w.Weights[r])], tol)
					for _, x := range g.Weights[r][len(w.Weights[r]):] {
						require.Zero(t, x)
					}
				}
				if w.Finished {
					finished++
				} else {
					unfinished++
				}
				lengths[len(w.Tokens)] = true
			}
		}
	}
	require.Positive(t, finished)
	require.Positive(t, unfinished)
	require.Greater(t, len(lengths), 3, "hypotheses end at different steps")
}

func TestBeamSearchBatchTransformer(t *testing.T) {
	for _, c := range []struct {
		name      string
		dtype     tensor.Dtype
		recompute bool
		tol       float64
	}{{"float64", tensor.Float64, false, 1e-10}, {"float64_recompute", tensor.Float64, true, 1e-10}, {"float32", tensor.Float32, false, 1e-4}} {
		t.Run(c.name, func(t *testing.T) {
			s := graph.NewStore(c.dtype, graph.NewRNG(3, "init"))
			m, err := transformer.New(s, transformer.Config{SrcVocab: 9, TgtVocab: 7, Dim: 16, Heads: 2, FF: 24,
				EncoderLayers: 2, DecoderLayers: 2, MaxLen: 12, Tokens: modeltest.Tokens})
			require.NoError(t, err)
			p, err := m.Build(s, graph.Train, 8, 10, 11, 0)
			require.NoError(t, err)
			train(t, s, p, 30)
			d := m.NewDecoder(s)
			d.Recompute = c.recompute
			defer d.Close()
			requireBatchMatches(t, d, sources(1, 13, 3, 9), 10, c.tol)
		})
	}
}

func TestBeamSearchBatchRecurrent(t *testing.T) {
	for _, cell := range []string{"gru", "lstm"} {
		t.Run(cell, func(t *testing.T) {
			s := modeltest.NewStore()
			cfg := seq2seq.Config{SrcVocab: 9, TgtVocab: 7, Embed: 5, Hidden: 6, Bidirectional: true, Tokens: modeltest.Tokens}
			if cell == "lstm" {
				cfg.Cell, cfg.Attention = "lstm", "general"
			}
			m, err := seq2seq.New(s, cfg)
			require.NoError(t, err)
			p, err := m.Build(s, graph.Train, 8, 10, 11, 0)
			require.NoError(t, err)
			train(t, s, p, 30)
			d := m.NewDecoder(s)
			defer d.Close()
			requireBatchMatches(t, d, sources(2, 11, 3, 9), 9, 1e-10)
		})
	}
}

// The pointer-generator's log-probabilities are as wide as the batch's
// extended vocabulary: a source's own out-of-vocabulary words (ids 9 and up)
// are copied as they are alone.
func TestBeamSearchBatchPointer(t *testing.T) {
	s := modeltest.NewStore()
	tok := modeltest.Tokens
	tok.Unk = 3
	m, err := pointer.New(s, pointer.Config{Vocab: 9, Embed: 5, Hidden: 4, Copy: true, StateFirst: true, Tokens: tok})
	require.NoError(t, err)
	p, err := m.Build(s, graph.Train, 8, 10, 11)
	require.NoError(t, err)
	train(t, s, p, 30)
	d := m.NewDecoder(s)
	defer d.Close()
	srcs := sources(3, 12, 3, 9)
	for i, src := range srcs { // a few out-of-vocabulary words, numbered by source
		for j := 0; j < i%4 && j < len(src); j++ {
			src[len(src)-1-j] = 9 + j
		}
	}
	requireBatchMatches(t, d, srcs, 9, 1e-10)
}
