package metrics

import (
	"fmt"
	"math"
	"strings"

	"github.com/pkg/errors"

	"github.com/triadml/triad/internal/enum"
)

// DefaultMaxOrder is the largest n-gram order of BLEU-4, the usual BLEU.
const DefaultMaxOrder = 4

// Smoothing selects how SacreBLEU treats n-gram orders with no match, as in
// sacreBLEU's smooth_method (after Chen and Cherry 2014, "A Systematic
// Comparison of Smoothing Techniques for Sentence-Level BLEU").
type Smoothing int

const (
	// SmoothExp is sacreBLEU's default, mteval-v13a's method: the k-th order
	// with no match counts as precision 1/(2^k * total). It is the zero value.
	SmoothExp Smoothing = iota
	// SmoothNone leaves unmatched orders at precision 0, so BLEU is 0.
	SmoothNone
	// SmoothFloor gives an unmatched order the precision value/total
	// (Chen and Cherry's method 1; default value 0.1).
	SmoothFloor
	// SmoothAddK adds value to the matches and totals of every order above 1
	// (method 2, after Lin and Och 2004; default value 1).
	SmoothAddK
)

// String returns sacreBLEU's name for the method.
func (s Smoothing) String() string { return enum.Name(s, "exp", "none", "floor", "add-k") }

// defaultValue is sacreBLEU's BLEU.SMOOTH_DEFAULTS entry for the method
// (floor 0.1, add-k 1), and whether the method takes a value at all.
func (s Smoothing) defaultValue() (float64, bool) {
	switch s {
	case SmoothFloor:
		return 0.1, true
	case SmoothAddK:
		return 1, true
	}
	return 0, false
}

// BLEUTokenizer selects how SacreBLEU splits segments into words.
type BLEUTokenizer int

const (
	// Tok13a is the mteval-v13a tokeniser (Tokenize13a), sacreBLEU's default.
	// It is the zero value.
	Tok13a BLEUTokenizer = iota
	// TokNone splits on whitespace only (sacreBLEU's tokenize='none').
	TokNone
)

// String returns sacreBLEU's name for the tokeniser.
func (t BLEUTokenizer) String() string { return enum.Name(t, "13a", "none") }

// EffectiveOrder selects whether BLEU averages only over the n-gram orders
// that the hypotheses have at all (sacreBLEU's effective_order).
type EffectiveOrder int

const (
	// EffectiveOrderAuto takes sacreBLEU's defaults: off for SacreBLEU (corpus
	// BLEU), on for SentenceBLEU. It is the zero value.
	EffectiveOrderAuto EffectiveOrder = iota
	// EffectiveOrderOn stops the average at the first order with no
	// hypothesis n-gram.
	EffectiveOrderOn
	// EffectiveOrderOff always averages over all orders.
	EffectiveOrderOff
)

// BLEUOptions are the settings of SacreBLEU and SentenceBLEU. The zero value
// is sacreBLEU's default: case-sensitive, 13a tokenisation, 'exp' smoothing,
// orders 1 to 4.
type BLEUOptions struct {
	// Lowercase lowercases hypotheses and references before tokenising.
	Lowercase bool
	// Tokenizer is the word splitter; the zero value is Tok13a.
	Tokenizer BLEUTokenizer
	// Smooth is the smoothing method; the zero value is SmoothExp.
	Smooth Smoothing
	// SmoothValue is the floor or k of SmoothFloor and SmoothAddK; nil takes
	// sacreBLEU's default (0.1 and 1). Other methods ignore it.
	SmoothValue *float64
	// MaxOrder is the largest n-gram order; 0 means DefaultMaxOrder.
	MaxOrder int
	// EffectiveOrder selects effective-order averaging.
	EffectiveOrder EffectiveOrder
}

// BLEUStats are BLEU's sufficient statistics, summed over segments.
type BLEUStats struct {
	// Correct[n-1] is the number of clipped matching n-grams of order n.
	Correct []int
	// Total[n-1] is the number of hypothesis n-grams of order n.
	Total []int
	// SysLen is the number of hypothesis words.
	SysLen int
	// RefLen is the effective reference length: per segment, the length of
	// the reference closest to the hypothesis length (the shorter on a tie).
	RefLen int
}

// BLEUScore is a BLEU result with the numbers sacreBLEU reports.
type BLEUScore struct {
	// Score is BLEU on a 0-100 scale.
	Score float64
	// Counts are the clipped n-gram matches per order (before any add-k).
	Counts []int
	// Totals are the hypothesis n-grams per order (before any add-k).
	Totals []int
	// Precisions are the (smoothed) n-gram precisions per order, in percent.
	Precisions []float64
	// BP is the brevity penalty.
	BP float64
	// SysLen is the number of hypothesis words.
	SysLen int
	// RefLen is the effective reference length (see BLEUStats.RefLen).
	RefLen int
	// Signature lists the settings, in sacreBLEU's format without its
	// version field, e.g. "nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp".
	Signature string
}

// Ratio returns SysLen/RefLen, or 0 when RefLen is 0.
func (s BLEUScore) Ratio() float64 {
	if s.RefLen == 0 {
		return 0
	}
	return float64(s.SysLen) / float64(s.RefLen)
}

// String renders the score as sacreBLEU prints it, for example
// "BLEU|nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp = 48.53 82.4/50.0/...
// (BP = 0.943 ratio = 0.944 hyp_len = 17 ref_len = 18)".
func (s BLEUScore) String() string {
	var b strings.Builder
	b.WriteString("BLEU")
	if s.Signature != "" {
		b.WriteString("|" + s.Signature)
	}
	fmt.Fprintf(&b, " = %.2f ", s.Score)
	for i, p := range s.Precisions {
		if i > 0 {
			b.WriteByte('/')
		}
		fmt.Fprintf(&b, "%.1f", p)
	}
	fmt.Fprintf(&b, " (BP = %.3f ratio = %.3f hyp_len = %d ref_len = %d)",
		s.BP, s.Ratio(), s.SysLen, s.RefLen)
	return b.String()
}

// SacreBLEU computes corpus BLEU on detokenised text as sacreBLEU's
// corpus_bleu does. hyps holds one segment per line; refStreams holds one or
// more reference streams, each with one reference per hypothesis (the layout
// of sacreBLEU's refs argument: refStreams[k][i] is the k-th reference of
// segment i). An empty reference string means that segment has one reference
// fewer; a segment left with none is an error. Statistics are summed over the
// corpus before precisions and brevity penalty are taken.
func SacreBLEU(hyps []string, refStreams [][]string, opts BLEUOptions) (BLEUScore, error) {
	return sacreBLEU(hyps, refStreams, opts, false)
}

// SentenceBLEU computes BLEU of one detokenised hypothesis against one or
// more references, as sacreBLEU's sentence_bleu does: the same as SacreBLEU
// on a one-segment corpus, except that EffectiveOrderAuto means on.
func SentenceBLEU(hyp string, refs []string, opts BLEUOptions) (BLEUScore, error) {
	streams := make([][]string, len(refs))
	for k, r := range refs {
		streams[k] = []string{r}
	}
	s, err := sacreBLEU([]string{hyp}, streams, opts, true)
	return s, errors.Wrap(err, "sentence BLEU")
}

func sacreBLEU(hyps []string, refStreams [][]string, opts BLEUOptions, sentence bool) (BLEUScore, error) {
	if err := opts.check(); err != nil {
		return BLEUScore{}, err
	}
	if len(hyps) == 0 {
		return BLEUScore{}, errors.New("BLEU: no hypotheses")
	}
	if len(refStreams) == 0 {
		return BLEUScore{}, errors.New("BLEU: no reference streams")
	}
	for k, s := range refStreams {
		if len(s) != len(hyps) {
			return BLEUScore{}, errors.Errorf("BLEU: reference stream %d has %d segments, want %d (one per hypothesis)",
				k, len(s), len(hyps))
		}
	}
	maxOrder := opts.maxOrder()
	stats := BLEUStats{Correct: make([]int, maxOrder), Total: make([]int, maxOrder)}
	nrefs := -2 // unset; -1 means variable
	v := make(vocab)
	refs := make([][]uint32, 0, len(refStreams))
	refLens := make([]int, 0, len(refStreams))
	for i, h := range hyps {
		refs, refLens = refs[:0], refLens[:0]
		for _, s := range refStreams {
			if s[i] == "" {
				continue
			}
			ids := v.ids(opts.tokenize(s[i]))
			refs = append(refs, ids)
			refLens = append(refLens, len(ids))
		}
		if len(refs) == 0 {
			return BLEUScore{}, errors.Errorf("BLEU: segment %d has only empty references", i)
		}
		switch {
		case nrefs == -2:
			nrefs = len(refs)
		case nrefs != len(refs):
			nrefs = -1
		}
		hypIDs := v.ids(opts.tokenize(h))
		stats.SysLen += len(hypIDs)
		stats.RefLen += closestRefLen(len(hypIDs), refLens)
		for n := 1; n <= maxOrder; n++ {
			m, t := clippedMatches(countNgrams(hypIDs, n), maxRefCounts(refs, n))
			stats.Correct[n-1] += m
			stats.Total[n-1] += t
		}
	}
	if sentence && opts.EffectiveOrder == EffectiveOrderAuto {
		opts.EffectiveOrder = EffectiveOrderOn
	}
	score, err := ComputeBLEU(stats, opts)
	if err != nil {
		return BLEUScore{}, err
	}
	score.Signature = opts.signature(nrefs)
	return score, nil
}

// ComputeBLEU turns sufficient statistics into a score, as sacreBLEU's
// BLEU.compute_bleu does. EffectiveOrderAuto means off here. The score is 0
// when no n-gram of any order matches. The geometric mean is taken over the
// precisions in percent, with log 0 taken as -9999999999 (sacreBLEU's
// utils.my_log), so a zero precision gives a score of 0.
func ComputeBLEU(stats BLEUStats, opts BLEUOptions) (BLEUScore, error) {
	if err := opts.check(); err != nil {
		return BLEUScore{}, err
	}
	maxOrder := opts.maxOrder()
	if len(stats.Correct) != maxOrder || len(stats.Total) != maxOrder {
		return BLEUScore{}, errors.Errorf("BLEU: statistics have %d and %d orders, want %d",
			len(stats.Correct), len(stats.Total), maxOrder)
	}
	if stats.SysLen < 0 || stats.RefLen < 0 {
		return BLEUScore{}, errors.Errorf("BLEU: negative length (sys %d, ref %d)", stats.SysLen, stats.RefLen)
	}
	for n := range maxOrder {
		if stats.Correct[n] < 0 || stats.Total[n] < stats.Correct[n] {
			return BLEUScore{}, errors.Errorf("BLEU: order %d has %d matches of %d n-grams", n+1, stats.Correct[n], stats.Total[n])
		}
	}
	res := BLEUScore{
		Counts:     append([]int(nil), stats.Correct...),
		Totals:     append([]int(nil), stats.Total...),
		Precisions: make([]float64, maxOrder),
		SysLen:     stats.SysLen,
		RefLen:     stats.RefLen,
		BP:         1,
	}
	if stats.SysLen < stats.RefLen {
		if stats.SysLen > 0 {
			res.BP = math.Exp(1 - float64(stats.RefLen)/float64(stats.SysLen))
		} else {
			res.BP = 0
		}
	}
	anyMatch := false
	for _, c := range stats.Correct {
		if c != 0 {
			anyMatch = true
		}
	}
	if !anyMatch {
		return res, nil
	}
	value, _ := opts.Smooth.defaultValue()
	if opts.SmoothValue != nil {
		value = *opts.SmoothValue
	}
	effective := opts.EffectiveOrder == EffectiveOrderOn
	smoothExp := 1.0
	effOrder := maxOrder
	for n := 1; n <= maxOrder; n++ {
		correct, total := float64(stats.Correct[n-1]), float64(stats.Total[n-1])
		if opts.Smooth == SmoothAddK && n > 1 {
			correct += value
			total += value
		}
		if total == 0 {
			break
		}
		if effective {
			effOrder = n
		}
		switch {
		case correct != 0:
			res.Precisions[n-1] = 100 * correct / total
		case opts.Smooth == SmoothExp:
			smoothExp *= 2
			res.Precisions[n-1] = 100 / (smoothExp * total)
		case opts.Smooth == SmoothFloor:
			res.Precisions[n-1] = 100 * value / total
		}
	}
	sum := 0.0
	for _, p := range res.Precisions[:effOrder] {
		sum += sacreLog(p)
	}
	res.Score = res.BP * math.Exp(sum/float64(effOrder))
	return res, nil
}

// sacreLog is sacreBLEU's utils.my_log: log x, or -9999999999 for x <= 0.
func sacreLog(x float64) float64 {
	if x <= 0 {
		return -9999999999
	}
	return math.Log(x)
}

func (o BLEUOptions) maxOrder() int {
	if o.MaxOrder == 0 {
		return DefaultMaxOrder
	}
	return o.MaxOrder
}

func (o BLEUOptions) check() error {
	if o.MaxOrder < 0 {
		return errors.Errorf("BLEU: negative MaxOrder %d", o.MaxOrder)
	}
	if o.Smooth < SmoothExp || o.Smooth > SmoothAddK {
		return errors.Errorf("BLEU: unknown smoothing %d", int(o.Smooth))
	}
	if o.Tokenizer < Tok13a || o.Tokenizer > TokNone {
		return errors.Errorf("BLEU: unknown tokenizer %d", int(o.Tokenizer))
	}
	if o.EffectiveOrder < EffectiveOrderAuto || o.EffectiveOrder > EffectiveOrderOff {
		return errors.Errorf("BLEU: unknown effective-order setting %d", int(o.EffectiveOrder))
	}
	if o.SmoothValue != nil && (math.IsNaN(*o.SmoothValue) || *o.SmoothValue < 0) {
		return errors.Errorf("BLEU: smoothing value %v is not a non-negative number", *o.SmoothValue)
	}
	return nil
}

// tokenize applies sacreBLEU's segment preprocessing: optional lowercasing,
// removal of trailing whitespace, then the tokeniser.
func (o BLEUOptions) tokenize(s string) []string {
	if o.Lowercase {
		s = pyLower(s)
	}
	s = rstripPy(s)
	if o.Tokenizer == TokNone {
		return splitPyWhitespace(s)
	}
	return Tokenize13a(s)
}

// signature formats the settings as sacreBLEU's BLEUSignature does (fields
// nrefs, case, eff, tok, smooth; the version field is left out).
func (o BLEUOptions) signature(nrefs int) string {
	n := fmt.Sprint(nrefs)
	if nrefs < 0 {
		n = "var"
	}
	c := "mixed"
	if o.Lowercase {
		c = "lc"
	}
	eff := "no"
	if o.EffectiveOrder == EffectiveOrderOn {
		eff = "yes"
	}
	smooth := o.Smooth.String()
	if def, takes := o.Smooth.defaultValue(); takes {
		if o.SmoothValue != nil {
			def = *o.SmoothValue
		}
		smooth += fmt.Sprintf("[%.2f]", def)
	}
	return fmt.Sprintf("nrefs:%s|case:%s|eff:%s|tok:%s|smooth:%s", n, c, eff, o.Tokenizer, smooth)
}
