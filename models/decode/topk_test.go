package decode

import (
	"math"
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/stretchr/testify/require"
)

// topCandidates keeps the k best candidates in the order a stable sort of all
// of them would give, ties (frequent here: scores drawn from a few values)
// included, and skips impossible and banned tokens.
func TestTopCandidatesMatchesStableSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := 0; trial < 200; trial++ {
		rows, vocab := 1+rng.IntN(5), 1+rng.IntN(40)
		live := make([]Hypothesis, rows)
		logp := make([][]float64, rows)
		banned := make([][]int, rows)
		var all []candidate
		for i := range live {
			live[i].LogProb = -float64(rng.IntN(3))
			logp[i] = make([]float64, vocab)
			for tok := range logp[i] {
				switch rng.IntN(10) {
				case 0:
					logp[i][tok] = math.Inf(-1)
				case 1:
					logp[i][tok] = math.NaN()
				default:
					logp[i][tok] = -float64(rng.IntN(4)) / 2
				}
				if rng.IntN(8) == 0 {
					banned[i] = append(banned[i], tok)
					continue
				}
				if lp := logp[i][tok]; !math.IsInf(lp, -1) && !math.IsNaN(lp) {
					all = append(all, candidate{parent: i, tok: tok, logp: live[i].LogProb + lp})
				}
			}
		}
		sort.SliceStable(all, func(a, b int) bool { return all[a].logp > all[b].logp })
		for _, k := range []int{1, 2, 10, 1000} {
			want := all[:min(k, len(all))]
			got := topCandidates(live, logp, banned, k)
			if len(want) == 0 {
				require.Empty(t, got)
				continue
			}
			require.Equal(t, want, got, "trial %d, k %d", trial, k)
		}
	}
	require.Empty(t, topCandidates([]Hypothesis{{}}, [][]float64{{0}}, [][]int{nil}, 0))
}
