package gpt

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/models/decode"
)

// genConfig is a small model with a block long enough for a few steps.
var genConfig = Config{VocabSize: 13, BlockSize: 12, Layers: 2, Heads: 2, Embed: 8, Bias: true}

// fullLogits recomputes the model over seq (one row, unpadded) with an
// evaluation program and returns the logits of the token after it.
func fullLogits(t *testing.T, s *graph.Store, m *Model, seq []int) []float64 {
	t.Helper()
	p, err := m.Build(s, graph.Eval, 1, len(seq))
	require.NoError(t, err)
	defer p.Close()
	require.NoError(t, p.Feed([][]int{seq}, nil))
	require.NoError(t, p.Run())
	out, err := p.Output("logits")
	require.NoError(t, err)
	v := graph.Float64s(out)
	return v[(len(seq)-1)*m.Config.VocabSize:]
}

// TestCachedGenerationEqualsRecomputation generates from a batch of prompts of
// unequal lengths (left-padded) with the cache and checks every step's logits
// against a full recomputation of each row alone, unpadded: tokens bitwise
// equal, logits equal to rounding (1e-12 in float64, 1e-5 in float32).
func TestCachedGenerationEqualsRecomputation(t *testing.T) {
	for _, c := range []struct {
		dtype tensor.Dtype
		tol   float64
		temp  float64
	}{{tensor.Float64, 1e-12, 0}, {tensor.Float64, 1e-12, 1}, {tensor.Float32, 1e-5, 0}} {
		t.Run(fmt.Sprintf("%v/temperature_%g", c.dtype, c.temp), func(t *testing.T) {
			s, m := newModel(t, c.dtype, genConfig)
			scaleUp(s)
			prompts := [][]int{{3, 1, 4, 1, 5}, {9, 2}, {6, 5, 3}}
			g := m.NewGenerator(s)
			defer g.Close()
			seqs := make([][]int, len(prompts))
			for r, p := range prompts {
				seqs[r] = append([]int(nil), p...)
			}
			steps := 0
			opt := Options{MaxNewTokens: 7, Temperature: c.temp, Seed: 4, Stream: func(row, tok int) {
				want := fullLogits(t, s, m, seqs[row])
				got := g.logits[row]
				for i := range want {
					require.InDelta(t, want[i], got[i], c.tol*math.Max(1, math.Abs(want[i])), "row %d, position %d, logit %d", row, len(seqs[row]), i)
				}
				if c.temp == 0 {
					require.Equal(t, decode.Argmax(want), tok)
				}
				seqs[row] = append(seqs[row], tok)
				steps++
			}}
			gens, err := g.Generate(prompts, opt)
			require.NoError(t, err)
			require.Equal(t, 3*7, steps)
			for r, gen := range gens {
				require.Equal(t, StopLength, gen.Reason)
				require.Equal(t, seqs[r][len(prompts[r]):], gen.Tokens)
				// each row alone gives the same tokens: padding changes nothing
				if c.temp == 0 {
					alone, err := g.Generate(prompts[r:r+1], opt2(opt))
					require.NoError(t, err)
					require.Equal(t, gen.Tokens, alone[0].Tokens, "row %d", r)
				}
			}
			again, err := g.Generate(prompts, opt2(opt))
			require.NoError(t, err)
			require.Equal(t, gens, again, "same seed, same tokens")
		})
	}
}

// opt2 is opt without its stream.
func opt2(o Options) Options { o.Stream = nil; return o }

// scaleUp spreads the embeddings so that a small random model's next-token
// distributions are far from uniform.
func scaleUp(s *graph.Store) {
	for _, p := range s.Params() {
		if strings.HasSuffix(p.Name, "wte.weight") || strings.HasSuffix(p.Name, "wpe.weight") {
			v := graph.Float64s(p.Value)
			for i := range v {
				v[i] *= 50
			}
			_ = graph.SetFloat64s(p.Value, v)
		}
	}
}

func TestGenerateStops(t *testing.T) {
	s, m := newModel(t, tensor.Float64, genConfig)
	scaleUp(s)
	g := m.NewGenerator(s)
	prompts := [][]int{{1, 2, 3}, {4, 5, 6}}
	base, err := g.Generate(prompts, Options{MaxNewTokens: 8})
	require.NoError(t, err)
	// the block: 12 positions, 3 taken by the prompts: 9 tokens at most
	full, err := g.Generate(prompts, Options{MaxNewTokens: 100})
	require.NoError(t, err)
	unlimited, err := g.Generate(prompts, Options{})
	require.NoError(t, err)
	require.Equal(t, full, unlimited)
	for r := range full {
		require.Equal(t, StopBlock, full[r].Reason)
		require.Len(t, full[r].Tokens, 10) // the last one needs no position
		require.Equal(t, base[r].Tokens, full[r].Tokens[:8])
	}
	// an end token: row 0 stops at the first occurrence of its 3rd token
	end := base[0].Tokens[2]
	gens, err := g.Generate(prompts, Options{MaxNewTokens: 8, EndTokens: []int{end}})
	require.NoError(t, err)
	require.Equal(t, StopEndToken, gens[0].Reason)
	first := 0
	for base[0].Tokens[first] != end {
		first++
	}
	require.Equal(t, base[0].Tokens[:first], gens[0].Tokens)
	// a stop string over the decoded text of row 1's 2nd and 3rd tokens
	decode := func(toks []int) string {
		var b strings.Builder
		for _, tok := range toks {
			fmt.Fprintf(&b, "<%d>", tok)
		}
		return b.String()
	}
	stop := decode(base[1].Tokens[1:3])
	var streamed [][2]int
	gens, err = g.Generate(prompts, Options{MaxNewTokens: 8, StopStrings: []string{stop}, Decode: decode,
		Stream: func(row, tok int) { streamed = append(streamed, [2]int{row, tok}) }})
	require.NoError(t, err)
	require.Equal(t, StopString, gens[1].Reason)
	require.True(t, strings.Contains(decode(gens[1].Tokens), stop))
	require.False(t, strings.Contains(decode(gens[1].Tokens[:len(gens[1].Tokens)-1]), stop))
	// streamed as generated: at each step, row 0 then row 1, while they run
	var want [][2]int
	for k := 0; k < 8; k++ {
		for r, gen := range gens {
			if k < len(gen.Tokens) {
				want = append(want, [2]int{r, gen.Tokens[k]})
			}
		}
	}
	require.Equal(t, want, streamed)

	_, err = g.Generate(prompts, Options{MaxNewTokens: 2, StopStrings: []string{"x"}})
	require.ErrorContains(t, err, "Decode")
	_, err = g.Generate([][]int{make([]int, 13)}, Options{MaxNewTokens: 2})
	require.ErrorContains(t, err, "exceeds the block")
	_, err = g.Generate([][]int{{99}}, Options{MaxNewTokens: 2})
	require.ErrorContains(t, err, "outside [0, 13)")
	require.NoError(t, g.Close())
}

// Top-k 1 is greedy; top-k and top-p sample only from their candidates, in
// proportion to their probabilities.
func TestSampler(t *testing.T) {
	logits := []float64{math.Log(0.05), math.Log(0.5), math.Log(0.15), math.Log(0.3)}
	rng := graph.NewRNG(1, "test")
	count := func(o Options, n int) []float64 {
		smp := newSampler(o)
		counts := make([]int, len(logits))
		for range n {
			counts[smp.pick(logits, rng)]++
		}
		freq := make([]float64, len(logits))
		for i, c := range counts {
			freq[i] = float64(c) / float64(n)
		}
		return freq
	}
	require.Equal(t, []float64{0, 1, 0, 0}, count(Options{Temperature: 1, TopK: 1}, 100))
	require.Equal(t, []float64{0, 1, 0, 0}, count(Options{}, 10))
	const n = 200000
	require.InDeltaSlice(t, []float64{0.05, 0.5, 0.15, 0.3}, count(Options{Temperature: 1}, n), 0.005)
	require.InDeltaSlice(t, []float64{0, 0.5 / 0.8, 0, 0.3 / 0.8}, count(Options{Temperature: 1, TopK: 2}, n), 0.005)
	// top-p 0.7: 0.5 then 0.5+0.3 >= 0.7
	require.InDeltaSlice(t, []float64{0, 0.5 / 0.8, 0, 0.3 / 0.8}, count(Options{Temperature: 1, TopP: 0.7}, n), 0.005)
	require.InDeltaSlice(t, []float64{0, 1, 0, 0}, count(Options{Temperature: 1, TopP: 0.5}, 1000), 0)
	// temperature 0.5 squares the probabilities
	sq := []float64{0.0025, 0.25, 0.0225, 0.09}
	var z float64
	for _, v := range sq {
		z += v
	}
	for i := range sq {
		sq[i] /= z
	}
	require.InDeltaSlice(t, sq, count(Options{Temperature: 0.5}, n), 0.005)
	require.Equal(t, []int{1, 3, 2}, topK([]int{0, 1, 2, 3}, logits, 3))
	require.Equal(t, []int{0, 2}, topK([]int{0, 1, 2, 3}, []float64{2, 1, 2, 0}, 2), "ties: lower index first")
	for _, bad := range []Options{{MaxNewTokens: -1}, {Temperature: -1}, {TopK: -2}, {TopP: 1.5}, {Temperature: math.NaN()}} {
		require.Error(t, bad.Validate())
	}
}

func TestStopReasonNames(t *testing.T) {
	for r, want := range map[StopReason]string{StopLength: "length", StopEndToken: "end token",
		StopString: "stop string", StopBlock: "block", -1: "StopReason(-1)", 4: "StopReason(4)"} {
		require.Equal(t, want, r.String())
	}
}
