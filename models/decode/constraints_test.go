package decode

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// cycleModel is a StepModel that ignores its source and prefers, after token x,
// next[x] (probability 0.5), then token 4 (0.3), then EOS (0.01): left alone it
// repeats 2 3 2 3 ... .
type cycleModel struct{}

const cycleBOS, cycleEOS = 0, 1

var cycleNext = map[int]int{cycleBOS: 2, 2: 3, 3: 2, 4: 2}

type rowsState int

func (s rowsState) Rows() int { return int(s) }
func (s rowsState) Select(rows []int) (State, error) {
	return rowsState(len(rows)), nil
}

func (cycleModel) Encode(srcs [][]int) (State, error) {
	return rowsState(len(srcs)), nil
}

func (cycleModel) Step(st State, tokens []int) (StepOutput, State, error) {
	out := StepOutput{}
	for _, tok := range tokens {
		lp := []float64{math.Inf(-1), math.Log(0.01), math.Inf(-1), math.Inf(-1), math.Log(0.3)}
		if nx, ok := cycleNext[tok]; ok && nx != 4 {
			lp[nx] = math.Log(0.5)
		}
		out.LogProbs = append(out.LogProbs, lp)
		out.Weights = append(out.Weights, []float64{1})
	}
	return out, st, nil
}

// repeatedTrigram returns the first trigram that occurs twice in s, if any.
func repeatedTrigram(s []int) ([3]int, bool) {
	seen := map[[3]int]bool{}
	for i := 0; i+3 <= len(s); i++ {
		g := [3]int{s[i], s[i+1], s[i+2]}
		if seen[g] {
			return g, true
		}
		seen[g] = true
	}
	return [3]int{}, false
}

func TestNoRepeatTrigrams(t *testing.T) {
	opt := Options{BOS: cycleBOS, EOS: cycleEOS, MaxLen: 12, Beam: 3, Alpha: 1}
	plain, err := Greedy(cycleModel{}, [][]int{{5}}, opt)
	require.NoError(t, err)
	_, rep := repeatedTrigram(plain[0].Tokens)
	require.True(t, rep, "without blocking the cycle repeats: %v", plain[0].Tokens)
	unblocked, err := BeamSearch(cycleModel{}, []int{5}, opt)
	require.NoError(t, err)
	_, rep = repeatedTrigram(unblocked[0].Tokens)
	require.True(t, rep, "without blocking the best beam repeats: %v", unblocked[0].Tokens)

	opt.NoRepeatNgram = 3
	hyps, err := Greedy(cycleModel{}, [][]int{{5}, {6}}, opt)
	require.NoError(t, err)
	for _, h := range hyps {
		g, rep := repeatedTrigram(h.Tokens)
		require.False(t, rep, "greedy output %v repeats %v", h.Tokens, g)
	}
	// 2 3 2 3 would continue with 2, repeating "2 3 2": the next choice is 4
	require.Equal(t, []int{2, 3, 2, 3, 4}, hyps[0].Tokens[:5])
	require.Equal(t, hyps[0].Tokens, hyps[1].Tokens, "each row keeps its own history")

	beams, err := BeamSearch(cycleModel{}, []int{5}, opt)
	require.NoError(t, err)
	require.NotEmpty(t, beams)
	for _, h := range beams {
		g, rep := repeatedTrigram(h.Tokens)
		require.False(t, rep, "beam hypothesis %v repeats %v", h.Tokens, g)
	}
	// after 2 3 2 3 4 2 3 every word would repeat a trigram: only EOS is left
	require.Equal(t, []int{2, 3, 2, 3, 4, 2, 3}, hyps[0].Tokens)
	require.True(t, hyps[0].Finished)
	require.Equal(t, hyps[0].Tokens, beams[0].Tokens)
}

func TestForbidTokensAndNoRepeatedWords(t *testing.T) {
	opt := Options{BOS: cycleBOS, EOS: cycleEOS, MaxLen: 6, Forbid: []int{3}}
	hyps, err := Greedy(cycleModel{}, [][]int{{5}}, opt)
	require.NoError(t, err)
	// without token 3 the cycle goes 2, then 4 (the second choice), then 2 ...
	require.Equal(t, []int{2, 4, 2, 4, 2, 4}, hyps[0].Tokens)

	opt = Options{BOS: cycleBOS, EOS: cycleEOS, MaxLen: 6, NoRepeatNgram: 1}
	hyps, err = Greedy(cycleModel{}, [][]int{{5}, {6}}, opt)
	require.NoError(t, err)
	// 2 3, then 2 and 3 are used: 4; then only EOS is left
	for _, h := range hyps {
		require.Equal(t, []int{2, 3, 4}, h.Tokens)
		require.True(t, h.Finished)
	}
	opt.Beam = 3
	beams, err := BeamSearch(cycleModel{}, []int{5}, opt)
	require.NoError(t, err)
	for _, h := range beams {
		seen := map[int]bool{}
		for _, tok := range h.Tokens {
			require.False(t, seen[tok], "hypothesis %v repeats %d", h.Tokens, tok)
			seen[tok] = true
		}
	}
}

// The n-grams a hypothesis may not complete: those that follow an earlier
// occurrence of its last n-1 tokens; a BOS written first is not part of them.
func TestBannedNgramEnds(t *testing.T) {
	require.Equal(t, []int{3, 5}, bannedNgramEnds([]int{2, 3, 7, 2, 5, 2}, 2))
	require.Equal(t, []int{2, 3, 7, 2, 5, 2}, bannedNgramEnds([]int{2, 3, 7, 2, 5, 2}, 1))
	require.Empty(t, bannedNgramEnds([]int{2, 3}, 3))
	require.Equal(t, []int{4}, withoutLeading([]int{0, 0, 4}, 0))
	o := Options{BOS: 0, EOS: 1, NoRepeatNgram: 1, Forbid: []int{9, 2, 3}}
	require.Equal(t, []int{2, 3}, o.banned(nil, []int{0, 3, 1}, 5), "sorted, once each, in the vocabulary; EOS is never blocked; the leading BOS is not an output token")
	require.Equal(t, [][2]int{{0, 2}, {4, 5}}, allowed(nil, []int{2, 3}, 5))
	require.Equal(t, [][2]int{{1, 4}}, allowed(nil, []int{0, 4}, 5))
	require.Empty(t, allowed(nil, []int{0, 1}, 2))
}

// constrainedArgmax is Argmax of the row with the banned tokens set to -Inf.
func TestConstrainedArgmax(t *testing.T) {
	inf := math.Inf(-1)
	rng := rand.New(rand.NewPCG(3, 4))
	for trial := 0; trial < 500; trial++ {
		row := make([]float64, 1+rng.IntN(12))
		var banned []int
		for i := range row {
			row[i] = -float64(rng.IntN(4))
			switch rng.IntN(6) {
			case 0:
				banned = append(banned, i)
			case 1:
				row[i] = inf
			}
		}
		constrained := append([]float64(nil), row...)
		for _, b := range banned {
			constrained[b] = inf
		}
		tok, lp := constrainedArgmax(row, banned)
		want := Argmax(constrained)
		require.Equal(t, want, tok, "trial %d", trial)
		require.Equal(t, constrained[want], lp, "trial %d", trial)
	}
}
