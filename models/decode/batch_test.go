package decode

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/pkg/errors"
	"github.com/stretchr/testify/require"
)

// hashModel is a StepModel whose next-token distribution is a fixed function of
// a row's source and prefix, the same whatever the other rows of the batch: a
// batched search must then give exactly what the searches one by one give. EOS
// grows likelier as the prefix nears its source's length, so that sources of
// different lengths finish at different steps. It records the row counts of
// the states it steps.
type hashModel struct {
	vocab   int
	steps   *[]int     // rows of every step
	encoded *[][][]int // the sources of every Encode
	t       *testing.T
	// rounded gives log-probabilities rounded to float32, in LogProbs32 when
	// as32 is set, else as float64 in LogProbs
	rounded, as32 bool
}

const hashBOS, hashEOS = 0, 1

type hashState struct{ srcs, prefixes [][]int }

func (s hashState) Rows() int { return len(s.srcs) }

func (s hashState) Select(rows []int) (State, error) {
	var out hashState
	for _, r := range rows {
		out.srcs = append(out.srcs, s.srcs[r])
		out.prefixes = append(out.prefixes, append([]int(nil), s.prefixes[r]...))
	}
	return out, nil
}

func (m hashModel) Encode(srcs [][]int) (State, error) {
	if m.encoded != nil {
		*m.encoded = append(*m.encoded, srcs)
	}
	return hashState{srcs: srcs, prefixes: make([][]int, len(srcs))}, nil
}

func (m hashModel) Step(st State, tokens []int) (StepOutput, State, error) {
	s := st.(hashState)
	require.Len(m.t, tokens, s.Rows())
	*m.steps = append(*m.steps, s.Rows())
	next := hashState{srcs: s.srcs}
	var out StepOutput
	for r, tok := range tokens {
		require.NotEqual(m.t, hashEOS, tok, "a finished hypothesis was extended")
		p := append(append([]int(nil), s.prefixes[r]...), tok)
		next.prefixes = append(next.prefixes, p)
		h := uint64(len(p))
		for _, x := range append(append([]int(nil), s.srcs[r]...), p...) {
			h = h*1000003 + uint64(x) + 1
		}
		rng := rand.New(rand.NewPCG(h, 7))
		w := make([]float64, m.vocab)
		sum := 0.0
		for i := range w {
			w[i] = rng.ExpFloat64()
			if i == hashBOS {
				w[i] = 0
			}
			if i == hashEOS {
				w[i] *= math.Exp(3 * float64(len(p)-len(s.srcs[r])) / 2)
			}
			sum += w[i]
		}
		lp := make([]float64, m.vocab)
		lp32 := make([]float32, m.vocab)
		for i := range w {
			lp[i] = math.Log(w[i] / sum)
			if m.rounded {
				lp32[i] = float32(lp[i])
				lp[i] = float64(lp32[i])
			}
		}
		if m.as32 {
			out.LogProbs32 = append(out.LogProbs32, lp32)
		} else {
			out.LogProbs = append(out.LogProbs, lp)
		}
		att := make([]float64, len(s.srcs[r]))
		for i := range att {
			att[i] = float64(i+len(p)) / float64(len(att))
		}
		out.Weights = append(out.Weights, att)
	}
	return out, next, nil
}

// Every source of a batch gets exactly what BeamSearch gives it alone, under
// any beam, length penalty, constraints and per-source maximum lengths, while
// the state shrinks as sources finish.
func TestBeamSearchBatchMatchesBeamSearch(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	srcs := make([][]int, 23)
	for i := range srcs {
		srcs[i] = make([]int, 1+rng.IntN(9))
		for j := range srcs[i] {
			srcs[i][j] = 2 + rng.IntN(6)
		}
	}
	for _, c := range []struct {
		name   string
		opt    Options
		maxLen func(src []int) int // nil: opt.MaxLen for all
	}{
		{"beam1", Options{Beam: 1, MaxLen: 12}, nil},
		{"beam3", Options{Beam: 3, MaxLen: 12, Alpha: 0.6}, nil},
		{"beam5_no_alpha", Options{Beam: 5, MaxLen: 15}, nil},
		{"beam4_trigrams_forbid", Options{Beam: 4, MaxLen: 14, Alpha: 1, NoRepeatNgram: 2, Forbid: []int{3}}, nil},
		{"beam5_own_limits", Options{Beam: 5, Alpha: 0.6}, func(src []int) int { return len(src)/2 + 1 }},
		{"beam3_no_repeat", Options{Beam: 3, MaxLen: 9, NoRepeatNgram: 1}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			var steps []int
			var encoded [][][]int
			m := hashModel{vocab: 9, steps: &steps, encoded: &encoded, t: t}
			c.opt.BOS, c.opt.EOS = hashBOS, hashEOS
			opts := []Options{c.opt}
			if c.maxLen != nil {
				opts = make([]Options, len(srcs))
				for i, src := range srcs {
					opts[i] = c.opt
					opts[i].MaxLen = c.maxLen(src)
				}
			}
			got, err := BeamSearchBatch(m, srcs, opts)
			require.NoError(t, err)
			batchSteps := append([]int(nil), steps...)
			require.Len(t, encoded, 1)
			require.Len(t, encoded[0], paddedRows(len(srcs)))
			require.Equal(t, srcs, encoded[0][:len(srcs)])
			for _, src := range encoded[0][len(srcs):] {
				require.Equal(t, srcs[len(srcs)-1], src, "padding repeats the last source")
			}
			require.Len(t, got, len(srcs))
			longest, shortest := 0, math.MaxInt
			for i, src := range srcs {
				steps = steps[:0]
				want, err := BeamSearch(m, src, opts[min(i, len(opts)-1)])
				require.NoError(t, err)
				require.Equal(t, want, got[i], "source %d %v", i, src)
				longest, shortest = max(longest, len(steps)), min(shortest, len(steps))
			}
			require.Less(t, shortest, longest, "the searches end at different steps")
			require.Len(t, batchSteps, longest, "the batch steps until its last search ends")
			require.Equal(t, paddedRows(len(srcs)), batchSteps[0])
			for i, n := range batchSteps {
				require.Equal(t, paddedRows(n), n, "step %d: %d rows", i, n)
			}
			require.Less(t, batchSteps[len(batchSteps)-1], batchSteps[1], "finished sources leave the state")
		})
	}
}

func TestBeamSearchBatchErrors(t *testing.T) {
	var steps []int
	m := hashModel{vocab: 5, steps: &steps, t: t}
	opt := Options{BOS: hashBOS, EOS: hashEOS, MaxLen: 4, Beam: 2}
	_, err := BeamSearchBatch(m, [][]int{{2}, {3}, {4}}, []Options{opt, opt})
	require.ErrorContains(t, err, "2 options for 3 sources")
	bad := opt
	bad.MaxLen = 0
	_, err = BeamSearchBatch(m, [][]int{{2}, {3}}, []Options{opt, bad})
	require.ErrorContains(t, err, "source 1: decode: maximum length 0")
	hyps, err := BeamSearchBatch(m, nil, []Options{opt})
	require.NoError(t, err)
	require.Empty(t, hyps)
	require.Empty(t, steps)
}

// Row counts are padded to all counts up to 8, then two per doubling, never
// by more than half.
func TestPaddedRows(t *testing.T) {
	var ladder []int
	for n := 1; n <= 100; n++ {
		p := paddedRows(n)
		require.GreaterOrEqual(t, p, n)
		require.LessOrEqual(t, 2*p, 3*n, "%d rows padded to %d", n, p)
		require.Equal(t, p, paddedRows(p))
		if len(ladder) == 0 || ladder[len(ladder)-1] != p {
			ladder = append(ladder, p)
		}
	}
	require.Equal(t, []int{1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 24, 32, 48, 64, 96, 128}, ladder)
	rows := []int{4, 0, 1, 2, 3, 5, 6, 7, 8}
	require.Equal(t, []int{4, 0, 1, 2, 3, 5, 6, 7, 8, 8, 8, 8}, padRows(rows))
	require.Equal(t, []int{2, 0}, padRows([]int{2, 0}))
}

// A model's float32 log-probabilities (LogProbs32) decode exactly as the same
// values given as float64.
func TestFloat32LogProbsDecodeAsFloat64(t *testing.T) {
	srcs := [][]int{{2, 3, 4}, {5}, {6, 7, 2, 3, 4, 5}, {3, 3}}
	for _, opt := range []Options{
		{BOS: hashBOS, EOS: hashEOS, Beam: 1, MaxLen: 10},
		{BOS: hashBOS, EOS: hashEOS, Beam: 4, MaxLen: 10, Alpha: 0.6, NoRepeatNgram: 2, Forbid: []int{5}},
	} {
		var steps []int
		m64 := hashModel{vocab: 9, steps: &steps, t: t, rounded: true}
		m32 := m64
		m32.as32 = true
		want, err := BeamSearchBatch(m64, srcs, []Options{opt})
		require.NoError(t, err)
		got, err := BeamSearchBatch(m32, srcs, []Options{opt})
		require.NoError(t, err)
		require.Equal(t, want, got, "beam %d", opt.Beam)
		wantG, err := Greedy(finishedFed{m64}, srcs, opt)
		require.NoError(t, err)
		gotG, err := Greedy(finishedFed{m32}, srcs, opt)
		require.NoError(t, err)
		require.Equal(t, wantG, gotG, "greedy, forbidding %v", opt.Forbid)
		out, _, err := m32.Step(hashState{srcs: srcs[:1], prefixes: make([][]int, 1)}, []int{hashBOS})
		require.NoError(t, err)
		require.Nil(t, out.LogProbs)
		require.Equal(t, float64(out.LogProbs32[0][4]), out.LogProb(0, 4))
		require.Equal(t, float64(out.LogProbs32[0][7]), out.Float64()[0][7])
	}
}

// finishedFed lets greedy decoding feed EOS to the rows that have finished (it
// steps every row to the end); hashModel sees BOS there instead.
type finishedFed struct{ hashModel }

func (m finishedFed) Step(st State, tokens []int) (StepOutput, State, error) {
	fed := append([]int(nil), tokens...)
	for i, tok := range fed {
		if tok == hashEOS {
			fed[i] = hashBOS
		}
	}
	return m.hashModel.Step(st, fed)
}

// ByLength hands decodeBatch the non-empty sources shortest first, ties in
// their order, at most size at a time, and puts each result back at its
// source's index.
func TestByLength(t *testing.T) {
	srcs := [][]int{{1, 2, 3}, {}, {4}, {5, 6}, {7}, nil, {8, 9, 10, 11}}
	var batches [][][]int
	got, err := ByLength(srcs, 2, func(batch [][]int) ([]int, error) {
		batches = append(batches, batch)
		lens := make([]int, len(batch))
		for i, s := range batch {
			lens[i] = len(s)
		}
		return lens, nil
	})
	require.NoError(t, err)
	require.Equal(t, [][][]int{{{4}, {7}}, {{5, 6}, {1, 2, 3}}, {{8, 9, 10, 11}}}, batches)
	require.Equal(t, []int{3, 0, 1, 2, 1, 0, 4}, got)

	_, err = ByLength(srcs, 2, func([][]int) ([]int, error) { return nil, errors.New("no model") })
	require.EqualError(t, err, "no model")
}
