package attention

import (
	"math"
	"sort"

	"github.com/pkg/errors"
)

// StepModel is a sequence-to-sequence model seen by the decoders: it encodes a
// batch of sources once, then advances the decoder by one token at a time through
// a one-step graph that shares the trained weights.
type StepModel interface {
	// Encode runs the encoder once over srcs (token ids, without BOS/EOS) and
	// returns the decoder's initial state, one row per source.
	Encode(srcs [][]int) (DecodeState, error)
	// Step feeds the previous token of every row of st (BOS first) and returns the
	// log-probabilities of the next token, the attention weights over the source
	// of every row (Weights[r] has one value per source position), and the state
	// after the step. st is not modified.
	Step(st DecodeState, tokens []int) (StepOutput, DecodeState, error)
}

// StepOutput is what one decoding step gives for each row.
type StepOutput struct {
	LogProbs [][]float64 // (rows, target vocabulary)
	Weights  [][]float64 // (rows, source length)
}

// DecodeState is a decoder's state for a batch of rows (hypotheses).
type DecodeState interface {
	// Rows returns the number of rows.
	Rows() int
	// Select returns a new state made of the given rows (repeats allowed), in
	// order: beam search reorders and copies hypotheses with it.
	Select(rows []int) (DecodeState, error)
}

// Hypothesis is a decoded output sequence.
type Hypothesis struct {
	Tokens   []int       // the output tokens, without BOS and EOS
	Finished bool        // EOS was produced (false: stopped at the maximum length)
	LogProb  float64     // log p(tokens, EOS | source) (without EOS when not finished)
	Score    float64     // LogProb divided by the length penalty
	Weights  [][]float64 // attention weights of each step: len(Tokens) rows, plus one for EOS when finished
}

// DecodeOptions are the settings of greedy decoding and beam search.
type DecodeOptions struct {
	BOS, EOS int
	// MaxLen is the largest number of decoding steps (tokens produced, EOS included).
	MaxLen int
	// Beam is the beam size (BeamSearch; default 1).
	Beam int
	// Alpha is the length-penalty exponent of Wu et al. (2016), eq. 14: a finished
	// hypothesis Y scores log p(Y|X) / lp(Y) with lp(Y) = ((5+|Y|)/6)^Alpha, |Y|
	// counting EOS. 0 ranks by log-probability alone.
	Alpha float64
}

// LengthPenalty returns ((5+n)/6)^alpha (Wu et al. 2016, eq. 14).
func LengthPenalty(n int, alpha float64) float64 {
	return math.Pow((5+float64(n))/6, alpha)
}

func (o *DecodeOptions) validate() error {
	if o.MaxLen <= 0 {
		return errors.Errorf("decode: maximum length %d", o.MaxLen)
	}
	if o.Beam == 0 {
		o.Beam = 1
	}
	if o.Beam < 0 || o.Alpha < 0 {
		return errors.Errorf("decode: beam %d, alpha %g", o.Beam, o.Alpha)
	}
	return nil
}

// Greedy decodes every source of srcs (one batch, the encoder run once) by taking
// the most probable token at each step until EOS or MaxLen steps.
func Greedy(m StepModel, srcs [][]int, opt DecodeOptions) ([]Hypothesis, error) {
	if err := opt.validate(); err != nil {
		return nil, err
	}
	st, err := m.Encode(srcs)
	if err != nil {
		return nil, errors.Wrap(err, "greedy decoding: encoder")
	}
	hyps := make([]Hypothesis, len(srcs))
	prev := make([]int, len(srcs))
	for i := range prev {
		prev[i] = opt.BOS
	}
	done := 0
	for t := 0; t < opt.MaxLen && done < len(srcs); t++ {
		out, next, err := m.Step(st, prev)
		if err != nil {
			return nil, errors.Wrapf(err, "greedy decoding: step %d", t)
		}
		for r := range hyps {
			h := &hyps[r]
			if h.Finished {
				prev[r] = opt.EOS
				continue
			}
			tok := argmax(out.LogProbs[r])
			h.LogProb += out.LogProbs[r][tok]
			h.Weights = append(h.Weights, append([]float64(nil), out.Weights[r]...))
			if tok == opt.EOS {
				h.Finished = true
				done++
			} else {
				h.Tokens = append(h.Tokens, tok)
			}
			prev[r] = tok
		}
		st = next
	}
	for r := range hyps {
		hyps[r].Score = hyps[r].LogProb / LengthPenalty(len(hyps[r].Weights), opt.Alpha)
	}
	return hyps, nil
}

// argmax returns the index of the largest value (the first one on ties).
func argmax(v []float64) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}

// BeamSearch decodes src with a beam of opt.Beam hypotheses (Wu et al. 2016,
// sec. 7). At each step every live hypothesis is extended by every token; the
// opt.Beam best extensions by log-probability are kept, those ending in EOS among
// them move to the finished list, scored by log-probability over the length
// penalty. The search stops when opt.Beam hypotheses have finished, when no live
// hypothesis can beat the best finished one any more (its log-probability can only
// fall, and its penalty is at most lp(MaxLen)), or after MaxLen steps (live
// hypotheses are then returned unfinished). It returns the hypotheses best first,
// at most opt.Beam. With a beam of 1 it returns what Greedy does.
func BeamSearch(m StepModel, src []int, opt DecodeOptions) ([]Hypothesis, error) {
	if err := opt.validate(); err != nil {
		return nil, err
	}
	st, err := m.Encode([][]int{src})
	if err != nil {
		return nil, errors.Wrap(err, "beam search: encoder")
	}
	live := []Hypothesis{{}}
	var finished []Hypothesis
	bestLive := func() float64 {
		best := math.Inf(-1)
		for _, h := range live {
			best = math.Max(best, h.LogProb)
		}
		return best
	}
	stopped := false
	for t := 0; t < opt.MaxLen && !stopped; t++ {
		prev := make([]int, len(live))
		for i, h := range live {
			prev[i] = opt.BOS
			if len(h.Tokens) > 0 {
				prev[i] = h.Tokens[len(h.Tokens)-1]
			}
		}
		out, next, err := m.Step(st, prev)
		if err != nil {
			return nil, errors.Wrapf(err, "beam search: step %d", t)
		}
		cands := topCandidates(live, out.LogProbs, 2*opt.Beam)
		var keep []Hypothesis
		var parents []int
		for rank, c := range cands {
			if len(keep) == opt.Beam {
				break
			}
			parent := live[c.parent]
			h := Hypothesis{
				LogProb: c.logp,
				Weights: append(append([][]float64(nil), parent.Weights...), append([]float64(nil), out.Weights[c.parent]...)),
			}
			if c.tok == opt.EOS {
				if rank < opt.Beam {
					h.Tokens = append([]int(nil), parent.Tokens...)
					h.Finished = true
					h.Score = h.LogProb / LengthPenalty(t+1, opt.Alpha)
					finished = append(finished, h)
				}
				continue
			}
			h.Tokens = append(append([]int(nil), parent.Tokens...), c.tok)
			keep = append(keep, h)
			parents = append(parents, c.parent)
		}
		live = keep
		switch {
		case len(finished) >= opt.Beam || len(live) == 0:
			stopped = true
		case len(finished) > 0 && bestScore(finished) >= bestLive()/LengthPenalty(opt.MaxLen, opt.Alpha):
			stopped = true
		default:
			if st, err = next.Select(parents); err != nil {
				return nil, errors.Wrapf(err, "beam search: step %d", t)
			}
		}
	}
	if !stopped { // ran out of steps: the live hypotheses end unfinished
		for _, h := range live {
			h.Score = h.LogProb / LengthPenalty(len(h.Tokens), opt.Alpha)
			finished = append(finished, h)
		}
	}
	sort.SliceStable(finished, func(i, j int) bool { return finished[i].Score > finished[j].Score })
	if len(finished) > opt.Beam {
		finished = finished[:opt.Beam]
	}
	return finished, nil
}

func bestScore(hs []Hypothesis) float64 {
	best := math.Inf(-1)
	for _, h := range hs {
		best = math.Max(best, h.Score)
	}
	return best
}

type candidate struct {
	parent, tok int
	logp        float64
}

// topCandidates returns the k best extensions of the live hypotheses by total
// log-probability, ties broken by parent then token (so a beam of 1 picks what
// argmax picks).
func topCandidates(live []Hypothesis, logp [][]float64, k int) []candidate {
	// A sorted insertion into k slots: beam x vocabulary candidates would make a
	// full sort the slowest part of a decoding step. A candidate goes after the
	// kept ones of equal score, so ties keep their enumeration order (parent,
	// then token), as a stable sort would.
	if k <= 0 {
		return nil
	}
	best := make([]candidate, 0, k+1)
	for i, h := range live {
		for tok, lp := range logp[i] {
			if math.IsInf(lp, -1) || math.IsNaN(lp) {
				continue
			}
			c := candidate{parent: i, tok: tok, logp: h.LogProb + lp}
			if len(best) == k && !(c.logp > best[k-1].logp) {
				continue
			}
			j := sort.Search(len(best), func(j int) bool { return best[j].logp < c.logp })
			best = append(best, candidate{})
			copy(best[j+1:], best[j:])
			best[j] = c
			if len(best) > k {
				best = best[:k]
			}
		}
	}
	return best
}
