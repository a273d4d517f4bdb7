package decode

import (
	"math"
	"sort"

	"github.com/pkg/errors"
)

// BeamSearch decodes src with a beam of opt.Beam hypotheses (Wu et al. 2016,
// sec. 7). At each step every live hypothesis is extended by every token the
// constraints of opt allow; the opt.Beam best extensions by log-probability are
// kept, those ending in EOS among them move to the finished list, scored by
// log-probability over the length penalty. The search stops when opt.Beam
// hypotheses have finished, when no live hypothesis can beat the best finished
// one any more (its log-probability can only fall, and its penalty is at most
// lp(MaxLen)), or after MaxLen steps (live hypotheses are then returned
// unfinished). It returns the hypotheses best first, at most opt.Beam. With a
// beam of 1 it returns what Greedy does.
func BeamSearch(m StepModel, src []int, opt Options) ([]Hypothesis, error) {
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
		logp := make([][]float64, len(live))
		for i, h := range live {
			logp[i] = opt.constrain(out.LogProbs[i], h.Tokens)
		}
		cands := topCandidates(live, logp, 2*opt.Beam)
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
