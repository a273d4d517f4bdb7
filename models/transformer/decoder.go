package transformer

import (
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/models/attention"
	"github.com/triadml/triad/models/decode"
	"github.com/triadml/triad/models/seq2seq"
)

// Decoder runs a trained Transformer one token at a time (a decode.StepModel).
// The encoder runs once per batch of sources, and so do the projections of the
// memory into every decoder layer's cross-attention keys and values. Each
// step then feeds one new position per row through the decoder: its
// self-attention keys and values are appended to a key/value cache per layer
// (attention.KVCache, sized to MaxLen) and it attends over the cached
// positions, so that a step costs one position of computation instead of the
// whole prefix. The caches belong to the decoding state: Select (beam search)
// copies the selected rows, and stepping a state twice forks its caches, so
// that every state decodes what it would alone. One step program per (rows,
// source length) serves every position; programs are compiled on first use and
// share the store's weights. A Decoder is not safe for concurrent use.
//
// With Recompute, or positions other than the sinusoidal encoding or a learned
// table, each step instead recomputes the decoder over the prefix padded to a
// multiple of PrefixBucket (at most MaxLen) (the causal mask keeps the padding
// after the current position from mattering) and applies the output layer to
// the current position alone: the reference the cached steps must match, up
// to rounding.
type Decoder struct {
	Model *Model
	Store *graph.Store
	// Bucket rounds source lengths up to a multiple of it.
	Bucket int
	// Recompute decodes without the key/value cache, recomputing the whole
	// prefix at every step. Set it before the first Encode.
	Recompute bool
	// PrefixBucket rounds prefix lengths up to a multiple of it when
	// recomputing: small values recompute less per step and compile more
	// programs; MaxLen gives one program per (rows, source length).
	PrefixBucket int
	progs        seq2seq.StepPrograms[[2]int, [3]int]
	caches       *stepCaches // bound to the stepped state before each cached run
	kvPool       attention.KVPool
	rows         graph.RowReader // the log-probabilities of the last step
}

// NewDecoder returns a decoder over the model's weights in s.
func (m *Model) NewDecoder(s *graph.Store) *Decoder {
	d := &Decoder{Model: m, Store: s, Bucket: 8, PrefixBucket: 8, caches: &stepCaches{}}
	d.progs = seq2seq.NewStepPrograms(d.encoder, d.stepper)
	return d
}

// cached reports whether the decoder keeps key/value caches.
func (d *Decoder) cached() bool { return !d.Recompute && d.Model.incremental() }

// Close releases the compiled programs.
func (d *Decoder) Close() error { return d.progs.Close() }

// decodeState is the per-row state of decoding: the encoder's memory, the
// source's keep mask and the tokens fed so far.
type decodeState struct {
	memory, srcKeep *tensor.Dense
	prefix          [][]int // tokens fed so far, BOS first
}

func (s *decodeState) Rows() int { return len(s.prefix) }

func (s *decodeState) Select(rows []int) (decode.State, error) {
	mem, err := graph.SelectRows(s.memory, rows)
	if err != nil {
		return nil, err
	}
	keep, err := graph.SelectRows(s.srcKeep, rows)
	if err != nil {
		return nil, err
	}
	prefix := make([][]int, len(rows))
	for i, r := range rows {
		prefix[i] = append([]int(nil), s.prefix[r]...)
	}
	return &decodeState{memory: mem, srcKeep: keep, prefix: prefix}, nil
}

// encoder compiles the encoder of key = (batch, source length).
func (d *Decoder) encoder(key [2]int) (graph.SaltedProgram, error) {
	batch, srcLen := key[0], key[1]
	p, err := graph.CompileSalted(func(b graph.SaltedBuilder) (*graph.Program, error) {
		b.Builder = graph.NewBuilder(d.Store, graph.Eval)
		src := b.In("src", tensor.Int, batch, srcLen)
		keep := b.In("src_keep", d.Store.Dtype(), batch, srcLen)
		b.Output("memory", d.Model.Encode(b.Builder, src, keep))
		return b.Compile(nil)
	})
	return p, errors.Wrap(err, "transformer encoder")
}

// stepper compiles the one-step graph of key = (rows, source length, prefix
// length), prefix length 0 being the cached step.
func (d *Decoder) stepper(key [3]int) (graph.SaltedProgram, error) {
	rows, srcLen, t := key[0], key[1], key[2]
	if t == 0 {
		return d.cachedStepper(rows, srcLen)
	}
	m := d.Model
	dt := d.Store.Dtype()
	p, err := graph.CompileSalted(func(b graph.SaltedBuilder) (*graph.Program, error) {
		b.Builder = graph.NewBuilder(d.Store, graph.Eval)
		prefix := b.In("prefix", tensor.Int, rows, t)
		prefixKeep := b.In("prefix_keep", dt, rows, t)
		pos := b.In("pos", tensor.Int, rows)
		memory := b.In("memory", dt, rows, srcLen, m.Config.Dim)
		srcKeep := b.In("src_keep", dt, rows, srcLen)
		x, w := m.decodeHidden(b.Builder, prefix, memory, srcKeep, prefixKeep)
		if err := m.output(b, x, w, pos); err != nil {
			return nil, err
		}
		return b.Compile(nil)
	})
	if err != nil {
		return p, errors.Wrap(err, "transformer step")
	}
	ones := make([]float64, rows*t)
	for i := range ones {
		ones[i] = 1
	}
	if err := p.SetInput("prefix_keep", graph.FromFloat64s(dt, ones, rows, t)); err != nil {
		return p, err
	}
	return p, nil
}

// output finishes a one-step graph on the decoder's output x (rows, T, Dim)
// and weights (rows, T, S): the log-probabilities "logp" and the weights
// "attn" of the positions pos (rows) of each row.
func (m *Model) output(b graph.SaltedBuilder, x, w, pos *G.Node) error {
	last := graph.Pick(b.Builder, x, pos)
	if last == nil {
		if err := b.Err(); err != nil {
			return err
		}
		return errors.New("transformer step: no decoder output")
	}
	logits := b.Check(graph.Affine(last, b.Param(m.GenWeight), b.Param(m.GenBias)))
	b.Output("logp", b.Check(graph.LogSoftMax(logits, 1, nil)))
	b.Output("attn", graph.Pick(b.Builder, w, pos))
	return b.Err()
}

// output returns a step's output from its log-probabilities and attention
// weights; float32 log-probabilities stay float32.
func (d *Decoder) output(logp, w *tensor.Dense) decode.StepOutput {
	out := decode.StepOutput{Weights: graph.Rows(w)}
	if logp.Dtype() == tensor.Float32 {
		out.LogProbs32 = d.rows.Rows32(logp)
	} else {
		out.LogProbs = d.rows.Rows(logp)
	}
	return out
}

// cachedStepper compiles the cached one-step graph of rows rows over sources
// of srcLen positions.
func (d *Decoder) cachedStepper(rows, srcLen int) (graph.SaltedProgram, error) {
	m := d.Model
	p, err := graph.CompileSalted(func(b graph.SaltedBuilder) (*graph.Program, error) {
		b.Builder = graph.NewBuilder(d.Store, graph.Eval)
		tok := b.In("tok", tensor.Int, rows, 1)
		col := b.In("col", tensor.Int, 1)
		srcKeep := b.In("src_keep", d.Store.Dtype(), rows, srcLen)
		pos := b.In("pos", tensor.Int, rows)
		x, w := m.decodeStep(b.Builder, tok, col, srcKeep, d.caches)
		if err := m.output(b, x, w, pos); err != nil {
			return nil, err
		}
		return b.Compile(nil)
	})
	if err != nil {
		return p, errors.Wrap(err, "transformer step")
	}
	return p, p.SetInput("pos", graph.FromInts(make([]int, rows), rows))
}

// Encode implements decode.StepModel.
func (d *Decoder) Encode(srcs [][]int) (decode.State, error) {
	srcLen := min(seq2seq.PaddedLength(seq2seq.Longest(srcs), d.Bucket), d.Model.Config.MaxLen)
	pb, err := seq2seq.Pad(d.Model.Config.Tokens, srcs, nil, srcLen, 1)
	if err != nil {
		return nil, errors.Wrap(err, "transformer encoder")
	}
	p, err := d.progs.Encoder([2]int{len(srcs), srcLen})
	if err != nil {
		return nil, err
	}
	keep := graph.FromFloat64s(d.Store.Dtype(), pb.SrcKeep, pb.B, pb.S)
	if err := p.SetInputs(map[string]*tensor.Dense{"src": graph.FromInts(pb.Src, pb.B, pb.S), "src_keep": keep}); err != nil {
		return nil, err
	}
	if err := p.Run(); err != nil {
		return nil, errors.Wrap(err, "transformer encoder")
	}
	mem, err := p.Output("memory")
	if err != nil {
		return nil, err
	}
	if d.cached() {
		return d.newCachedState(mem, keep)
	}
	return &decodeState{memory: mem.Clone().(*tensor.Dense), srcKeep: keep, prefix: make([][]int, len(srcs))}, nil
}

// Step implements decode.StepModel.
func (d *Decoder) Step(state decode.State, tokens []int) (decode.StepOutput, decode.State, error) {
	if cs, ok := state.(*cachedState); ok {
		return d.cachedStep(cs, tokens)
	}
	st, ok := state.(*decodeState)
	if !ok {
		return decode.StepOutput{}, nil, errors.Errorf("transformer step: state of type %T", state)
	}
	rows := st.Rows()
	if len(tokens) != rows {
		return decode.StepOutput{}, nil, errors.Errorf("transformer step: %d tokens for %d rows", len(tokens), rows)
	}
	maxLen := d.Model.Config.MaxLen
	next := &decodeState{memory: st.memory, srcKeep: st.srcKeep, prefix: make([][]int, rows)}
	longest := 0
	for r := range tokens {
		next.prefix[r] = append(append([]int(nil), st.prefix[r]...), tokens[r])
		longest = max(longest, len(next.prefix[r]))
	}
	if longest > maxLen {
		return decode.StepOutput{}, nil, errors.Errorf("transformer step: prefix of %d tokens exceeds the maximum length %d", longest, maxLen)
	}
	t := min(seq2seq.PaddedLength(longest, d.PrefixBucket), maxLen)
	ids := make([]int, rows*t)
	pos := make([]int, rows)
	for r, p := range next.prefix {
		for i := 0; i < t; i++ {
			ids[r*t+i] = d.Model.Config.Pad
			if i < len(p) {
				ids[r*t+i] = p[i]
			}
		}
		pos[r] = len(p) - 1
	}
	p, err := d.progs.Step([3]int{rows, st.srcKeep.Shape()[1], t})
	if err != nil {
		return decode.StepOutput{}, nil, err
	}
	if err := p.SetInputs(map[string]*tensor.Dense{"prefix": graph.FromInts(ids, rows, t), "pos": graph.FromInts(pos, rows),
		"memory": st.memory, "src_keep": st.srcKeep}); err != nil {
		return decode.StepOutput{}, nil, err
	}
	if err := p.Run(); err != nil {
		return decode.StepOutput{}, nil, errors.Wrap(err, "transformer step")
	}
	logp, _ := p.Output("logp")
	w, _ := p.Output("attn")
	return d.output(logp, w), next, nil
}

var _ decode.StepModel = (*Decoder)(nil)
