package metrics

import (
	"math"

	"github.com/pkg/errors"
)

// nltkTiny is Python's sys.float_info.min (the smallest normal float64),
// which NLTK's SmoothingFunction.method0 puts in place of a zero precision.
const nltkTiny = 0x1p-1022

// CorpusBLEU computes corpus BLEU-4 on pre-tokenised text exactly as NLTK's
// nltk.translate.bleu_score.corpus_bleu with its defaults (uniform weights
// 0.25, no smoothing). refs[i] holds the references of hypothesis hyps[i];
// each must have at least one. The result is on a 0-1 scale.
//
// NLTK's conventions, which differ from SacreBLEU's, are kept: an order whose
// clipped matches are zero contributes log(2.2250738585072014e-308) instead of
// making the score exactly 0 (the result is then below 1e-76); each segment
// adds at least 1 to every order's denominator, even when it is shorter than
// the order; the score is exactly 0 when no unigram matches; and the brevity
// penalty is 0 for an empty corpus of hypotheses.
func CorpusBLEU(refs [][][]string, hyps [][]string) (float64, error) {
	return CorpusBLEUWeights(refs, hyps, []float64{0.25, 0.25, 0.25, 0.25})
}

// CorpusBLEUWeights is CorpusBLEU with NLTK's weights argument: weights[n-1]
// is the weight of the order-n log precision, and len(weights) sets the
// largest order.
func CorpusBLEUWeights(refs [][][]string, hyps [][]string, weights []float64) (float64, error) {
	if len(refs) != len(hyps) {
		return 0, errors.Errorf("corpus BLEU: %d reference sets for %d hypotheses", len(refs), len(hyps))
	}
	if len(hyps) == 0 {
		return 0, errors.New("corpus BLEU: no hypotheses")
	}
	if len(weights) == 0 {
		return 0, errors.New("corpus BLEU: no weights")
	}
	for n, w := range weights {
		if math.IsNaN(w) || math.IsInf(w, 0) {
			return 0, errors.Errorf("corpus BLEU: weight %d is %v", n+1, w)
		}
	}
	maxOrder := len(weights)
	num := make([]int, maxOrder)
	den := make([]int, maxOrder)
	hypLen, refLen := 0, 0
	v := make(vocab)
	for i, h := range hyps {
		if len(refs[i]) == 0 {
			return 0, errors.Errorf("corpus BLEU: hypothesis %d has no reference", i)
		}
		refIDs := make([][]uint32, len(refs[i]))
		refLens := make([]int, len(refs[i]))
		for k, r := range refs[i] {
			refIDs[k] = v.ids(r)
			refLens[k] = len(r)
		}
		hypIDs := v.ids(h)
		for n := 1; n <= maxOrder; n++ {
			m, t := clippedMatches(countNgrams(hypIDs, n), maxRefCounts(refIDs, n))
			num[n-1] += m
			den[n-1] += max(1, t)
		}
		hypLen += len(h)
		refLen += closestRefLen(len(h), refLens)
	}
	if num[0] == 0 {
		return 0, nil
	}
	var bp float64
	switch {
	case hypLen > refLen:
		bp = 1
	case hypLen == 0:
		bp = 0
	default:
		bp = math.Exp(1 - float64(refLen)/float64(hypLen))
	}
	terms := make([]float64, maxOrder)
	for n := range maxOrder {
		p := nltkTiny
		if num[n] != 0 {
			p = float64(num[n]) / float64(den[n])
		}
		terms[n] = weights[n] * math.Log(p)
	}
	return bp * math.Exp(exactSum(terms)), nil
}

// exactSum adds xs with Shewchuk's exact partial sums (the method behind
// Python's math.fsum, which NLTK uses here), then adds the partials from the
// largest down, so the result is within an ulp of the exact sum.
func exactSum(xs []float64) float64 {
	var partials []float64
	for _, x := range xs {
		j := 0
		for _, y := range partials {
			if math.Abs(x) < math.Abs(y) {
				x, y = y, x
			}
			hi := x + y
			lo := y - (hi - x)
			if lo != 0 {
				partials[j] = lo
				j++
			}
			x = hi
		}
		partials = append(partials[:j], x)
	}
	sum := 0.0
	for i := len(partials) - 1; i >= 0; i-- {
		sum += partials[i]
	}
	return sum
}
