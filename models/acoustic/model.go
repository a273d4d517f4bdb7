package acoustic

import (
	"fmt"
	"strconv"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/losses"
	"github.com/triadml/triad/models/rnn"
)

// Blank is the CTC blank's class.
const Blank = 0

// Config describes an acoustic model.
type Config struct {
	// Cell is rnn.LSTM or rnn.GRU.
	Cell rnn.Cell
	// Input is the size of an input frame.
	Input int
	// Hidden is the width of each direction of each layer.
	Hidden int
	// Layers is the number of bidirectional layers.
	Layers int
	// Dropout is the dropout between recurrent layers, in training.
	Dropout float64
	// Classes counts the output classes, the blank included.
	Classes int
}

// Model is a bidirectional recurrent stack with a linear layer to the classes.
type Model struct {
	Config Config
	RNN    *rnn.RNN
	Head   *graph.Linear
}

// New creates the model's parameters in s: the recurrent stack first, then the
// head, so that a seeded store gives the same weights every time.
func New(s *graph.Store, cfg Config) (*Model, error) {
	if cfg.Classes < 2 {
		return nil, errors.Errorf("acoustic: %d classes, want the blank and at least one label", cfg.Classes)
	}
	r, err := rnn.New(s, "rnn", rnn.Config{Cell: cfg.Cell, Input: cfg.Input, Hidden: cfg.Hidden,
		Layers: cfg.Layers, Dropout: cfg.Dropout, Bidirectional: true})
	if err != nil {
		return nil, err
	}
	head, err := graph.NewLinear(s, "head", r.OutputSize(), cfg.Classes, true)
	if err != nil {
		return nil, err
	}
	return &Model{Config: cfg, RNN: r, Head: head}, nil
}

// Program is a compiled graph for T input frames, B rows and up to S labels a
// row: inputs "x.t" (B, Input) and, when masked, "m.t" (B, 1) (1 on real frames,
// 0 on padding) for t < T, "targets" (B, S), "in_len" and "tgt_len" (B); output
// "loss" (training) or "lp" (T, B, Classes) and "nll" (B) (evaluation).
type Program struct {
	*graph.Program
	T, B, S, D int
	Masked     bool
	// feed buffers, reused
	x, m    []*tensor.Dense
	targets *tensor.Dense
	inLen   *tensor.Dense
	tgtLen  *tensor.Dense
	lengths []int
}

// Build compiles the model's graph over the tensors of s (the store New filled)
// for T frames, B rows and S labels, masked or not, in the store's dtype.
func (m *Model) Build(s *graph.Store, mode graph.Mode, T, B, S int, masked bool) (*Program, error) {
	b := graph.NewBuilder(s, mode)
	dt := b.Dtype()
	D := m.Config.Input
	xs := make([]*G.Node, T)
	var masks []*G.Node
	for t := range T {
		xs[t] = b.Input("x."+strconv.Itoa(t), dt, B, D)
		if masked {
			masks = append(masks, b.Input("m."+strconv.Itoa(t), dt, B, 1))
		}
	}
	init := m.RNN.ZeroState(b, "state", B)
	outs, _ := m.RNN.Forward(b, xs, init, masks)
	if b.Err() != nil {
		return nil, b.Err()
	}
	h := rnn.StackSteps(b, outs)   // (T*B, OutputSize), time-major
	logits := m.Head.Forward(b, h) // (T*B, classes), time-major
	logits = b.Check(G.Reshape(logits, tensor.Shape{T, B, m.Config.Classes}))
	lp := b.Check(graph.LogSoftMax(logits, 2, nil))
	targets := b.Input("targets", tensor.Int, B, S)
	inLen := b.Input("in_len", tensor.Int, B)
	tgtLen := b.Input("tgt_len", tensor.Int, B)
	opt := losses.CTCOptions{Blank: Blank, Reduction: losses.Mean}
	if mode == graph.Eval {
		opt.Reduction = losses.None
	}
	loss := b.Check(losses.CTC(lp, targets, inLen, tgtLen, opt))
	var prog *graph.Program
	var err error
	if mode == graph.Train {
		prog, err = b.Compile(loss)
	} else {
		b.Output("lp", lp)
		b.Output("nll", loss)
		prog, err = b.Compile(nil)
	}
	if err != nil {
		return nil, errors.Wrapf(err, "acoustic: building the %d-frame graph", T)
	}
	p := &Program{Program: prog, T: T, B: B, S: S, D: D, Masked: masked,
		targets: tensor.New(tensor.WithShape(B, S), tensor.Of(tensor.Int)),
		inLen:   tensor.New(tensor.WithShape(B), tensor.Of(tensor.Int)),
		tgtLen:  tensor.New(tensor.WithShape(B), tensor.Of(tensor.Int)),
		lengths: make([]int, B),
	}
	for range T {
		p.x = append(p.x, graph.NewDense(dt, B, D))
		if masked {
			p.m = append(p.m, graph.NewDense(dt, B, 1))
		}
	}
	zero := graph.NewDense(dt, B, m.RNN.Hidden)
	for k := range m.RNN.States() {
		if err := p.Set(fmt.Sprintf("state.h0.%d", k), zero); err != nil {
			return nil, err
		}
		if m.RNN.Cell == rnn.LSTM {
			if err := p.Set(fmt.Sprintf("state.c0.%d", k), zero); err != nil {
				return nil, err
			}
		}
	}
	return p, nil
}

// Sequence is one row of a batch: Frames frames of Dim values, row-major, and
// its labels, classes 1 to Classes-1.
type Sequence struct {
	Frames, Dim int
	Data        []float64
	Labels      []int
}

// Feed sets a batch of at most B sequences, each of at most T frames, all of
// which the loss reads (padding frames included when the graph has no masks);
// missing rows are empty (no frames, no labels), and rows are independent, so
// they do not disturb the others.
func (p *Program) Feed(seqs []Sequence) error {
	if len(seqs) > p.B {
		return errors.Errorf("acoustic: %d sequences for a batch of %d", len(seqs), p.B)
	}
	tg, il, tl := p.targets.Ints(), p.inLen.Ints(), p.tgtLen.Ints()
	clear(tg)
	clear(il)
	clear(tl)
	for t := range p.T {
		p.x[t].Zero()
		if p.Masked {
			p.m[t].Zero()
		}
	}
	one := []float64{1}
	for i, s := range seqs {
		if s.Frames > p.T || len(s.Labels) > p.S || s.Dim != p.D || len(s.Data) < s.Frames*s.Dim {
			return errors.Errorf("acoustic: sequence of %d frames of %d and %d labels for a graph of %d frames of %d and %d labels",
				s.Frames, s.Dim, len(s.Labels), p.T, p.D, p.S)
		}
		for t := range s.Frames {
			setRow(p.x[t], i*p.D, s.Data[t*s.Dim:(t+1)*s.Dim])
			if p.Masked {
				setRow(p.m[t], i, one)
			}
		}
		copy(tg[i*p.S:], s.Labels)
		il[i], tl[i] = s.Frames, len(s.Labels)
	}
	copy(p.lengths, il)
	for t := range p.T {
		if err := p.Set("x."+strconv.Itoa(t), p.x[t]); err != nil {
			return err
		}
		if !p.Masked {
			continue
		}
		if err := p.Set("m."+strconv.Itoa(t), p.m[t]); err != nil {
			return err
		}
	}
	for _, in := range []struct {
		name string
		v    *tensor.Dense
	}{{"targets", p.targets}, {"in_len", p.inLen}, {"tgt_len", p.tgtLen}} {
		if err := p.Set(in.name, in.v); err != nil {
			return err
		}
	}
	return nil
}

// setRow writes v, converted to t's dtype, into t's data from offset off.
func setRow(t *tensor.Dense, off int, v []float64) {
	switch d := t.Data().(type) {
	case []float32:
		for j, x := range v {
			d[off+j] = float32(x)
		}
	case []float64:
		copy(d[off:], v)
	}
}

// Lengths returns the frame counts of the rows last fed (0 for missing rows).
func (p *Program) Lengths() []int { return p.lengths }

// Decode returns the labels of each row last run through an evaluation program:
// greedy decoding for beam <= 1, otherwise prefix beam search of that width.
func (p *Program) Decode(beam int) ([][]int, error) {
	lp, err := p.Output("lp")
	if err != nil {
		return nil, err
	}
	return losses.CTCDecodeBatch(lp, p.lengths, Blank, beam)
}

// NLL returns each row's negative log-likelihood after an evaluation run.
func (p *Program) NLL() ([]float64, error) {
	nll, err := p.Output("nll")
	if err != nil {
		return nil, err
	}
	return graph.Float64s(nll), nil
}
