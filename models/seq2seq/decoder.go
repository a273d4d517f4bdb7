package seq2seq

import (
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/models/decode"
)

// Net is a recurrent encoder-decoder with attention as a Decoder runs it: Model,
// and models that build on it (models/pointer).
type Net interface {
	// Layout describes the tensors of the decoder's state.
	Layout() Layout
	// Sources lays srcs out as the encoder's inputs, padded to srcLen tokens: it
	// returns them by input name and the additive (B, S) padding mask.
	Sources(srcs [][]int, srcLen int) (feeds map[string]*tensor.Dense, mask *tensor.Dense, err error)
	// BuildEncoder declares the encoder's inputs for batch sources of srcLen
	// tokens and builds it: the memory (B, S, Memory), the attention keys (B, S,
	// Keys) and the decoder's initial H (and C).
	BuildEncoder(b graph.SaltedBuilder, batch, srcLen int) (memory, keys *G.Node, init StepState)
	// BuildStep builds one decoder step from the previous token ids (B): the
	// vocabulary logits, the attention weights (B, S) and the state after the
	// step. It may declare outputs of its own, which Decoder.Advance's caller
	// reads.
	BuildStep(b graph.SaltedBuilder, prev *G.Node, st StepState, memory, keys, mask *G.Node) (logits, weights *G.Node, next StepState)
}

// Layout describes a Net's decoding state: the widths of the memory (the
// decoder state's too) and of the attention keys, and which optional tensors the
// state carries.
type Layout struct {
	Memory, Keys int
	// Cell is an LSTM's cell state C.
	Cell bool
	// StateFirst is the context of the step before, Ctx, zero at the start.
	StateFirst bool
}

// Decoder runs a Net one token at a time: an encoder graph per (batch, source
// length) and a one-step graph per (rows, source length), compiled on first use
// and cached, all sharing the store's weights. Source lengths are padded up to
// a multiple of Bucket. It implements decode.StepModel over the ids the Net's
// graphs take; a model whose tokens need mapping or whose outputs need more
// work wraps Start and Advance.
type Decoder struct {
	Net    Net
	Store  *graph.Store
	Bucket int
	name   string
	progs  StepPrograms[[2]int, [2]int]
	rows   graph.RowReader // the log-probabilities of the last step
}

// NewDecoder returns a decoder of net over the weights in s; name starts its
// errors.
func NewDecoder(name string, net Net, s *graph.Store) *Decoder {
	d := &Decoder{Net: net, Store: s, Bucket: 8, name: name}
	d.progs = NewStepPrograms(d.encoder, d.stepper)
	return d
}

// Close releases the compiled programs.
func (d *Decoder) Close() error { return d.progs.Close() }

// StepPrograms are the compiled programs of a step decoder: the encoder's, per
// key E, and the one-step graph's, per key S, each compiled on first use.
type StepPrograms[E, S comparable] struct {
	enc   *graph.Programs[E, graph.SaltedProgram]
	steps *graph.Programs[S, graph.SaltedProgram]
}

// stepProgramLimit is how many programs of each kind a StepPrograms keeps: the
// shapes of decoding change with every batch (source length) and as its
// sentences finish (rows), and each program holds its own outputs.
const stepProgramLimit = 8

// NewStepPrograms returns empty caches that encoder and stepper compile, each
// keeping the stepProgramLimit programs used last.
func NewStepPrograms[E, S comparable](encoder func(E) (graph.SaltedProgram, error), stepper func(S) (graph.SaltedProgram, error)) StepPrograms[E, S] {
	return StepPrograms[E, S]{enc: graph.NewPrograms(encoder).Limit(stepProgramLimit), steps: graph.NewPrograms(stepper).Limit(stepProgramLimit)}
}

// Encoder returns the encoder program of key k.
func (p StepPrograms[E, S]) Encoder(k E) (graph.SaltedProgram, error) { return p.enc.Get(k) }

// Step returns the one-step program of key k.
func (p StepPrograms[E, S]) Step(k S) (graph.SaltedProgram, error) { return p.steps.Get(k) }

// Close releases every compiled program.
func (p StepPrograms[E, S]) Close() error {
	err := p.enc.Reset()
	if e := p.steps.Reset(); err == nil {
		err = e
	}
	return err
}

// State is the per-row state of recurrent decoding: the encoder's memory,
// attention keys and padding mask, and the decoder's state.
type State struct {
	memory, keys, mask, h, c, ctx *tensor.Dense
}

// Rows implements decode.State.
func (s *State) Rows() int { return s.h.Shape()[0] }

// Select implements decode.State.
func (s *State) Select(rows []int) (decode.State, error) {
	out := &State{}
	var err error
	for _, p := range []struct{ dst, src **tensor.Dense }{{&out.memory, &s.memory}, {&out.keys, &s.keys}, {&out.mask, &s.mask},
		{&out.h, &s.h}, {&out.c, &s.c}, {&out.ctx, &s.ctx}} {
		if err == nil {
			*p.dst, err = graph.SelectRows(*p.src, rows)
		}
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// encoder compiles the encoder of key = (batch, source length).
func (d *Decoder) encoder(key [2]int) (graph.SaltedProgram, error) {
	p, err := graph.CompileSalted(func(b graph.SaltedBuilder) (*graph.Program, error) {
		b.Builder = graph.NewBuilder(d.Store, graph.Eval)
		memory, keys, init := d.Net.BuildEncoder(b, key[0], key[1])
		if b.Err() != nil {
			return nil, b.Err()
		}
		b.Output("memory", memory)
		b.Output("keys", keys)
		b.Output("h0", init.H)
		b.Output("c0", init.C)
		return b.Compile(nil)
	})
	return p, errors.Wrap(err, d.name+" encoder")
}

// stepper compiles the one-step graph of key = (rows, source length).
func (d *Decoder) stepper(key [2]int) (graph.SaltedProgram, error) {
	rows, srcLen := key[0], key[1]
	lay := d.Net.Layout()
	dt := d.Store.Dtype()
	p, err := graph.CompileSalted(func(b graph.SaltedBuilder) (*graph.Program, error) {
		b.Builder = graph.NewBuilder(d.Store, graph.Eval)
		prev := b.In("token", tensor.Int, rows)
		st := StepState{H: b.In("h", dt, rows, lay.Memory)}
		if lay.Cell {
			st.C = b.In("c", dt, rows, lay.Memory)
		}
		if lay.StateFirst {
			st.Ctx = b.In("ctx", dt, rows, lay.Memory)
		}
		memory := b.In("memory", dt, rows, srcLen, lay.Memory)
		keys := b.In("keys", dt, rows, srcLen, lay.Keys)
		mask := b.In("mask", dt, rows, srcLen)
		logits, w, next := d.Net.BuildStep(b, prev, st, memory, keys, mask)
		if logits == nil {
			return nil, b.Err()
		}
		b.Output("logp", b.Check(graph.LogSoftMax(logits, 1, nil)))
		b.Output("h", next.H)
		b.Output("c", next.C)
		if lay.StateFirst {
			b.Output("ctx", next.Ctx)
		}
		b.Output("attn", w)
		return b.Compile(nil)
	})
	return p, errors.Wrap(err, d.name+" step")
}

// Start runs the encoder over srcs, padded to a multiple of Bucket, and returns
// the decoder's initial state.
func (d *Decoder) Start(srcs [][]int) (*State, error) {
	srcLen := PaddedLength(max(1, Longest(srcs)), d.Bucket)
	feeds, mask, err := d.Net.Sources(srcs, srcLen)
	if err != nil {
		return nil, errors.Wrap(err, d.name+" encoder")
	}
	p, err := d.progs.Encoder([2]int{len(srcs), srcLen})
	if err != nil {
		return nil, err
	}
	if err := p.SetInputs(feeds); err != nil {
		return nil, err
	}
	if err := p.Run(); err != nil {
		return nil, errors.Wrap(err, d.name+" encoder")
	}
	lay := d.Net.Layout()
	st := &State{mask: mask}
	outs := map[string]**tensor.Dense{"memory": &st.memory, "keys": &st.keys, "h0": &st.h}
	if lay.Cell {
		outs["c0"] = &st.c
	}
	for name, dst := range outs {
		out, err := p.Output(name)
		if err != nil {
			return nil, err
		}
		*dst = out.Clone().(*tensor.Dense)
	}
	if lay.StateFirst {
		st.ctx = graph.NewDense(d.Store.Dtype(), len(srcs), lay.Memory) // c_0 = 0
	}
	return st, nil
}

// Advance runs one step of every row of st on ids, the previous tokens as the
// step graph takes them. It returns the step's log-probabilities and attention
// weights, the state after it, and the step program, whose outputs (those the
// Net declared included) hold this step's values until its next run.
func (d *Decoder) Advance(st *State, ids []int) (decode.StepOutput, *State, graph.SaltedProgram, error) {
	rows, srcLen := st.Rows(), st.mask.Shape()[1]
	if len(ids) != rows {
		return decode.StepOutput{}, nil, graph.SaltedProgram{}, errors.Errorf("%s step: %d tokens for %d rows", d.name, len(ids), rows)
	}
	p, err := d.progs.Step([2]int{rows, srcLen})
	if err != nil {
		return decode.StepOutput{}, nil, p, err
	}
	err = p.SetInputs(map[string]*tensor.Dense{"token": graph.FromInts(ids, rows), "h": st.h, "c": st.c, "ctx": st.ctx,
		"memory": st.memory, "keys": st.keys, "mask": st.mask})
	if err == nil {
		err = p.Run()
	}
	if err != nil {
		return decode.StepOutput{}, nil, p, errors.Wrap(err, d.name+" step")
	}
	clone := func(name string) *tensor.Dense {
		out, _ := p.Output(name)
		return out.Clone().(*tensor.Dense)
	}
	next := &State{memory: st.memory, keys: st.keys, mask: st.mask, h: clone("h")}
	if st.c != nil {
		next.c = clone("c")
	}
	if st.ctx != nil {
		next.ctx = clone("ctx")
	}
	logp, _ := p.Output("logp")
	w, _ := p.Output("attn")
	return decode.StepOutput{LogProbs: d.rows.Rows(logp), Weights: graph.Rows(w)}, next, p, nil
}

// Encode implements decode.StepModel.
func (d *Decoder) Encode(srcs [][]int) (decode.State, error) {
	st, err := d.Start(srcs)
	if err != nil {
		return nil, err
	}
	return st, nil
}

// Step implements decode.StepModel: tokens are the ids the step graph takes.
func (d *Decoder) Step(state decode.State, tokens []int) (decode.StepOutput, decode.State, error) {
	st, ok := state.(*State)
	if !ok {
		return decode.StepOutput{}, nil, errors.Errorf("%s step: state of type %T", d.name, state)
	}
	out, next, _, err := d.Advance(st, tokens)
	if err != nil {
		return decode.StepOutput{}, nil, err
	}
	return out, next, nil
}

var _ decode.StepModel = (*Decoder)(nil)
