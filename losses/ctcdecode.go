package losses

import (
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
)

// CTCHypothesis is one labelling found by CTCBeamSearch with its log-probability
// log p(labels | frames), summed over every path that collapses to it (as far as
// the beam kept those paths).
type CTCHypothesis struct {
	Labels  []int
	LogProb float64
}

// CTCGreedyDecode returns the best-path decoding of one sequence: the most
// probable class of every frame (the lowest index on ties), repeats merged,
// blanks dropped (Graves et al. 2006, section 3.2). logProbs is the row-major
// (frames, classes) matrix of log-probabilities (or scores: only their order
// matters).
func CTCGreedyDecode[F graph.Float](logProbs []F, frames, classes, blank int) ([]int, error) {
	if err := checkDecode(len(logProbs), frames, classes, blank); err != nil {
		return nil, err
	}
	return greedy(logProbs, 0, classes, frames, classes, blank), nil
}

func checkDecode(n, frames, classes, blank int) error {
	if frames < 0 || classes <= 0 || n != frames*classes {
		return errors.Errorf("ctc decode: %d log-probabilities for %d frames of %d classes", n, frames, classes)
	}
	if blank < 0 || blank >= classes {
		return errors.Errorf("ctc decode: blank %d outside [0, %d)", blank, classes)
	}
	return nil
}

// greedy decodes frames of lp starting at base, stride apart.
func greedy[F graph.Float](lp []F, base, stride, frames, classes, blank int) []int {
	out := []int{}
	prev := -1
	for t := range frames {
		row := lp[base+t*stride : base+t*stride+classes]
		best := 0
		for c, v := range row {
			if v > row[best] {
				best = c
			}
		}
		if best != prev && best != blank {
			out = append(out, best)
		}
		prev = best
	}
	return out
}

// beamEntry is a prefix with the log-probabilities of the paths that produce it
// and end in a blank (pb) or in its last label (pnb).
type beamEntry struct {
	labels  []int
	pb, pnb float64
}

func (e *beamEntry) total() float64 { return logAdd(e.pb, e.pnb) }

func prefixKey(labels []int) string {
	var sb strings.Builder
	for _, l := range labels {
		sb.WriteString(strconv.Itoa(l))
		sb.WriteByte(',')
	}
	return sb.String()
}

// CTCBeamSearch is the CTC prefix beam search of Hannun, Maas, Jurafsky and Ng
// ("First-Pass Large Vocabulary Continuous Speech Recognition using
// Bi-Directional Recurrent DNNs", 2014), without a language model, in log
// space. Each labelling prefix carries the probability of the paths that
// produce it ending in a blank and ending in its last label, so that a repeated
// label is extended only across a blank; after each frame the beam most
// probable prefixes are kept. It returns them, most probable first (ties
// broken by the labels, shorter and smaller first). With a beam at least as
// large as the number of distinct prefixes it is exact: each LogProb is then
// -CTCNegLogLikelihood of its labels. beam 1 is close to, but not always the
// same as, greedy decoding.
func CTCBeamSearch[F graph.Float](logProbs []F, frames, classes, blank, beam int) ([]CTCHypothesis, error) {
	if err := checkDecode(len(logProbs), frames, classes, blank); err != nil {
		return nil, err
	}
	if beam < 1 {
		return nil, errors.Errorf("ctc beam search: beam %d, want at least 1", beam)
	}
	return beamSearch(logProbs, 0, classes, frames, classes, blank, beam), nil
}

func beamSearch[F graph.Float](lp []F, base, stride, frames, classes, blank, beam int) []CTCHypothesis {
	negInf := math.Inf(-1)
	cur := []*beamEntry{{labels: []int{}, pb: 0, pnb: negInf}}
	for t := range frames {
		row := lp[base+t*stride : base+t*stride+classes]
		next := map[string]*beamEntry{}
		get := func(labels []int) *beamEntry {
			k := prefixKey(labels)
			e, ok := next[k]
			if !ok {
				e = &beamEntry{labels: labels, pb: negInf, pnb: negInf}
				next[k] = e
			}
			return e
		}
		for _, e := range cur {
			total := e.total()
			for c := range classes {
				p := float64(row[c])
				if c == blank {
					s := get(e.labels)
					s.pb = logAdd(s.pb, total+p)
					continue
				}
				n := len(e.labels)
				if n > 0 && e.labels[n-1] == c {
					// the same label again: a new label only after a blank,
					// otherwise the repeat merges into the prefix
					s := get(e.labels)
					s.pnb = logAdd(s.pnb, e.pnb+p)
					x := get(append(slices.Clip(e.labels), c))
					x.pnb = logAdd(x.pnb, e.pb+p)
					continue
				}
				x := get(append(slices.Clip(e.labels), c))
				x.pnb = logAdd(x.pnb, total+p)
			}
		}
		cur = cur[:0]
		for _, e := range next {
			if !math.IsInf(e.total(), -1) { // a prefix no path produces
				cur = append(cur, e)
			}
		}
		if len(cur) == 0 { // every class of the frame has probability 0
			return []CTCHypothesis{{Labels: []int{}, LogProb: negInf}}
		}
		sortBeam(cur)
		if len(cur) > beam {
			cur = cur[:beam]
		}
	}
	out := make([]CTCHypothesis, len(cur))
	for i, e := range cur {
		out[i] = CTCHypothesis{Labels: e.labels, LogProb: e.total()}
	}
	return out
}

// sortBeam orders entries by probability, then by labels, so that results do
// not depend on map order.
func sortBeam(es []*beamEntry) {
	sort.Slice(es, func(i, j int) bool {
		a, b := es[i].total(), es[j].total()
		if a != b {
			return a > b
		}
		if len(es[i].labels) != len(es[j].labels) {
			return len(es[i].labels) < len(es[j].labels)
		}
		return slices.Compare(es[i].labels, es[j].labels) < 0
	})
}

// CTCDecodeBatch decodes a time-major batch of log-probabilities (T, B, C),
// float32 or float64, example b over its first lengths[b] frames (nil: all T):
// greedy decoding for beam <= 1, otherwise the best labelling of
// CTCBeamSearch with that beam.
func CTCDecodeBatch(logProbs *tensor.Dense, lengths []int, blank, beam int) ([][]int, error) {
	if logProbs == nil || logProbs.Dims() != 3 {
		return nil, errors.New("ctc decode: log-probabilities must be (T, B, C)")
	}
	sh := logProbs.Shape()
	T, B, C := sh[0], sh[1], sh[2]
	if lengths != nil && len(lengths) != B {
		return nil, errors.Errorf("ctc decode: %d lengths for a batch of %d", len(lengths), B)
	}
	if err := checkDecode(T*C, T, C, blank); err != nil {
		return nil, err
	}
	out := make([][]int, B)
	decode := func(lp any) error {
		for b := range B {
			n := T
			if lengths != nil {
				n = lengths[b]
			}
			if n < 0 || n > T {
				return errors.Errorf("ctc decode: example %d: length %d outside [0, %d]", b, n, T)
			}
			switch x := lp.(type) {
			case []float32:
				out[b] = decodeOne(x, b*C, B*C, n, C, blank, beam)
			case []float64:
				out[b] = decodeOne(x, b*C, B*C, n, C, blank, beam)
			}
		}
		return nil
	}
	t := graph.Contiguous(logProbs)
	var err error
	switch t.Dtype() {
	case tensor.Float32:
		err = decode(graph.Slice[float32](t))
	case tensor.Float64:
		err = decode(graph.Slice[float64](t))
	default:
		return nil, errors.Errorf("ctc decode: dtype %v, want float32 or float64", t.Dtype())
	}
	return out, err
}

func decodeOne[F graph.Float](lp []F, base, stride, frames, classes, blank, beam int) []int {
	if beam <= 1 {
		return greedy(lp, base, stride, frames, classes, blank)
	}
	return beamSearch(lp, base, stride, frames, classes, blank, beam)[0].Labels
}
