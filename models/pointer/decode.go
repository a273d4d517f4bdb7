package pointer

import (
	"math"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/models/attention"
)

// Decoder runs a trained Model one token at a time: it implements
// attention.StepModel, so attention.Greedy and attention.BeamSearch decode with
// it. Sources and the tokens it returns are extended ids: the log-probabilities
// of a step cover the vocabulary and, with Copy, the batch's out-of-vocabulary
// source words (V + the largest number of them in one source; columns a row's
// source lacks are -Inf). A token of V or more fed back is embedded as Unk.
//
// It compiles an encoder graph per (batch, source length) and a one-step graph
// per (rows, source length) on first use, all sharing the store's weights;
// source lengths are padded up to a multiple of Bucket.
type Decoder struct {
	Model  *Model
	Store  *graph.Store
	Bucket int
	enc    map[[2]int]graph.SaltedProgram
	steps  map[[2]int]graph.SaltedProgram
}

// NewDecoder returns a decoder over the model's weights in s.
func (m *Model) NewDecoder(s *graph.Store) *Decoder {
	return &Decoder{Model: m, Store: s, Bucket: 8, enc: map[[2]int]graph.SaltedProgram{}, steps: map[[2]int]graph.SaltedProgram{}}
}

// Close releases the compiled programs.
func (d *Decoder) Close() error {
	var first error
	for _, m := range []map[[2]int]graph.SaltedProgram{d.enc, d.steps} {
		for k, p := range m {
			if err := p.Close(); err != nil && first == nil {
				first = err
			}
			delete(m, k)
		}
	}
	return first
}

// decodeState is the per-row state of decoding.
type decodeState struct {
	memory, keys, mask, h *tensor.Dense
	ctx                   *tensor.Dense // the previous context (StateFirst only)
	src                   [][]int       // each row's extended source ids
	width                 int           // columns of the log-probabilities
}

func (s *decodeState) Rows() int { return s.h.Shape()[0] }

func (s *decodeState) Select(rows []int) (attention.DecodeState, error) {
	out := &decodeState{width: s.width}
	var err error
	for _, p := range []struct{ dst, src **tensor.Dense }{{&out.memory, &s.memory}, {&out.keys, &s.keys}, {&out.mask, &s.mask}, {&out.h, &s.h}, {&out.ctx, &s.ctx}} {
		if err == nil && *p.src != nil {
			*p.dst, err = graph.SelectRows(*p.src, rows)
		}
	}
	if err != nil {
		return nil, err
	}
	out.src = make([][]int, len(rows))
	for i, r := range rows {
		out.src[i] = s.src[r]
	}
	return out, nil
}

func (d *Decoder) encoder(batch, srcLen int) (graph.SaltedProgram, error) {
	key := [2]int{batch, srcLen}
	if p, ok := d.enc[key]; ok {
		return p, nil
	}
	p, err := graph.CompileSalted(func(b graph.SaltedBuilder) (*graph.Program, error) {
		b.Builder = graph.NewBuilder(d.Store, graph.Eval)
		e := d.Model.encode(b, batch, srcLen)
		if b.Err() != nil {
			return nil, b.Err()
		}
		b.Output("memory", e.memory)
		b.Output("keys", e.keys)
		b.Output("h0", e.h0)
		return b.Compile(nil)
	})
	if err != nil {
		return p, errors.Wrap(err, "pointer encoder")
	}
	d.enc[key] = p
	return p, nil
}

func (d *Decoder) stepper(rows, srcLen int) (graph.SaltedProgram, error) {
	key := [2]int{rows, srcLen}
	if p, ok := d.steps[key]; ok {
		return p, nil
	}
	m := d.Model
	hd := m.Config.DecoderWidth()
	dt := d.Store.Dtype()
	p, err := graph.CompileSalted(func(b graph.SaltedBuilder) (*graph.Program, error) {
		b.Builder = graph.NewBuilder(d.Store, graph.Eval)
		prev := b.In("token", tensor.Int, rows)
		h := b.In("h", dt, rows, hd)
		memory := b.In("memory", dt, rows, srcLen, hd)
		keys := b.In("keys", dt, rows, srcLen, m.Config.AttnDim)
		mask := b.In("mask", dt, rows, srcLen)
		var ctxPrev *G.Node
		if m.Config.StateFirst {
			ctxPrev = b.In("ctx", dt, rows, hd)
		}
		hNew, ctx, feat, w := m.step(b.Builder, prev, h, ctxPrev, memory, keys, mask)
		if b.Err() != nil {
			return nil, b.Err()
		}
		logits, z := m.head(b.Builder, feat)
		if logits == nil {
			return nil, b.Err()
		}
		b.Output("logp", b.Check(graph.LogSoftMax(logits, 1, nil)))
		b.Output("h", hNew)
		if m.Config.StateFirst {
			b.Output("ctx", ctx)
		}
		b.Output("attn", w)
		if z != nil {
			b.Output("z", z)
		}
		return b.Compile(nil)
	})
	if err != nil {
		return p, errors.Wrap(err, "pointer step")
	}
	d.steps[key] = p
	return p, nil
}

// Encode implements attention.StepModel: srcs are extended ids.
func (d *Decoder) Encode(srcs [][]int) (attention.DecodeState, error) {
	longest := 1
	for _, s := range srcs {
		longest = max(longest, len(s))
	}
	srcLen := longest
	if d.Bucket > 1 {
		srcLen = (longest + d.Bucket - 1) / d.Bucket * d.Bucket
	}
	a, err := d.Model.arrange(srcs, nil, len(srcs), srcLen, 1)
	if err != nil {
		return nil, errors.Wrap(err, "pointer encoder")
	}
	p, err := d.encoder(len(srcs), srcLen)
	if err != nil {
		return nil, err
	}
	dt := d.Store.Dtype()
	if err := p.SetInput("src", graph.FromInts(a.src, srcLen*a.b)); err != nil {
		return nil, err
	}
	if err := p.SetInput("src_keep", graph.FromFloat64s(dt, a.srcKeep, srcLen*a.b, 1)); err != nil {
		return nil, err
	}
	if err := p.Run(); err != nil {
		return nil, errors.Wrap(err, "pointer encoder")
	}
	st := &decodeState{mask: graph.FromFloat64s(dt, a.srcAdd, a.b, srcLen), width: d.Model.Config.Vocab}
	for name, dst := range map[string]**tensor.Dense{"memory": &st.memory, "keys": &st.keys, "h0": &st.h} {
		out, err := p.Output(name)
		if err != nil {
			return nil, err
		}
		*dst = out.Clone().(*tensor.Dense)
	}
	if d.Model.Config.StateFirst {
		st.ctx = graph.NewDense(dt, len(srcs), d.Model.Config.DecoderWidth()) // c_0 = 0
	}
	st.src = make([][]int, len(srcs))
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

// Step implements attention.StepModel.
func (d *Decoder) Step(state attention.DecodeState, tokens []int) (attention.StepOutput, attention.DecodeState, error) {
	st, ok := state.(*decodeState)
	if !ok {
		return attention.StepOutput{}, nil, errors.Errorf("pointer step: state of type %T", state)
	}
	rows, srcLen := st.Rows(), st.mask.Shape()[1]
	if len(tokens) != rows {
		return attention.StepOutput{}, nil, errors.Errorf("pointer step: %d tokens for %d rows", len(tokens), rows)
	}
	p, err := d.stepper(rows, srcLen)
	if err != nil {
		return attention.StepOutput{}, nil, err
	}
	ids := make([]int, rows)
	for i, t := range tokens {
		if t < 0 {
			return attention.StepOutput{}, nil, errors.Errorf("pointer step: negative token %d in row %d", t, i)
		}
		ids[i] = d.Model.vocabID(t)
	}
	set := func(name string, v *tensor.Dense) {
		if err == nil {
			err = p.SetInput(name, v)
		}
	}
	set("token", graph.FromInts(ids, rows))
	set("h", st.h)
	if st.ctx != nil {
		set("ctx", st.ctx)
	}
	set("memory", st.memory)
	set("keys", st.keys)
	set("mask", st.mask)
	if err == nil {
		err = p.Run()
	}
	if err != nil {
		return attention.StepOutput{}, nil, errors.Wrap(err, "pointer step")
	}
	next := &decodeState{memory: st.memory, keys: st.keys, mask: st.mask, src: st.src, width: st.width}
	h, _ := p.Output("h")
	next.h = h.Clone().(*tensor.Dense)
	if st.ctx != nil {
		ctx, _ := p.Output("ctx")
		next.ctx = ctx.Clone().(*tensor.Dense)
	}
	logp, _ := p.Output("logp")
	w, _ := p.Output("attn")
	out := attention.StepOutput{LogProbs: graph.Rows(logp), Weights: graph.Rows(w)}
	if d.Model.Config.Copy {
		zt, _ := p.Output("z")
		z := graph.Float64s(zt)
		for r := range out.LogProbs {
			out.LogProbs[r] = MixLogProbs(out.LogProbs[r], out.Weights[r], st.src[r], z[r], st.width)
		}
	}
	return out, next, nil
}

var _ attention.StepModel = (*Decoder)(nil)

// MixLogProbs returns the log-probabilities of the pointer-generator's final
// distribution over width >= V extended ids, from the vocabulary's
// log-probabilities logPVocab (V), the attention weights attn over the source
// positions, the source's extended ids src (one per position; extra positions
// of attn, padding, must have weight 0) and the logit z of p_gen:
// log(p_gen P_vocab(w) + (1 - p_gen) sum_{i: src_i = w} a_i), -Inf where both
// terms are 0. It is what the Mixture kernel computes for one target.
func MixLogProbs(logPVocab, attn []float64, src []int, z float64, width int) []float64 {
	v := len(logPVocab)
	out := make([]float64, max(width, v))
	copyMass := make([]float64, len(out))
	for i, id := range src {
		if i < len(attn) && id >= 0 && id < len(out) {
			copyMass[id] += attn[i]
		}
	}
	logG, logC := logSigmoid(z), logSigmoid(-z)
	for w := range out {
		a := math.Inf(-1)
		if w < v {
			a = logG + logPVocab[w]
		}
		c := math.Inf(-1)
		if copyMass[w] > 0 {
			c = logC + math.Log(copyMass[w])
		}
		out[w] = logAddExp(a, c)
	}
	return out
}

// NoRepeatNgrams wraps m so that no decoded sequence repeats one of its own
// n-grams: at each step, a token that would complete an n-gram already present
// in the row's output gets log-probability -Inf, so attention.Greedy and
// attention.BeamSearch never choose it (Paulus et al. 2018 block repeated
// trigrams, n = 3, in beam search). bos is the start token, which is not part of
// the output; eos is never blocked. The wrapper keeps each row's output so far
// in its decoding state.
func NoRepeatNgrams(m attention.StepModel, n, bos, eos int) (attention.StepModel, error) {
	if n < 1 {
		return nil, errors.Errorf("no-repeat n-grams: n = %d, want at least 1", n)
	}
	return &ngramBlocker{inner: m, n: n, bos: bos, eos: eos}, nil
}

type ngramBlocker struct {
	inner       attention.StepModel
	n, bos, eos int
}

// blockState is the inner state with each row's output so far.
type blockState struct {
	inner attention.DecodeState
	hist  [][]int
}

func (s *blockState) Rows() int { return s.inner.Rows() }

func (s *blockState) Select(rows []int) (attention.DecodeState, error) {
	in, err := s.inner.Select(rows)
	if err != nil {
		return nil, err
	}
	out := &blockState{inner: in, hist: make([][]int, len(rows))}
	for i, r := range rows {
		if r < 0 || r >= len(s.hist) {
			return nil, errors.Errorf("no-repeat n-grams: row %d outside [0, %d)", r, len(s.hist))
		}
		out.hist[i] = s.hist[r]
	}
	return out, nil
}

func (m *ngramBlocker) Encode(srcs [][]int) (attention.DecodeState, error) {
	in, err := m.inner.Encode(srcs)
	if err != nil {
		return nil, err
	}
	return &blockState{inner: in, hist: make([][]int, in.Rows())}, nil
}

func (m *ngramBlocker) Step(state attention.DecodeState, tokens []int) (attention.StepOutput, attention.DecodeState, error) {
	st, ok := state.(*blockState)
	if !ok {
		return attention.StepOutput{}, nil, errors.Errorf("no-repeat n-grams: state of type %T", state)
	}
	if len(tokens) != len(st.hist) {
		return attention.StepOutput{}, nil, errors.Errorf("no-repeat n-grams: %d tokens for %d rows", len(tokens), len(st.hist))
	}
	out, in, err := m.inner.Step(st.inner, tokens)
	if err != nil {
		return out, nil, err
	}
	next := &blockState{inner: in, hist: make([][]int, len(tokens))}
	for r, tok := range tokens {
		h := st.hist[r]
		if tok != m.bos || len(h) > 0 {
			h = append(h[:len(h):len(h)], tok) // a fresh array: rows may share their history
		}
		next.hist[r] = h
		if r >= len(out.LogProbs) {
			return attention.StepOutput{}, nil, errors.Errorf("no-repeat n-grams: %d rows of log-probabilities for %d tokens", len(out.LogProbs), len(tokens))
		}
		if banned := m.banned(h); len(banned) > 0 {
			row := append([]float64(nil), out.LogProbs[r]...)
			for _, b := range banned {
				if b >= 0 && b < len(row) && b != m.eos {
					row[b] = math.Inf(-1)
				}
			}
			out.LogProbs[r] = row
		}
	}
	return out, next, nil
}

// banned returns the tokens that would complete an n-gram already in h.
func (m *ngramBlocker) banned(h []int) []int {
	k := m.n - 1
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

var _ attention.StepModel = (*ngramBlocker)(nil)

// ForbidTokens wraps m so that the given tokens are never decoded: their
// log-probabilities are -Inf at every step (for example the unknown word, which a
// pointer-generator can replace by a copy).
func ForbidTokens(m attention.StepModel, tokens ...int) attention.StepModel {
	return &forbidder{inner: m, tokens: append([]int(nil), tokens...)}
}

type forbidder struct {
	inner  attention.StepModel
	tokens []int
}

func (f *forbidder) Encode(srcs [][]int) (attention.DecodeState, error) { return f.inner.Encode(srcs) }

func (f *forbidder) Step(st attention.DecodeState, tokens []int) (attention.StepOutput, attention.DecodeState, error) {
	out, next, err := f.inner.Step(st, tokens)
	if err != nil {
		return out, next, err
	}
	for r, lp := range out.LogProbs {
		row := append([]float64(nil), lp...)
		for _, t := range f.tokens {
			if t >= 0 && t < len(row) {
				row[t] = math.Inf(-1)
			}
		}
		out.LogProbs[r] = row
	}
	return out, next, nil
}

var _ attention.StepModel = (*forbidder)(nil)
