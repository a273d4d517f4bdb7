package decode

import "github.com/pkg/errors"

// Greedy decodes every source of srcs (one batch, the encoder run once) by taking
// the most probable token at each step, under the constraints of opt, until EOS
// or MaxLen steps.
func Greedy(m StepModel, srcs [][]int, opt Options) ([]Hypothesis, error) {
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
	var banned []int
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
			banned = opt.banned(banned, h.Tokens, out.vocab(r))
			var tok int
			var lp float64
			if out.is32() {
				tok, lp = constrainedArgmax(out.LogProbs32[r], banned)
			} else {
				tok, lp = constrainedArgmax(out.LogProbs[r], banned)
			}
			h.LogProb += lp
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
	release(st)
	for r := range hyps {
		hyps[r].Score = hyps[r].LogProb / LengthPenalty(len(hyps[r].Weights), opt.Alpha)
	}
	return hyps, nil
}

// Argmax returns the index of the largest value (the first one on ties).
func Argmax(v []float64) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}
