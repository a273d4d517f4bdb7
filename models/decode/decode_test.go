package decode

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

// toyModel is a StepModel with fixed next-token distributions by prefix: greedy
// takes "a" (p=0.6) then has to choose between two tokens at 0.5, total 0.3;
// "b" (p=0.4) is followed by EOS with p=0.9, total 0.36.
type toyModel struct{}

type toyState struct{ prefixes [][]int }

func (s toyState) Rows() int { return len(s.prefixes) }
func (s toyState) Select(rows []int) (State, error) {
	out := toyState{}
	for _, r := range rows {
		out.prefixes = append(out.prefixes, append([]int(nil), s.prefixes[r]...))
	}
	return out, nil
}

const toyA, toyB, toyC, toyEOS, toyBOS = 0, 1, 2, 3, 4

func (toyModel) Encode(srcs [][]int) (State, error) {
	return toyState{prefixes: make([][]int, len(srcs))}, nil
}

func (toyModel) Step(st State, tokens []int) (StepOutput, State, error) {
	s := st.(toyState)
	next := toyState{}
	var out StepOutput
	for r, tok := range tokens {
		p := s.prefixes[r]
		if tok != toyBOS {
			p = append(append([]int(nil), p...), tok)
		}
		next.prefixes = append(next.prefixes, p)
		probs := []float64{0, 0, 0, 1, 0} // after two tokens: EOS
		switch {
		case len(p) == 0:
			probs = []float64{0.6, 0.4, 0, 0, 0}
		case len(p) == 1 && p[0] == toyA:
			probs = []float64{0, 0.5, 0.5, 0, 0}
		case len(p) == 1 && p[0] == toyB:
			probs = []float64{0, 0, 0.1, 0.9, 0}
		}
		lp := make([]float64, len(probs))
		for i, v := range probs {
			lp[i] = math.Log(v)
		}
		out.LogProbs = append(out.LogProbs, lp)
		out.Weights = append(out.Weights, []float64{1})
	}
	return out, next, nil
}

func TestBeamSearchFindsBetterThanGreedy(t *testing.T) {
	opt := Options{BOS: toyBOS, EOS: toyEOS, MaxLen: 5}
	g, err := Greedy(toyModel{}, [][]int{{0}}, opt)
	require.NoError(t, err)
	require.Equal(t, []int{toyA, toyB}, g[0].Tokens)
	require.InDelta(t, math.Log(0.3), g[0].LogProb, 1e-12)
	opt.Beam = 2
	hyps, err := BeamSearch(toyModel{}, []int{0}, opt)
	require.NoError(t, err)
	require.Equal(t, []int{toyB}, hyps[0].Tokens)
	require.True(t, hyps[0].Finished)
	require.InDelta(t, math.Log(0.36), hyps[0].LogProb, 1e-12)
	require.Len(t, hyps[0].Weights, 2) // "b" and EOS
	// the GNMT length penalty with alpha 1: ((5+2)/6) for "b EOS"
	opt.Alpha = 1
	hyps, err = BeamSearch(toyModel{}, []int{0}, opt)
	require.NoError(t, err)
	require.InDelta(t, math.Log(0.36)/(7.0/6), hyps[0].Score, 1e-12)
	require.InDelta(t, math.Pow(8.0/6, 0.6), LengthPenalty(3, 0.6), 1e-15)
	// stopping at the maximum length leaves hypotheses unfinished
	opt.MaxLen = 1
	hyps, err = BeamSearch(toyModel{}, []int{0}, opt)
	require.NoError(t, err)
	require.False(t, hyps[0].Finished)
	require.Equal(t, []int{toyA}, hyps[0].Tokens)
	_, err = BeamSearch(toyModel{}, []int{0}, Options{})
	require.ErrorContains(t, err, "maximum length")
	_, err = Greedy(toyModel{}, [][]int{{0}}, Options{MaxLen: 3, NoRepeatNgram: -1})
	require.ErrorContains(t, err, "n-grams")
}

// eosGuard is toyModel that fails the test if it is ever stepped with EOS, i.e.
// if a finished hypothesis is extended.
type eosGuard struct {
	toyModel
	t *testing.T
}

func (g eosGuard) Step(st State, tokens []int) (StepOutput, State, error) {
	for _, tok := range tokens {
		require.NotEqual(g.t, toyEOS, tok, "a finished hypothesis was extended")
	}
	return g.toyModel.Step(st, tokens)
}

func TestFinishedHypothesesAreNeverExtended(t *testing.T) {
	for _, beam := range []int{1, 2, 3, 5} {
		hyps, err := BeamSearch(eosGuard{t: t}, []int{0}, Options{BOS: toyBOS, EOS: toyEOS, MaxLen: 6, Beam: beam})
		require.NoError(t, err)
		for _, h := range hyps {
			require.True(t, h.Finished)
			require.NotContains(t, h.Tokens, toyEOS)
		}
	}
	_, err := Greedy(eosGuard{t: t}, [][]int{{0}, {1}}, Options{BOS: toyBOS, EOS: toyEOS, MaxLen: 6})
	require.NoError(t, err)
}
