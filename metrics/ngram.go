package metrics

import "encoding/binary"

// vocab maps tokens to dense ids so that n-grams can be keyed by fixed-width
// byte strings, which stay unambiguous whatever characters the tokens hold.
type vocab map[string]uint32

// ids returns the id of each token, adding unseen tokens.
func (v vocab) ids(tokens []string) []uint32 {
	out := make([]uint32, len(tokens))
	for i, t := range tokens {
		id, ok := v[t]
		if !ok {
			id = uint32(len(v))
			v[t] = id
		}
		out[i] = id
	}
	return out
}

// ngramKey encodes ids as a string of 4 bytes per id.
func ngramKey(ids []uint32) string {
	b := make([]byte, 4*len(ids))
	for i, id := range ids {
		binary.LittleEndian.PutUint32(b[4*i:], id)
	}
	return string(b)
}

// countNgrams counts the n-grams of order n in ids.
func countNgrams(ids []uint32, n int) map[string]int {
	m := make(map[string]int)
	for i := 0; i+n <= len(ids); i++ {
		m[ngramKey(ids[i:i+n])]++
	}
	return m
}

// maxRefCounts merges the n-gram counts of several references, keeping for
// each n-gram its largest count in any one reference (the clipping count of
// Papineni et al. 2002, section 2.1).
func maxRefCounts(refs [][]uint32, n int) map[string]int {
	merged := make(map[string]int)
	for _, r := range refs {
		for k, c := range countNgrams(r, n) {
			if c > merged[k] {
				merged[k] = c
			}
		}
	}
	return merged
}

// clippedMatches returns the number of hypothesis n-grams matched by the
// references with counts clipped by refMax, and the number of hypothesis
// n-grams.
func clippedMatches(hyp map[string]int, refMax map[string]int) (matched, total int) {
	for k, c := range hyp {
		total += c
		if r := refMax[k]; r > 0 {
			matched += min(c, r)
		}
	}
	return matched, total
}

// closestRefLen returns the reference length closest to hypLen, the shorter
// one on a tie (the rule of both sacreBLEU's _get_closest_ref_len and NLTK's
// closest_ref_length).
func closestRefLen(hypLen int, refLens []int) int {
	best, bestDiff := -1, -1
	for _, r := range refLens {
		d := r - hypLen
		if d < 0 {
			d = -d
		}
		if bestDiff < 0 || d < bestDiff || (d == bestDiff && r < best) {
			best, bestDiff = r, d
		}
	}
	return best
}
