package metrics

import (
	"maps"
	"slices"
	"strings"

	"github.com/pkg/errors"
)

// RougeScore is the precision, recall and F1 of one ROUGE variant, each in
// [0, 1].
type RougeScore struct {
	// Precision is the overlap divided by the candidate's size.
	Precision float64
	// Recall is the overlap divided by the reference's size.
	Recall float64
	// F1 is the harmonic mean of Precision and Recall (0 when both are 0).
	F1 float64
}

// newRougeScore builds a score from precision and recall, with F1 their
// harmonic mean (0 when both are 0).
func newRougeScore(p, r float64) RougeScore {
	f := 0.0
	if p+r > 0 {
		f = 2 * p * r / (p + r)
	}
	return RougeScore{Precision: p, Recall: r, F1: f}
}

// RougeResult gathers the usual ROUGE-1, ROUGE-2 and ROUGE-L scores.
type RougeResult struct {
	// Rouge1 is ROUGE-N on unigrams.
	Rouge1 RougeScore
	// Rouge2 is ROUGE-N on bigrams.
	Rouge2 RougeScore
	// RougeL is sentence-level ROUGE-L.
	RougeL RougeScore
}

// RougeTokenize splits text the way the rouge-score package does without a
// stemmer: lowercase, then every maximal run of the ASCII characters a-z and
// 0-9 is a token and everything else separates tokens (so "don't" gives "don"
// and "t", and letters outside ASCII are dropped).
func RougeTokenize(text string) []string {
	text = pyLower(text)
	return strings.FieldsFunc(text, func(r rune) bool {
		return !((r >= 'a' && r <= 'z') || (r >= '0' && r <= '9'))
	})
}

// Rouge returns ROUGE-1, ROUGE-2 and ROUGE-L of candidate against reference
// after RougeTokenize.
func Rouge(reference, candidate string) RougeResult {
	ref, cand := RougeTokenize(reference), RougeTokenize(candidate)
	r1, _ := RougeNTokens(ref, cand, 1)
	r2, _ := RougeNTokens(ref, cand, 2)
	return RougeResult{Rouge1: r1, Rouge2: r2, RougeL: RougeLTokens(ref, cand)}
}

// MeanRouge averages Rouge over pairs of references and candidates (the plain
// mean; rouge-score's BootstrapAggregator reports a bootstrap estimate of the
// same mean).
func MeanRouge(references, candidates []string) (RougeResult, error) {
	if len(references) != len(candidates) {
		return RougeResult{}, errors.Errorf("ROUGE: %d references for %d candidates", len(references), len(candidates))
	}
	if len(references) == 0 {
		return RougeResult{}, errors.New("ROUGE: no pairs")
	}
	var sum [3]RougeScore
	for i := range references {
		r := Rouge(references[i], candidates[i])
		for k, s := range []RougeScore{r.Rouge1, r.Rouge2, r.RougeL} {
			sum[k].Precision += s.Precision
			sum[k].Recall += s.Recall
			sum[k].F1 += s.F1
		}
	}
	n := float64(len(references))
	for k := range sum {
		sum[k].Precision /= n
		sum[k].Recall /= n
		sum[k].F1 /= n
	}
	return RougeResult{Rouge1: sum[0], Rouge2: sum[1], RougeL: sum[2]}, nil
}

// RougeN returns ROUGE-N of candidate against reference after RougeTokenize.
func RougeN(reference, candidate string, n int) (RougeScore, error) {
	return RougeNTokens(RougeTokenize(reference), RougeTokenize(candidate), n)
}

// RougeNTokens returns ROUGE-N on token lists: the overlap is the number of
// n-grams in common, counted with multiplicity (min of the two counts);
// precision divides it by the candidate's n-gram count and recall by the
// reference's (each taken as at least 1, as rouge-score does).
func RougeNTokens(reference, candidate []string, n int) (RougeScore, error) {
	if n < 1 {
		return RougeScore{}, errors.Errorf("ROUGE-N: order %d is not positive", n)
	}
	v := make(vocab)
	refCounts := countNgrams(v.ids(reference), n)
	candCounts := countNgrams(v.ids(candidate), n)
	overlap, refTotal, candTotal := 0, 0, 0
	for k, c := range refCounts {
		refTotal += c
		overlap += min(c, candCounts[k])
	}
	for _, c := range candCounts {
		candTotal += c
	}
	p := float64(overlap) / float64(max(candTotal, 1))
	r := float64(overlap) / float64(max(refTotal, 1))
	return newRougeScore(p, r), nil
}

// RougeL returns ROUGE-L of candidate against reference after RougeTokenize.
func RougeL(reference, candidate string) RougeScore {
	return RougeLTokens(RougeTokenize(reference), RougeTokenize(candidate))
}

// RougeLTokens returns sentence-level ROUGE-L (Lin 2004, section 3.1): with
// LCS the length of a longest common subsequence, precision is
// LCS/len(candidate), recall LCS/len(reference) and F1 their harmonic mean
// (beta = 1, as rouge-score). Either side empty gives all zeros.
func RougeLTokens(reference, candidate []string) RougeScore {
	if len(reference) == 0 || len(candidate) == 0 {
		return RougeScore{}
	}
	l := lcsLength(reference, candidate)
	return newRougeScore(float64(l)/float64(len(candidate)), float64(l)/float64(len(reference)))
}

// RougeLsum returns summary-level ROUGE-L (Lin 2004, section 3.2) on texts
// whose sentences are separated by newlines, as rouge-score's "rougeLsum":
// for each reference sentence, the union of its LCS with every candidate
// sentence counts as hits, each token being counted at most as often as it
// occurs in both summaries; recall is hits over the reference words and
// precision hits over the candidate words.
func RougeLsum(reference, candidate string) RougeScore {
	return RougeLsumTokens(rougeSentences(reference), rougeSentences(candidate))
}

// rougeSentences splits text on newlines, drops empty lines and tokenises
// each with RougeTokenize.
func rougeSentences(text string) [][]string {
	var out [][]string
	for _, s := range strings.Split(text, "\n") {
		if s != "" {
			out = append(out, RougeTokenize(s))
		}
	}
	return out
}

// RougeLsumTokens is RougeLsum on sentences already split into tokens.
func RougeLsumTokens(reference, candidate [][]string) RougeScore {
	m, n := 0, 0
	refCounts := map[string]int{}
	candCounts := map[string]int{}
	for _, s := range reference {
		m += len(s)
		for _, t := range s {
			refCounts[t]++
		}
	}
	for _, s := range candidate {
		n += len(s)
		for _, t := range s {
			candCounts[t]++
		}
	}
	if m == 0 || n == 0 {
		return RougeScore{}
	}
	hits := 0
	for _, r := range reference {
		union := map[int]bool{}
		for _, c := range candidate {
			for _, i := range lcsIndices(r, c) {
				union[i] = true
			}
		}
		for _, i := range slices.Sorted(maps.Keys(union)) {
			t := r[i]
			if candCounts[t] > 0 && refCounts[t] > 0 {
				hits++
				candCounts[t]--
				refCounts[t]--
			}
		}
	}
	return newRougeScore(float64(hits)/float64(n), float64(hits)/float64(m))
}

// lcsTable returns the dynamic-programming table of LCS lengths of the
// prefixes of a and b: t[i][j] = LCS(a[:i], b[:j]).
func lcsTable(a, b []string) [][]int {
	t := make([][]int, len(a)+1)
	for i := range t {
		t[i] = make([]int, len(b)+1)
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			if a[i-1] == b[j-1] {
				t[i][j] = t[i-1][j-1] + 1
			} else {
				t[i][j] = max(t[i-1][j], t[i][j-1])
			}
		}
	}
	return t
}

// lcsLength returns the length of a longest common subsequence of a and b
// using two rows of the table.
func lcsLength(a, b []string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			if a[i-1] == b[j-1] {
				cur[j] = prev[j-1] + 1
			} else {
				cur[j] = max(prev[j], cur[j-1])
			}
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// lcsIndices returns the positions in ref of one longest common subsequence
// with can, in increasing order. Walking back from the end, a match is taken
// whenever the tokens agree; otherwise the walk moves left in can when that
// keeps a strictly longer LCS and up in ref otherwise (rouge-score's choice
// among equally long subsequences, which the union of Lin's section 3.2
// depends on).
func lcsIndices(ref, can []string) []int {
	t := lcsTable(ref, can)
	i, j := len(ref), len(can)
	var rev []int
	for i > 0 && j > 0 {
		switch {
		case ref[i-1] == can[j-1]:
			rev = append(rev, i-1)
			i--
			j--
		case t[i][j-1] > t[i-1][j]:
			j--
		default:
			i--
		}
	}
	for a, b := 0, len(rev)-1; a < b; a, b = a+1, b-1 {
		rev[a], rev[b] = rev[b], rev[a]
	}
	return rev
}
