package decode

import "math"

// constrain returns the log-probabilities logp of the next token of a
// hypothesis whose output so far is out, with the tokens o forbids set to -Inf:
// a copy when o has constraints, logp itself otherwise.
func (o *Options) constrain(logp []float64, out []int) []float64 {
	if len(o.Forbid) == 0 && o.NoRepeatNgram == 0 {
		return logp
	}
	row := append([]float64(nil), logp...)
	for _, t := range o.Forbid {
		if t >= 0 && t < len(row) {
			row[t] = math.Inf(-1)
		}
	}
	if o.NoRepeatNgram > 0 {
		for _, b := range bannedNgramEnds(withoutLeading(out, o.BOS), o.NoRepeatNgram) {
			if b >= 0 && b < len(row) && b != o.EOS {
				row[b] = math.Inf(-1)
			}
		}
	}
	return row
}

// withoutLeading returns out without the tokens equal to bos at its start: a
// BOS written before any other token is the start of the sequence, not part
// of its n-grams.
func withoutLeading(out []int, bos int) []int {
	for len(out) > 0 && out[0] == bos {
		out = out[1:]
	}
	return out
}

// bannedNgramEnds returns the tokens that would complete an n-gram already in
// h: those that follow an earlier occurrence of h's last n-1 tokens.
func bannedNgramEnds(h []int, n int) []int {
	k := n - 1
	if len(h) < k {
		return nil
	}
	prefix := h[len(h)-k:]
	var out []int
	for i := 0; i+k < len(h); i++ {
		match := true
		for j := 0; j < k; j++ {
			if h[i+j] != prefix[j] {
				match = false
				break
			}
		}
		if match {
			out = append(out, h[i+k])
		}
	}
	return out
}
