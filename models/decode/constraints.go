package decode

import (
	"math"
	"slices"
)

// banned returns, in increasing order and without repeats, the tokens o
// forbids next to a hypothesis whose output so far is out, over a vocabulary
// of vocab tokens: the decoders read their log-probabilities as -Inf. It
// reuses dst's memory. Reading a few indices instead of copying the
// vocabulary-wide row with -Inf written in keeps the model's row intact and
// costs nothing when o has no constraints.
func (o *Options) banned(dst, out []int, vocab int) []int {
	dst = dst[:0]
	for _, t := range o.Forbid {
		if t >= 0 && t < vocab {
			dst = append(dst, t)
		}
	}
	if o.NoRepeatNgram > 0 {
		for _, b := range bannedNgramEnds(withoutLeading(out, o.BOS), o.NoRepeatNgram) {
			if b >= 0 && b < vocab && b != o.EOS {
				dst = append(dst, b)
			}
		}
	}
	if len(dst) > 1 {
		slices.Sort(dst)
		dst = slices.Compact(dst)
	}
	return dst
}

// allowed returns the half-open runs [lo, hi) of a row of n tokens between
// the banned ones (sorted, as banned gives them), appended to dst.
func allowed(dst [][2]int, banned []int, n int) [][2]int {
	lo := 0
	for _, b := range banned {
		if b > lo {
			dst = append(dst, [2]int{lo, b})
		}
		lo = b + 1
	}
	if lo < n {
		dst = append(dst, [2]int{lo, n})
	}
	return dst
}

// constrainedArgmax returns Argmax of logp with the banned tokens (sorted)
// read as -Inf, and that value.
func constrainedArgmax[T logProb](logp []T, banned []int) (int, float64) {
	best, bestV := 0, math.Inf(-1)
	for i, v := range logp {
		if len(banned) > 0 && banned[0] == i {
			banned = banned[1:]
			continue
		}
		if f := float64(v); i == 0 || f > bestV {
			best, bestV = i, f
		}
	}
	return best, bestV
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
