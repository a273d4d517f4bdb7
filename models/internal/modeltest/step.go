package modeltest

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/models/decode"
)

// Tokens are the special ids of the toy pairs.
var Tokens = decode.Tokens{Pad: 0, BOS: 1, EOS: 2}

// Srcs and Tgts are pairs of a toy task: sources of ids 3..8, targets of ids
// 3..6. Tests read them and never change them.
var (
	Srcs = [][]int{{3, 4, 5, 6}, {7, 8}, {5}}
	Tgts = [][]int{{4, 3}, {6, 6, 5}, {3}}
)

// StepLoss decodes the reference targets with m's one-step graphs (teacher
// forcing through Step, Pad fed after a row's EOS) and returns the mean negative
// log-likelihood per token, EOS included, which must equal the teacher-forced
// program's loss. target maps a reference token of row r to the column of the
// log-probabilities that scores it (nil: the token itself). At every step a
// row's attention weights sum to 1 and give the padding after its source 0.
func StepLoss(t *testing.T, m decode.StepModel, tok decode.Tokens, srcs, tgts [][]int, target func(r, id int) int) float64 {
	t.Helper()
	st, err := m.Encode(srcs)
	require.NoError(t, err)
	var sum float64
	var n int
	longest := 0
	for _, y := range tgts {
		longest = max(longest, len(y))
	}
	for i := 0; i <= longest; i++ {
		prev := make([]int, len(srcs))
		for r, y := range tgts {
			switch {
			case i == 0:
				prev[r] = tok.BOS
			case i <= len(y):
				prev[r] = y[i-1]
			default:
				prev[r] = tok.Pad
			}
		}
		out, next, err := m.Step(st, prev)
		require.NoError(t, err)
		for r, y := range tgts {
			if i > len(y) {
				continue
			}
			want := tok.EOS
			if i < len(y) {
				want = y[i]
			}
			if target != nil {
				want = target(r, want)
			}
			sum -= out.LogProb(r, want)
			n++
			total := 0.0
			for _, w := range out.Weights[r] {
				total += w
			}
			require.InDelta(t, 1, total, 1e-12)
			for j := len(srcs[r]); j < len(out.Weights[r]); j++ {
				require.Equal(t, 0.0, out.Weights[r][j], "padding position %d gets weight", j)
			}
		}
		st = next
	}
	return sum / float64(n)
}

// StepDecoder is a step model that holds compiled programs until closed.
type StepDecoder interface {
	decode.StepModel
	Close() error
}

// RequireStepsMatchProgram runs the teacher-forced evaluation program p on
// srcs and tgts and requires StepLoss of m (a decoder over the same weights) to
// give its loss; it closes m.
func RequireStepsMatchProgram(t *testing.T, p Program, m StepDecoder, tok decode.Tokens, srcs, tgts [][]int, target func(r, id int) int) {
	t.Helper()
	_, err := p.Feed(srcs, tgts)
	require.NoError(t, err)
	require.NoError(t, p.Run())
	loss, err := p.Output("loss")
	require.NoError(t, err)
	require.InDelta(t, graph.Scalar(loss), StepLoss(t, m, tok, srcs, tgts, target), 1e-12)
	require.NoError(t, m.Close())
}

// RequireBeamOfOneIsGreedy decodes Srcs with m greedily and with beams of 1,
// which must find the same hypotheses, and with a beam of 4, which must return
// its hypotheses best first.
func RequireBeamOfOneIsGreedy(t *testing.T, m decode.StepModel) {
	t.Helper()
	opt := decode.Options{BOS: Tokens.BOS, EOS: Tokens.EOS, MaxLen: 5, Alpha: 0.6}
	greedy, err := decode.Greedy(m, Srcs, opt)
	require.NoError(t, err)
	for i, src := range Srcs {
		opt.Beam = 1
		beam, err := decode.BeamSearch(m, src, opt)
		require.NoError(t, err)
		require.Len(t, beam, 1)
		require.Equal(t, greedy[i].Tokens, beam[0].Tokens, "source %d", i)
		require.Equal(t, greedy[i].Finished, beam[0].Finished)
		require.InDelta(t, greedy[i].LogProb, beam[0].LogProb, 1e-12)
		// the same numbers up to rounding: a BLAS may take other kernels for a
		// batch of sources than for a beam of one
		require.Len(t, beam[0].Weights, len(greedy[i].Weights))
		for r := range greedy[i].Weights {
			require.InDeltaSlice(t, greedy[i].Weights[r], beam[0].Weights[r], 1e-12)
		}
		// a wider beam finds a sequence at least as probable when alpha is 0
		opt.Beam, opt.Alpha = 4, 0
		wide, err := decode.BeamSearch(m, src, opt)
		require.NoError(t, err)
		require.NotEmpty(t, wide)
		for j := 1; j < len(wide); j++ {
			require.GreaterOrEqual(t, wide[j-1].Score, wide[j].Score)
		}
		opt.Alpha = 0.6
	}
}
