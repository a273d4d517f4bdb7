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
	b := newBeam(opt)
	for t := 0; ; t++ {
		out, next, err := m.Step(st, b.prevTokens(nil))
		if err != nil {
			return nil, errors.Wrapf(err, "beam search: step %d", t)
		}
		parents, done := b.advance(t, out, 0)
		if done {
			release(next)
			return b.hypotheses(), nil
		}
		st, err = next.Select(parents)
		release(next)
		if err != nil {
			return nil, errors.Wrapf(err, "beam search: step %d", t)
		}
	}
}

// beam is the search of one source: its live hypotheses, one per row of the
// decoding state, and those that have finished.
type beam struct {
	opt      Options
	live     []Hypothesis
	finished []Hypothesis
	stopped  bool    // a stopping rule ended the search before MaxLen steps
	banned   [][]int // the banned tokens of each live hypothesis, reused step after step
}

// newBeam returns the search before its first step: one empty live hypothesis.
func newBeam(opt Options) *beam {
	return &beam{opt: opt, live: []Hypothesis{{}}}
}

// prevTokens appends to dst the token each live hypothesis feeds next: its
// last token, BOS for the empty one.
func (b *beam) prevTokens(dst []int) []int {
	for _, h := range b.live {
		tok := b.opt.BOS
		if len(h.Tokens) > 0 {
			tok = h.Tokens[len(h.Tokens)-1]
		}
		dst = append(dst, tok)
	}
	return dst
}

// advance takes the output of step t, whose rows from first on are the live
// hypotheses in order, extends the hypotheses and returns, for every new live
// hypothesis, the row of its parent (counted from first): the rows the next
// step's state is made of. done reports that the search is over.
func (b *beam) advance(t int, out StepOutput, first int) (parents []int, done bool) {
	opt := &b.opt
	for len(b.banned) < len(b.live) {
		b.banned = append(b.banned, nil)
	}
	banned := b.banned[:len(b.live)]
	for i, h := range b.live {
		banned[i] = opt.banned(banned[i], h.Tokens, out.vocab(first+i))
	}
	var cands []candidate
	if out.is32() {
		cands = topCandidates(b.live, out.LogProbs32[first:], banned, 2*opt.Beam)
	} else {
		cands = topCandidates(b.live, out.LogProbs[first:], banned, 2*opt.Beam)
	}
	weights := out.Weights[first:]
	var keep []Hypothesis
	for rank, c := range cands {
		if len(keep) == opt.Beam {
			break
		}
		parent := b.live[c.parent]
		h := Hypothesis{
			LogProb: c.logp,
			Weights: append(append([][]float64(nil), parent.Weights...), append([]float64(nil), weights[c.parent]...)),
		}
		if c.tok == opt.EOS {
			if rank < opt.Beam {
				h.Tokens = append([]int(nil), parent.Tokens...)
				h.Finished = true
				h.Score = h.LogProb / LengthPenalty(t+1, opt.Alpha)
				b.finished = append(b.finished, h)
			}
			continue
		}
		h.Tokens = append(append([]int(nil), parent.Tokens...), c.tok)
		keep = append(keep, h)
		parents = append(parents, c.parent)
	}
	b.live = keep
	switch {
	case len(b.finished) >= opt.Beam || len(b.live) == 0:
		b.stopped = true
	case len(b.finished) > 0 && bestScore(b.finished) >= b.bestLive()/LengthPenalty(opt.MaxLen, opt.Alpha):
		b.stopped = true
	}
	return parents, b.stopped || t+1 >= opt.MaxLen
}

// bestLive returns the largest log-probability of a live hypothesis.
func (b *beam) bestLive() float64 {
	best := math.Inf(-1)
	for _, h := range b.live {
		best = math.Max(best, h.LogProb)
	}
	return best
}

// hypotheses returns the result of a search that is over: its hypotheses best
// first, at most Beam, the live ones unfinished when it ran out of steps.
func (b *beam) hypotheses() []Hypothesis {
	finished := b.finished
	if !b.stopped {
		for _, h := range b.live {
			h.Score = h.LogProb / LengthPenalty(len(h.Tokens), b.opt.Alpha)
			finished = append(finished, h)
		}
	}
	sort.SliceStable(finished, func(i, j int) bool { return finished[i].Score > finished[j].Score })
	if len(finished) > b.opt.Beam {
		finished = finished[:b.opt.Beam]
	}
	return finished
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
// argmax picks). logp[i] holds the log-probabilities of the tokens after
// live[i], banned[i] those that cannot follow it (sorted); tokens of
// log-probability -Inf or NaN cannot either.
func topCandidates[T logProb](live []Hypothesis, logp [][]T, banned [][]int, k int) []candidate {
	// A sorted insertion into k slots: beam x vocabulary candidates would make a
	// full sort the slowest part of a decoding step. A candidate goes after the
	// kept ones of equal score, so ties keep their enumeration order (parent,
	// then token), as a stable sort would. Until k are kept the bar is -Inf,
	// which no impossible token's total clears (a NaN clears nothing), so the
	// scan of a row is one addition and one comparison a token.
	if k <= 0 {
		return nil
	}
	best := make([]candidate, 0, k+1)
	bar := math.Inf(-1)
	var runs [][2]int
	for i, h := range live {
		row := logp[i]
		runs = allowed(runs[:0], banned[i], len(row))
		for _, run := range runs {
			for tok := run[0]; tok < run[1]; tok++ {
				total := h.LogProb + float64(row[tok])
				if !(total > bar) {
					continue
				}
				c := candidate{parent: i, tok: tok, logp: total}
				j := sort.Search(len(best), func(j int) bool { return best[j].logp < c.logp })
				best = append(best, candidate{})
				copy(best[j+1:], best[j:])
				best[j] = c
				if len(best) > k {
					best = best[:k]
				}
				if len(best) == k {
					bar = best[k-1].logp
				}
			}
		}
	}
	return best
}
