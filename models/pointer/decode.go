package pointer

import (
	"math"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/models/decode"
	"github.com/triadml/triad/models/seq2seq"
)

// Decoder runs a trained Model one token at a time: it implements
// decode.StepModel, so decode.Greedy and decode.BeamSearch decode with it.
// Sources and the tokens it returns are extended ids: the log-probabilities of
// a step cover the vocabulary and, with Copy, the batch's out-of-vocabulary
// source words (V + the largest number of them in one source; columns a row's
// source lacks are -Inf). A token of V or more fed back is embedded as Unk.
//
// It is a seq2seq.Decoder over the model's graphs: an encoder graph per (batch,
// source length) and a one-step graph per (rows, source length), compiled on
// first use, all sharing the store's weights; source lengths are padded up to a
// multiple of Bucket.
type Decoder struct {
	*seq2seq.Decoder
	Model *Model
}

// NewDecoder returns a decoder over the model's weights in s.
func (m *Model) NewDecoder(s *graph.Store) *Decoder {
	return &Decoder{Decoder: seq2seq.NewDecoder("pointer", stepNet{m: m, dtype: s.Dtype()}, s), Model: m}
}

// decodeState is the recurrent decoder's state with each row's extended source
// ids.
type decodeState struct {
	inner *seq2seq.State
	src   [][]int // each row's extended source ids
	width int     // columns of the log-probabilities
}

func (s *decodeState) Rows() int { return s.inner.Rows() }

func (s *decodeState) Select(rows []int) (decode.State, error) {
	in, err := s.inner.Select(rows)
	if err != nil {
		return nil, err
	}
	out := &decodeState{inner: in.(*seq2seq.State), src: make([][]int, len(rows)), width: s.width}
	for i, r := range rows {
		out.src[i] = s.src[r]
	}
	return out, nil
}

// Encode implements decode.StepModel: srcs are extended ids.
func (d *Decoder) Encode(srcs [][]int) (decode.State, error) {
	in, err := d.Start(srcs)
	if err != nil {
		return nil, err
	}
	st := &decodeState{inner: in, src: make([][]int, len(srcs)), width: d.Model.Config.Vocab}
	for i, s := range srcs {
		st.src[i] = append([]int(nil), s...)
		if d.Model.Config.Copy {
			for _, id := range s {
				st.width = max(st.width, id+1)
			}
		}
	}
	return st, nil
}

// Step implements decode.StepModel.
func (d *Decoder) Step(state decode.State, tokens []int) (decode.StepOutput, decode.State, error) {
	st, ok := state.(*decodeState)
	if !ok {
		return decode.StepOutput{}, nil, errors.Errorf("pointer step: state of type %T", state)
	}
	ids := make([]int, len(tokens))
	for i, t := range tokens {
		if t < 0 {
			return decode.StepOutput{}, nil, errors.Errorf("pointer step: negative token %d in row %d", t, i)
		}
		ids[i] = d.Model.vocabID(t)
	}
	out, inner, p, err := d.Advance(st.inner, ids)
	if err != nil {
		return decode.StepOutput{}, nil, err
	}
	if d.Model.Config.Copy {
		zt, _ := p.Output("z")
		z := graph.Float64s(zt)
		for r := range out.LogProbs {
			out.LogProbs[r] = MixLogProbs(out.LogProbs[r], out.Weights[r], st.src[r], z[r], st.width)
		}
	}
	return out, &decodeState{inner: inner, src: st.src, width: st.width}, nil
}

var _ decode.StepModel = (*Decoder)(nil)

// stepNet is a Model as a seq2seq.Decoder runs it.
type stepNet struct {
	m     *Model
	dtype tensor.Dtype
}

// Layout implements seq2seq.Net.
func (n stepNet) Layout() seq2seq.Layout {
	return seq2seq.Layout{Memory: n.m.Config.DecoderWidth(), Keys: n.m.Config.AttnDim, StateFirst: n.m.Config.StateFirst}
}

// Sources implements seq2seq.Net: srcs are extended ids.
func (n stepNet) Sources(srcs [][]int, srcLen int) (map[string]*tensor.Dense, *tensor.Dense, error) {
	a, err := n.m.arrange(srcs, nil, len(srcs), srcLen, 1)
	if err != nil {
		return nil, nil, err
	}
	return a.sourceFeeds(n.dtype), graph.FromFloat64s(n.dtype, a.srcAdd, a.b, srcLen), nil
}

// BuildEncoder implements seq2seq.Net.
func (n stepNet) BuildEncoder(b graph.SaltedBuilder, batch, srcLen int) (memory, keys *G.Node, init seq2seq.StepState) {
	e := n.m.encode(b, batch, srcLen)
	return e.memory, e.keys, seq2seq.StepState{H: e.h0}
}

// BuildStep implements seq2seq.Net; with Copy it declares the output "z", the
// logit of p_gen.
func (n stepNet) BuildStep(b graph.SaltedBuilder, prev *G.Node, st seq2seq.StepState, memory, keys, mask *G.Node) (logits, weights *G.Node, next seq2seq.StepState) {
	next, feat, weights := n.m.step().Build(b.Builder, prev, st, memory, keys, mask)
	if b.Err() != nil {
		return nil, nil, next
	}
	logits, z := n.m.head(b.Builder, feat)
	b.Output("z", z)
	return logits, weights, next
}

// MixLogProbs returns the log-probabilities of the pointer-generator's final
// distribution over width >= V extended ids, from the vocabulary's
// log-probabilities logPVocab (V), the attention weights attn over the source
// positions, the source's extended ids src (one per position; extra positions
// of attn, padding, must have weight 0) and the logit z of p_gen:
// log(p_gen P_vocab(w) + (1 - p_gen) sum_{i: src_i = w} a_i), -Inf where both
// terms are 0. It is what the Mixture kernel computes for one target.
func MixLogProbs(logPVocab, attn []float64, src []int, z float64, width int) []float64 {
	v := len(logPVocab)
	out := make([]float64, max(width, v)) // the copy mass of each id, then its log-probability
	for i, id := range src {
		if i < len(attn) && id >= 0 && id < len(out) {
			out[id] += attn[i]
		}
	}
	logG, logC := logSigmoid(z), logSigmoid(-z)
	for w, mass := range out {
		a := math.Inf(-1)
		if w < v {
			a = logG + logPVocab[w]
		}
		c := math.Inf(-1)
		if mass > 0 {
			c = logC + math.Log(mass)
		}
		out[w] = logAddExp(a, c)
	}
	return out
}
