package metrics

import (
	"github.com/pkg/errors"
)

// Alignment counts the operations of a minimum-cost Levenshtein alignment of
// a hypothesis to a reference, each substitution, insertion and deletion
// costing 1 and each hit 0.
type Alignment struct {
	// Hits are reference items matched by an equal hypothesis item.
	Hits int
	// Substitutions are reference items matched by a different item.
	Substitutions int
	// Deletions are reference items the hypothesis lacks.
	Deletions int
	// Insertions are hypothesis items with no reference counterpart.
	Insertions int
}

// Errors returns the edit distance, Substitutions+Deletions+Insertions.
func (a Alignment) Errors() int { return a.Substitutions + a.Deletions + a.Insertions }

// RefLen returns the reference length, Hits+Substitutions+Deletions.
func (a Alignment) RefLen() int { return a.Hits + a.Substitutions + a.Deletions }

// HypLen returns the hypothesis length, Hits+Substitutions+Insertions.
func (a Alignment) HypLen() int { return a.Hits + a.Substitutions + a.Insertions }

// add returns the sum of two alignments' counts.
func (a Alignment) add(b Alignment) Alignment {
	return Alignment{
		Hits:          a.Hits + b.Hits,
		Substitutions: a.Substitutions + b.Substitutions,
		Deletions:     a.Deletions + b.Deletions,
		Insertions:    a.Insertions + b.Insertions,
	}
}

// EditDistance returns the Levenshtein distance between ref and hyp: the
// least number of substitutions, insertions and deletions that turn ref into
// hyp. It uses O(len(hyp)) memory.
func EditDistance[T comparable](ref, hyp []T) int {
	prev := make([]int, len(hyp)+1)
	cur := make([]int, len(hyp)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ref); i++ {
		cur[0] = i
		for j := 1; j <= len(hyp); j++ {
			sub := prev[j-1]
			if ref[i-1] != hyp[j-1] {
				sub++
			}
			cur[j] = min(sub, prev[j]+1, cur[j-1]+1)
		}
		prev, cur = cur, prev
	}
	return prev[len(hyp)]
}

// Align returns the operation counts of a minimum-cost alignment of hyp to
// ref. Several alignments can share the minimum cost; walking back from the
// end, Align prefers a hit or substitution, then a deletion, then an
// insertion, so its counts are deterministic. The total Errors() always
// equals EditDistance(ref, hyp). It uses O(len(ref)*len(hyp)) memory.
func Align[T comparable](ref, hyp []T) Alignment {
	n, m := len(ref), len(hyp)
	w := m + 1
	d := make([]int32, (n+1)*w)
	for j := 0; j <= m; j++ {
		d[j] = int32(j)
	}
	for i := 1; i <= n; i++ {
		d[i*w] = int32(i)
		for j := 1; j <= m; j++ {
			sub := d[(i-1)*w+j-1]
			if ref[i-1] != hyp[j-1] {
				sub++
			}
			d[i*w+j] = min(sub, d[(i-1)*w+j]+1, d[i*w+j-1]+1)
		}
	}
	var a Alignment
	i, j := n, m
	for i > 0 || j > 0 {
		c := d[i*w+j]
		switch {
		case i > 0 && j > 0 && ref[i-1] == hyp[j-1] && c == d[(i-1)*w+j-1]:
			a.Hits++
			i--
			j--
		case i > 0 && j > 0 && ref[i-1] != hyp[j-1] && c == d[(i-1)*w+j-1]+1:
			a.Substitutions++
			i--
			j--
		case i > 0 && c == d[(i-1)*w+j]+1:
			a.Deletions++
			i--
		default:
			a.Insertions++
			j--
		}
	}
	return a
}

// ErrorRate returns the corpus error rate of hyps against refs: the summed
// edit distances divided by the summed reference lengths (so long segments
// weigh more than short ones), with the summed alignment counts. It can
// exceed 1 when hypotheses insert much. The summed reference length must be
// positive.
func ErrorRate[T comparable](refs, hyps [][]T) (float64, Alignment, error) {
	if len(refs) != len(hyps) {
		return 0, Alignment{}, errors.Errorf("error rate: %d references for %d hypotheses", len(refs), len(hyps))
	}
	var total Alignment
	for i := range refs {
		total = total.add(Align(refs[i], hyps[i]))
	}
	if total.RefLen() == 0 {
		return 0, total, errors.New("error rate: the references are empty")
	}
	return float64(total.Errors()) / float64(total.RefLen()), total, nil
}

// WER returns the word error rate of hyps against refs, words being split on
// whitespace (as Python's str.split()).
func WER(refs, hyps []string) (float64, error) {
	return splitRate("WER", refs, hyps, splitPyWhitespace)
}

// CER returns the character error rate of hyps against refs over Unicode code
// points, spaces included.
func CER(refs, hyps []string) (float64, error) {
	return splitRate("CER", refs, hyps, func(s string) []rune { return []rune(s) })
}

// splitRate is the ErrorRate of refs and hyps split into units by split;
// errors start with name.
func splitRate[T comparable](name string, refs, hyps []string, split func(string) []T) (float64, error) {
	if len(refs) != len(hyps) {
		return 0, errors.Errorf("%s: %d references for %d hypotheses", name, len(refs), len(hyps))
	}
	r := make([][]T, len(refs))
	h := make([][]T, len(hyps))
	for i := range refs {
		r[i], h[i] = split(refs[i]), split(hyps[i])
	}
	rate, _, err := ErrorRate(r, h)
	return rate, errors.Wrap(err, name)
}
