package transformer

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/models/decode"
	"github.com/triadml/triad/models/internal/modeltest"
	"github.com/triadml/triad/solvers"
)

// cacheConfigs are the variants the cached decoder is checked on.
var cacheConfigs = []struct {
	name   string
	change func(*Config)
}{
	{"post_sinusoidal", func(*Config) {}},
	{"pre_learned_tied_gelu", func(c *Config) { c.PreLN, c.Positions, c.TieOutput, c.Activation = true, "learned", true, "gelu" }},
}

// trainedModel returns a model of cfg in a store of dtype after a few Adam steps
// on random pairs (a model that prefers some tokens, unlike a fresh one), and
// sources to decode (of unequal lengths).
func trainedModel(t *testing.T, dtype tensor.Dtype, change func(*Config)) (*Model, *graph.Store, [][]int) {
	t.Helper()
	cfg := Config{SrcVocab: 13, TgtVocab: 11, Dim: 16, Heads: 4, FF: 24, EncoderLayers: 2, DecoderLayers: 2,
		MaxLen: 12, Tokens: modeltest.Tokens}
	change(&cfg)
	s := graph.NewStore(dtype, graph.NewRNG(7, "init"))
	m, err := New(s, cfg)
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(3, 4))
	pairs := func(n, lo, hi, vocab int) [][]int {
		out := make([][]int, n)
		for i := range out {
			out[i] = make([]int, lo+rng.IntN(hi-lo+1))
			for j := range out[i] {
				out[i][j] = 3 + rng.IntN(vocab-3)
			}
		}
		return out
	}
	p, err := m.Build(s, graph.Train, 8, 9, 9, 0)
	require.NoError(t, err)
	opt, err := solvers.NewAdam(solvers.DefaultAdamConfig())
	require.NoError(t, err)
	for step := 0; step < 5; step++ {
		srcs := pairs(8, 1, 9, cfg.SrcVocab)
		tgts := make([][]int, len(srcs)) // a learnable task: the source reversed, mod the target vocabulary
		for i, src := range srcs {
			for j := len(src) - 1; j >= 0 && len(tgts[i]) < 8; j-- {
				tgts[i] = append(tgts[i], 3+src[j]%(cfg.TgtVocab-3))
			}
		}
		_, err := p.Feed(srcs, tgts)
		require.NoError(t, err)
		require.NoError(t, p.Run())
		require.NoError(t, opt.Step(s.Params()))
	}
	require.NoError(t, p.Close())
	return m, s, pairs(5, 1, 10, cfg.SrcVocab)
}

// dtypeTol is a dtype and how far, in it, the cached decoder's numbers may
// stray from the recomputing one's.
type dtypeTol struct {
	dtype tensor.Dtype
	tol   float64
}

// runDecoderPairs runs test, for every dtype of tols and every variant of
// cacheConfigs, on a trained model's cached decoder, its recomputing one and the
// sources to decode.
func runDecoderPairs(t *testing.T, tols []dtypeTol, test func(t *testing.T, tol float64, m *Model, cached, ref *Decoder, srcs [][]int)) {
	for _, dc := range tols {
		for _, c := range cacheConfigs {
			t.Run(dc.dtype.String()+"/"+c.name, func(t *testing.T) {
				m, s, srcs := trainedModel(t, dc.dtype, c.change)
				ref := m.NewDecoder(s)
				ref.Recompute = true
				cached := m.NewDecoder(s)
				defer cached.Close()
				defer ref.Close()
				test(t, dc.tol, m, cached, ref, srcs)
			})
		}
	}
}

// The cached steps give the recomputing steps' log-probabilities and attention
// weights, up to rounding, for the same tokens fed; stepping one state twice
// (a fork) and selecting rows give what fresh states would.
func TestCachedStepsMatchRecomputing(t *testing.T) {
	// a few units in the last place of log-probabilities up to 10
	tols := []dtypeTol{{tensor.Float32, 4e-6}, {tensor.Float64, 1e-12}}
	runDecoderPairs(t, tols, func(t *testing.T, tol float64, m *Model, cached, ref *Decoder, srcs [][]int) {
		rng := rand.New(rand.NewPCG(5, 6))
		cs, err := cached.Encode(srcs)
		require.NoError(t, err)
		rs, err := ref.Encode(srcs)
		require.NoError(t, err)
		_, isCached := cs.(*cachedState)
		require.True(t, isCached)
		requireSame := func(a, b decode.StepOutput, what string) {
			t.Helper()
			al, bl := a.Float64(), b.Float64()
			for r := range al {
				require.InDeltaSlice(t, bl[r], al[r], tol, "%s: log-probabilities of row %d", what, r)
				require.InDeltaSlice(t, b.Weights[r], a.Weights[r], tol, "%s: weights of row %d", what, r)
			}
		}
		tokens := func(first bool) []int {
			tok := make([]int, len(srcs))
			for r := range tok {
				tok[r] = modeltest.Tokens.BOS
				if !first {
					tok[r] = 3 + rng.IntN(m.Config.TgtVocab-3)
				}
			}
			return tok
		}
		for step := 0; step < m.Config.MaxLen; step++ {
			tok := tokens(step == 0)
			co, cn, err := cached.Step(cs, tok)
			require.NoError(t, err)
			ro, rn, err := ref.Step(rs, tok)
			require.NoError(t, err)
			requireSame(co, ro, "step")
			if step%3 == 1 { // step the old states again with other tokens: a fork of the caches
				alt := tokens(false)
				co2, cn2, err := cached.Step(cs, alt)
				require.NoError(t, err)
				ro2, rn2, err := ref.Step(rs, alt)
				require.NoError(t, err)
				requireSame(co2, ro2, "fork")
				if step == 4 { // continue from the fork, rows reordered and repeated
					cn, rn = cn2, rn2
					rows := []int{2, 0, 0, 4, 1}
					if cn, err = cn.Select(rows); err != nil {
						require.NoError(t, err)
					}
					rn, err = rn.Select(rows)
					require.NoError(t, err)
				}
			}
			cs, rs = cn, rn
		}
		_, _, err = cached.Step(cs, tokens(false))
		require.ErrorContains(t, err, "exceeds the maximum length")
	})
}

// Greedy decoding and beam search give the same hypotheses with the cache as
// without: the same tokens, log-probabilities and weights up to rounding.
func TestCachedDecodingMatchesRecomputing(t *testing.T) {
	runDecoderPairs(t, []dtypeTol{{tensor.Float32, 1e-4}, {tensor.Float64, 1e-11}}, func(t *testing.T, tol float64, m *Model, cached, ref *Decoder, srcs [][]int) {
		requireSame := func(want, got []decode.Hypothesis) {
			t.Helper()
			require.Equal(t, len(want), len(got))
			for i := range want {
				require.Equal(t, want[i].Tokens, got[i].Tokens, "hypothesis %d", i)
				require.Equal(t, want[i].Finished, got[i].Finished)
				require.InDelta(t, want[i].LogProb, got[i].LogProb, tol)
				require.Equal(t, len(want[i].Weights), len(got[i].Weights))
				for k, w := range want[i].Weights {
					// a batch's sources are padded to a common length: the
					// padding gets no weight
					g := got[i].Weights[k]
					require.GreaterOrEqual(t, len(g), len(w))
					require.InDeltaSlice(t, w, g[:len(w)], tol)
					require.InDeltaSlice(t, make([]float64, len(g)-len(w)), g[len(w):], 0)
				}
			}
		}
		opt := decode.Options{BOS: modeltest.Tokens.BOS, EOS: modeltest.Tokens.EOS, MaxLen: m.Config.MaxLen, Alpha: 0.6}
		want, err := decode.Greedy(ref, srcs, opt)
		require.NoError(t, err)
		got, err := decode.Greedy(cached, srcs, opt)
		require.NoError(t, err)
		requireSame(want, got)
		long := 0
		for _, h := range got {
			long = max(long, len(h.Tokens))
		}
		require.Greater(t, long, 2, "the hypotheses are long enough to exercise the cache")
		for _, beam := range []int{1, 5} {
			opt.Beam = beam
			// all sources together (their rows shrinking as they
			// finish, the caches recycled from step to step), twice
			for range 2 {
				batch, err := decode.BeamSearchBatch(cached, srcs, []decode.Options{opt})
				require.NoError(t, err)
				for i, src := range srcs {
					want, err := decode.BeamSearch(ref, src, opt)
					require.NoError(t, err)
					got, err := decode.BeamSearch(cached, src, opt)
					require.NoError(t, err)
					requireSame(want, got)
					requireSame(want, batch[i])
				}
			}
		}
	})
}
