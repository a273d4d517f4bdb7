package batch

import (
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/pkg/errors"
)

// ParseInts reads a comma-separated list of positive integers ("" and blank
// items are skipped); name names the setting in the error.
func ParseInts(name, s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n <= 0 {
			return nil, errors.Errorf("%s: %q is not a positive integer", name, f)
		}
		out = append(out, n)
	}
	return out, nil
}

// ParseLengths reads bucket lengths such as "16,32,64": positive and strictly
// ascending ("" gives none, for automatic buckets).
func ParseLengths(s string) ([]int, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 || (len(out) > 0 && n <= out[len(out)-1]) {
			return nil, errors.Errorf("buckets %q: want ascending positive lengths such as 16,32,64", s)
		}
		out = append(out, n)
	}
	return out, nil
}

// ParseLengthSet reads positive lengths in any order, sorted and without repeats.
func ParseLengthSet(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, errors.Errorf("buckets %q: %q is not a positive length", s, f)
		}
		out = append(out, n)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// ParseShapes reads source:target bucket shapes such as "24:10,32:12,64:24",
// ascending in both lengths, targets above 1 (the end token included); "" gives
// none, for automatic buckets.
func ParseShapes(s string) ([]Shape, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []Shape
	for _, f := range strings.Split(s, ",") {
		parts := strings.Split(strings.TrimSpace(f), ":")
		var sh Shape
		var err1, err2 error
		if len(parts) == 2 {
			sh.Src, err1 = strconv.Atoi(parts[0])
			sh.Tgt, err2 = strconv.Atoi(parts[1])
		}
		if len(parts) != 2 || err1 != nil || err2 != nil || sh.Src <= 0 || sh.Tgt <= 1 ||
			(len(out) > 0 && (sh.Src <= out[len(out)-1].Src || sh.Tgt <= out[len(out)-1].Tgt)) {
			return nil, errors.Errorf("buckets %q: want ascending source:target lengths such as 24:10,32:12,64:24 (target lengths above 1, EOS included)", s)
		}
		out = append(out, sh)
	}
	return out, nil
}

// quantile returns the q-quantile of v (nearest rank below), rounded up to a
// multiple of step.
func quantile(v []int, q float64, step int) int {
	s := slices.Clone(v)
	slices.Sort(s)
	x := s[int(q*float64(len(s)-1))]
	return (x + step - 1) / step * step
}

// MedianBuckets returns bucket lengths for sequences of the given lengths: the
// median and the 90th percentile rounded up to a multiple of 4, then the longest,
// so that most batches pad little and none is cut.
func MedianBuckets(lengths []int) []int {
	longest := slices.Max(lengths)
	var out []int
	for _, q := range []float64{0.5, 0.9} {
		b := quantile(lengths, q, 4)
		if b < longest && (len(out) == 0 || b > out[len(out)-1]) {
			out = append(out, b)
		}
	}
	return append(out, longest)
}

// PairBuckets returns source:target bucket shapes for pairs of the given lengths:
// the 50th, 80th and 95th percentiles (sources rounded up to a multiple of 4,
// targets at least 2) while both stay below the longest, then the longest pair
// lengths.
func PairBuckets(src, tgt []int) []Shape {
	longest := Shape{Src: quantile(src, 1, 1), Tgt: quantile(tgt, 1, 1)}
	var out []Shape
	for _, q := range []float64{0.5, 0.8, 0.95} {
		s := Shape{Src: quantile(src, q, 4), Tgt: max(quantile(tgt, q, 1), 2)}
		if s.Src >= longest.Src || s.Tgt >= longest.Tgt {
			break
		}
		if len(out) == 0 || (s.Src > out[len(out)-1].Src && s.Tgt > out[len(out)-1].Tgt) {
			out = append(out, s)
		}
	}
	return append(out, longest)
}

// SpreadBuckets returns n bucket bounds for pairs of the given lengths, spread
// over the quantiles up to the 90th, then the 98th and the longest (n 1: the
// longest; n 2: the 90th and the longest), each rounded up to an even length and
// at least 2 beyond the previous bound; the last bucket holds the longest pairs.
func SpreadBuckets(srcLens, tgtLens []int, n int) (src, tgt []int) {
	evenQuantile := func(lens []int, q float64) int {
		s := slices.Clone(lens)
		slices.Sort(s)
		v := s[int(math.Ceil(q*float64(len(s)-1)))]
		return (v + 1) / 2 * 2
	}
	var qs []float64
	switch {
	case n == 1:
		qs = []float64{1}
	case n == 2:
		qs = []float64{0.9, 1}
	default:
		for k := 1; k <= n-2; k++ {
			qs = append(qs, 0.9*float64(k)/float64(n-2))
		}
		qs = append(qs, 0.98, 1)
	}
	for _, q := range qs {
		s, t := evenQuantile(srcLens, q), evenQuantile(tgtLens, q)
		if len(src) > 0 {
			ls, lt := src[len(src)-1], tgt[len(tgt)-1]
			if s <= ls && t <= lt {
				continue
			}
			s, t = max(s, ls+2), max(t, lt+2)
		}
		src, tgt = append(src, s), append(tgt, t)
	}
	src[len(src)-1], tgt[len(tgt)-1] = max(src[len(src)-1], slices.Max(srcLens)), max(tgt[len(tgt)-1], slices.Max(tgtLens))
	return src, tgt
}
