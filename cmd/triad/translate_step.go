package main

import (
	"fmt"
	"math"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/models/attention"
)

// trTransformerDecoder runs a trained Transformer one token at a time (an
// attention.StepModel) more cheaply than the model's own decoder, which
// recomputes the decoder over the prefix padded to the model's maximum length
// and applies the output layer at every position: here the prefix is padded
// only to its length rounded up to a multiple of prefixStep, and the output
// layer is applied to the current position alone. The causal mask makes the
// result that of the full-length graph. Programs are compiled per (rows,
// source length, prefix length) on first use and share the store's weights.
type trTransformerDecoder struct {
	model      *attention.Transformer
	store      *graph.Store
	srcStep    int // source lengths are padded to a multiple of srcStep
	prefixStep int
	enc        map[[2]int]trSalted
	steps      map[[3]int]trSalted
}

// trSalted is a compiled program whose input names carry a suffix.
type trSalted struct {
	*graph.Program
	salt int
}

func trSaltName(name string, salt int) string {
	if salt == 0 {
		return name
	}
	return fmt.Sprintf("%s#%d", name, salt)
}

func (p trSalted) set(name string, v *tensor.Dense) error { return p.Set(trSaltName(name, p.salt), v) }

// trCompile builds a program, again with other input names while two nodes of
// the graph share a hash (Gorgonia would merge them: see models/attention's
// compile.go).
func trCompile(build func(salt int) (*graph.Program, error)) (trSalted, error) {
	var last error
	for salt := 0; salt < 8; salt++ {
		p, err := build(salt)
		if errors.Is(err, graph.ErrHashCollision) {
			last = err
			continue
		}
		if err != nil {
			return trSalted{}, err
		}
		return trSalted{Program: p, salt: salt}, nil
	}
	return trSalted{}, errors.Wrap(last, "graph nodes keep sharing a hash")
}

func newTrTransformerDecoder(m *attention.Transformer, s *graph.Store) *trTransformerDecoder {
	return &trTransformerDecoder{model: m, store: s, srcStep: 8, prefixStep: 8, enc: map[[2]int]trSalted{}, steps: map[[3]int]trSalted{}}
}

// close closes the compiled programs and forgets them.
func (d *trTransformerDecoder) close() {
	for k, p := range d.enc {
		p.Close()
		delete(d.enc, k)
	}
	for k, p := range d.steps {
		p.Close()
		delete(d.steps, k)
	}
}

// trTransformerState is the decoding state of a batch of rows.
type trTransformerState struct {
	memory, srcKeep *tensor.Dense
	prefix          [][]int // tokens fed so far, BOS first
}

func (s *trTransformerState) Rows() int { return len(s.prefix) }

func (s *trTransformerState) Select(rows []int) (attention.DecodeState, error) {
	mem, err := trSelectRows(s.memory, rows)
	if err != nil {
		return nil, err
	}
	keep, err := trSelectRows(s.srcKeep, rows)
	if err != nil {
		return nil, err
	}
	prefix := make([][]int, len(rows))
	for i, r := range rows {
		prefix[i] = append([]int(nil), s.prefix[r]...)
	}
	return &trTransformerState{memory: mem, srcKeep: keep, prefix: prefix}, nil
}

// trSelectRows returns the first-axis slices rows of a float32 tensor.
func trSelectRows(t *tensor.Dense, rows []int) (*tensor.Dense, error) {
	src, ok := t.Data().([]float32)
	if !ok {
		return nil, errors.Errorf("select rows: dtype %v", t.Dtype())
	}
	s := t.Shape()
	per := s.TotalSize() / s[0]
	out := make([]float32, len(rows)*per)
	for i, r := range rows {
		if r < 0 || r >= s[0] {
			return nil, errors.Errorf("select rows: row %d outside [0, %d)", r, s[0])
		}
		copy(out[i*per:(i+1)*per], src[r*per:(r+1)*per])
	}
	return tensor.New(tensor.WithShape(append([]int{len(rows)}, s[1:]...)...), tensor.WithBacking(out)), nil
}

func (d *trTransformerDecoder) encoder(rows, srcLen int) (trSalted, error) {
	key := [2]int{rows, srcLen}
	if p, ok := d.enc[key]; ok {
		return p, nil
	}
	p, err := trCompile(func(salt int) (*graph.Program, error) {
		b := graph.NewBuilder(d.store, graph.Eval)
		src := b.Input(trSaltName("src", salt), tensor.Int, rows, srcLen)
		keep := b.Input(trSaltName("src_keep", salt), d.store.Dtype(), rows, srcLen)
		b.Output("memory", d.model.Encode(b, src, keep))
		return b.Compile(nil)
	})
	if err != nil {
		return p, errors.Wrap(err, "transformer encoder")
	}
	d.enc[key] = p
	return p, nil
}

func (d *trTransformerDecoder) stepper(rows, srcLen, t int) (trSalted, error) {
	key := [3]int{rows, srcLen, t}
	if p, ok := d.steps[key]; ok {
		return p, nil
	}
	m := d.model
	dt := d.store.Dtype()
	p, err := trCompile(func(salt int) (*graph.Program, error) {
		b := graph.NewBuilder(d.store, graph.Eval)
		prefix := b.Input(trSaltName("prefix", salt), tensor.Int, rows, t)
		prefixKeep := b.Input(trSaltName("prefix_keep", salt), dt, rows, t)
		pos := b.Input(trSaltName("pos", salt), tensor.Int, rows)
		memory := b.Input(trSaltName("memory", salt), dt, rows, srcLen, m.Config.Dim)
		srcKeep := b.Input(trSaltName("src_keep", salt), dt, rows, srcLen)
		// the decoder of Transformer.Decode, up to its final norm
		x := attention.Scale(b, m.TgtEmbed.Forward(b, prefix), math.Sqrt(float64(m.Config.Dim)))
		x = m.TgtPos.Add(b, x)
		selfMask := attention.AttentionMask(b, prefixKeep, t, true)
		memMask := attention.AttentionMask(b, srcKeep, t, false)
		var cross *G.Node
		for _, l := range m.Decoder {
			x, _, cross = l.Forward(b, x, memory, selfMask, memMask)
		}
		x = m.DecNorm.Forward(b, x)
		last := attention.Pick(b, x, pos)
		if last == nil {
			return nil, b.Err()
		}
		logits := b.Check(graph.Affine(last, b.Param(m.GenWeight), b.Param(m.GenBias)))
		b.Output("logp", b.Check(graph.LogSoftMax(logits, 1, nil)))
		b.Output("attn", attention.Pick(b, attention.MeanHeads(b, cross, m.Config.Heads), pos))
		return b.Compile(nil)
	})
	if err != nil {
		return p, errors.Wrap(err, "transformer step")
	}
	ones := make([]float64, rows*t)
	for i := range ones {
		ones[i] = 1
	}
	if err := p.set("prefix_keep", graph.FromFloat64s(dt, ones, rows, t)); err != nil {
		return p, err
	}
	d.steps[key] = p
	return p, nil
}

// Encode implements attention.StepModel.
func (d *trTransformerDecoder) Encode(srcs [][]int) (attention.DecodeState, error) {
	rows := len(srcs)
	if rows == 0 {
		return nil, errors.New("transformer encoder: no sources")
	}
	longest := 0
	for i, s := range srcs {
		if len(s) == 0 || len(s) > d.model.Config.MaxLen {
			return nil, errors.Errorf("transformer encoder: source %d has %d tokens; want 1 to %d", i, len(s), d.model.Config.MaxLen)
		}
		longest = max(longest, len(s))
	}
	srcLen := min((longest+d.srcStep-1)/d.srcStep*d.srcStep, d.model.Config.MaxLen)
	ids := make([]int, rows*srcLen)
	keep := make([]float64, rows*srcLen)
	for i, s := range srcs {
		for j := 0; j < srcLen; j++ {
			ids[i*srcLen+j] = d.model.Config.Pad
			if j < len(s) {
				ids[i*srcLen+j], keep[i*srcLen+j] = s[j], 1
			}
		}
	}
	p, err := d.encoder(rows, srcLen)
	if err != nil {
		return nil, err
	}
	keepT := graph.FromFloat64s(d.store.Dtype(), keep, rows, srcLen)
	if err := p.set("src", tensor.New(tensor.WithShape(rows, srcLen), tensor.WithBacking(ids))); err != nil {
		return nil, err
	}
	if err := p.set("src_keep", keepT); err != nil {
		return nil, err
	}
	if err := p.Run(); err != nil {
		return nil, errors.Wrap(err, "transformer encoder")
	}
	mem, err := p.Output("memory")
	if err != nil {
		return nil, err
	}
	return &trTransformerState{memory: mem.Clone().(*tensor.Dense), srcKeep: keepT, prefix: make([][]int, rows)}, nil
}

// Step implements attention.StepModel.
func (d *trTransformerDecoder) Step(state attention.DecodeState, tokens []int) (attention.StepOutput, attention.DecodeState, error) {
	st, ok := state.(*trTransformerState)
	if !ok {
		return attention.StepOutput{}, nil, errors.Errorf("transformer step: state of type %T", state)
	}
	rows := st.Rows()
	if len(tokens) != rows {
		return attention.StepOutput{}, nil, errors.Errorf("transformer step: %d tokens for %d rows", len(tokens), rows)
	}
	next := &trTransformerState{memory: st.memory, srcKeep: st.srcKeep, prefix: make([][]int, rows)}
	longest := 0
	for r := range tokens {
		next.prefix[r] = append(append([]int(nil), st.prefix[r]...), tokens[r])
		longest = max(longest, len(next.prefix[r]))
	}
	if longest > d.model.Config.MaxLen {
		return attention.StepOutput{}, nil, errors.Errorf("transformer step: prefix of %d tokens exceeds the maximum length %d", longest, d.model.Config.MaxLen)
	}
	t := min((longest+d.prefixStep-1)/d.prefixStep*d.prefixStep, d.model.Config.MaxLen)
	ids := make([]int, rows*t)
	pos := make([]int, rows)
	for r, p := range next.prefix {
		for i := 0; i < t; i++ {
			ids[r*t+i] = d.model.Config.Pad
			if i < len(p) {
				ids[r*t+i] = p[i]
			}
		}
		pos[r] = len(p) - 1
	}
	p, err := d.stepper(rows, st.srcKeep.Shape()[1], t)
	if err != nil {
		return attention.StepOutput{}, nil, err
	}
	for _, in := range []struct {
		name string
		v    *tensor.Dense
	}{
		{"prefix", tensor.New(tensor.WithShape(rows, t), tensor.WithBacking(ids))},
		{"pos", tensor.New(tensor.WithShape(rows), tensor.WithBacking(pos))},
		{"memory", st.memory}, {"src_keep", st.srcKeep},
	} {
		if err := p.set(in.name, in.v); err != nil {
			return attention.StepOutput{}, nil, err
		}
	}
	if err := p.Run(); err != nil {
		return attention.StepOutput{}, nil, errors.Wrap(err, "transformer step")
	}
	logp, err := p.Output("logp")
	if err != nil {
		return attention.StepOutput{}, nil, err
	}
	w, err := p.Output("attn")
	if err != nil {
		return attention.StepOutput{}, nil, err
	}
	return attention.StepOutput{LogProbs: trRows(logp), Weights: trRows(w)}, next, nil
}

// trRows returns the rows of a 2-D float tensor.
func trRows(t *tensor.Dense) [][]float64 {
	v := graph.Float64s(t)
	n := t.Shape()[0]
	per := len(v) / n
	out := make([][]float64, n)
	for i := range out {
		out[i] = v[i*per : (i+1)*per]
	}
	return out
}

var _ attention.StepModel = (*trTransformerDecoder)(nil)
