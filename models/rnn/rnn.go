package rnn

import (
	"fmt"
	"math"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"

	"github.com/triadml/triad/graph"
)

// Cell names a recurrent cell.
type Cell string

// The cells.
const (
	Tanh Cell = "rnn"      // Elman RNN with tanh
	ReLU Cell = "rnn_relu" // Elman RNN with ReLU
	LSTM Cell = "lstm"
	GRU  Cell = "gru"
)

// gates returns the number of gate blocks of a cell's weight matrices.
func (c Cell) gates() int {
	switch c {
	case LSTM:
		return 4
	case GRU:
		return 3
	}
	return 1
}

// Config describes a recurrent stack.
type Config struct {
	Cell          Cell    // rnn, rnn_relu, lstm or gru
	Input         int     // size of x_t
	Hidden        int     // size of h_t
	Layers        int     // stacked layers (default 1)
	Dropout       float64 // dropout on the outputs of every layer but the last, in training
	Bidirectional bool
	// ForgetBias is the initial value of the LSTM forget gate's bias (b_ih's forget
	// block; b_hh's stays as initialised). The zero value means 1, the default
	// (Jozefowicz et al. 2015); NoForgetBias keeps PyTorch's uniform initialisation.
	ForgetBias float64
	// Fused runs Forward through ForwardSeq's whole-sequence kernels (one node per
	// layer and direction) instead of the per-step graph; the results are the same
	// to rounding. Forward then cuts the output back into steps, and the gradient
	// of each step's output comes back as a tensor of the whole sequence's size
	// that Gorgonia sums: work and memory grow as T^2 in the backward pass. Call
	// ForwardSeq itself for long sequences.
	Fused bool
}

// NoForgetBias, as Config.ForgetBias, leaves the forget bias as PyTorch initialises it.
var NoForgetBias = math.NaN()

// Weights of one direction of one layer.
type Weights struct {
	IH, HH, BiasIH, BiasHH *graph.Param
}

// RNN is a stack of recurrent layers.
type RNN struct {
	Config
	// Layers[l][d] holds layer l's direction d (0 forward, 1 reverse).
	Weights [][]Weights
}

// New creates the parameters of a recurrent stack in s under name ("" for none):
// every weight and bias uniform in +-1/sqrt(Hidden), as PyTorch does.
func New(s *graph.Store, name string, cfg Config) (*RNN, error) {
	switch cfg.Cell {
	case Tanh, ReLU, LSTM, GRU:
	default:
		return nil, errors.Errorf("rnn: unknown cell %q (rnn, rnn_relu, lstm, gru)", cfg.Cell)
	}
	if cfg.Layers == 0 {
		cfg.Layers = 1
	}
	if cfg.Input <= 0 || cfg.Hidden <= 0 || cfg.Layers < 0 {
		return nil, errors.Errorf("rnn: invalid sizes input %d hidden %d layers %d", cfg.Input, cfg.Hidden, cfg.Layers)
	}
	if cfg.Dropout < 0 || cfg.Dropout >= 1 {
		return nil, errors.Errorf("rnn: dropout %g outside [0, 1)", cfg.Dropout)
	}
	if name != "" {
		s = s.Sub(name)
	}
	r := &RNN{Config: cfg}
	init := graph.UniformFan(cfg.Hidden)
	gh := cfg.Cell.gates() * cfg.Hidden
	for l := 0; l < cfg.Layers; l++ {
		in := cfg.Input
		if l > 0 {
			in = cfg.Hidden * r.Directions()
		}
		var dirs []Weights
		for d := 0; d < r.Directions(); d++ {
			suffix := fmt.Sprintf("_l%d", l)
			if d == 1 {
				suffix += "_reverse"
			}
			var w Weights
			var err error
			if w.IH, err = s.New("weight_ih"+suffix, []int{gh, in}, init); err != nil {
				return nil, err
			}
			if w.HH, err = s.New("weight_hh"+suffix, []int{gh, cfg.Hidden}, init); err != nil {
				return nil, err
			}
			if w.BiasIH, err = s.New("bias_ih"+suffix, []int{gh}, init); err != nil {
				return nil, err
			}
			if w.BiasHH, err = s.New("bias_hh"+suffix, []int{gh}, init); err != nil {
				return nil, err
			}
			if cfg.Cell == LSTM && !math.IsNaN(cfg.ForgetBias) {
				fb := cfg.ForgetBias
				if fb == 0 {
					fb = 1
				}
				setForgetBias(w.BiasIH, cfg.Hidden, fb)
			}
			dirs = append(dirs, w)
		}
		r.Weights = append(r.Weights, dirs)
	}
	return r, nil
}

func setForgetBias(p *graph.Param, h int, v float64) {
	switch d := p.Value.Data().(type) {
	case []float32:
		for j := h; j < 2*h; j++ {
			d[j] = float32(v)
		}
	case []float64:
		for j := h; j < 2*h; j++ {
			d[j] = v
		}
	}
}

// Directions returns 2 for a bidirectional stack, 1 otherwise.
func (r *RNN) Directions() int {
	if r.Bidirectional {
		return 2
	}
	return 1
}

// OutputSize returns the size of each step's output: Hidden times Directions.
func (r *RNN) OutputSize() int { return r.Hidden * r.Directions() }

// States returns how many state tensors (B, Hidden) a stack carries: Layers times
// Directions, ordered as PyTorch's h_n (layer-major, forward before reverse).
func (r *RNN) States() int { return r.Layers * r.Directions() }

// State is a stack's recurrent state, one (B, Hidden) node per layer and direction
// in PyTorch's h_n order; C is the LSTM cell state (nil for other cells).
type State struct {
	H, C []*G.Node
}

// Forward runs the stack over xs (T nodes of shape (B, Input)) from init and
// returns the outputs of the last layer (T nodes (B, OutputSize)) and the final
// state. masks, when not nil, holds T nodes (B, 1) of 1 for a real step and 0 for
// padding: a padded step leaves the state unchanged and outputs zeros, so each
// direction of each sequence sees only its real steps, as PyTorch's packed
// sequences do.
//
// With Config.Fused the stack runs as ForwardSeq's fused kernels; otherwise it is
// unrolled, a few nodes per step, layer and direction: the reference the fused
// kernels are tested against.
func (r *RNN) Forward(b *graph.Builder, xs []*G.Node, init State, masks []*G.Node) ([]*G.Node, State) {
	if len(xs) == 0 {
		b.Fail(errors.New("rnn: no steps"))
		return nil, State{}
	}
	if r.Fused {
		if masks != nil && len(masks) != len(xs) {
			b.Fail(errors.Errorf("rnn: %d masks for %d steps", len(masks), len(xs)))
			return nil, State{}
		}
		return r.forwardFused(b, xs, init, masks)
	}
	return r.forwardUnrolled(b, xs, init, masks)
}

// forwardUnrolled is Forward as a per-step graph.
func (r *RNN) forwardUnrolled(b *graph.Builder, xs []*G.Node, init State, masks []*G.Node) ([]*G.Node, State) {
	var final State
	if len(init.H) != r.States() || (r.Cell == LSTM && len(init.C) != r.States()) {
		b.Fail(errors.Errorf("rnn: initial state has %d h and %d c tensors, want %d", len(init.H), len(init.C), r.States()))
		return nil, final
	}
	if masks != nil && len(masks) != len(xs) {
		b.Fail(errors.Errorf("rnn: %d masks for %d steps", len(masks), len(xs)))
		return nil, final
	}
	inputs := xs
	for l := 0; l < r.Layers; l++ {
		if l > 0 {
			for t := range inputs {
				inputs[t] = graph.Dropout(b, inputs[t], r.Dropout)
			}
		}
		outs := make([][]*G.Node, r.Directions())
		for d := 0; d < r.Directions(); d++ {
			k := l*r.Directions() + d
			var c0 *G.Node
			if r.Cell == LSTM {
				c0 = init.C[k]
			}
			var h, c *G.Node
			outs[d], h, c = r.direction(b, r.Weights[l][d], inputs, init.H[k], c0, masks, d == 1)
			final.H = append(final.H, h)
			if r.Cell == LSTM {
				final.C = append(final.C, c)
			}
		}
		next := make([]*G.Node, len(xs))
		for t := range xs {
			if r.Directions() == 1 {
				next[t] = outs[0][t]
			} else {
				next[t] = graph.Concat(b, outs[0][t], outs[1][t])
			}
		}
		inputs = next
	}
	return inputs, final
}

// direction runs one layer in one direction and returns its per-step outputs (in
// time order) and final state.
func (r *RNN) direction(b *graph.Builder, w Weights, xs []*G.Node, h, c *G.Node, masks []*G.Node, reverse bool) ([]*G.Node, *G.Node, *G.Node) {
	wih, whh, bih, bhh := b.Param(w.IH), b.Param(w.HH), b.Param(w.BiasIH), b.Param(w.BiasHH)
	outs := make([]*G.Node, len(xs))
	for i := range xs {
		t := i
		if reverse {
			t = len(xs) - 1 - i
		}
		x := xs[t]
		var hNew, cNew *G.Node
		switch r.Cell {
		case Tanh, ReLU:
			a := b.Check(graph.Apply(affine2Kernel{}, x, wih, h, whh, bih, bhh))
			if r.Cell == Tanh {
				hNew = b.Check(G.Tanh(a))
			} else {
				hNew = b.Check(G.Rectify(a))
			}
		case LSTM:
			a := b.Check(graph.Apply(affine2Kernel{}, x, wih, h, whh, bih, bhh))
			act := b.Check(graph.Apply(lstmGatesKernel{}, a))
			cNew = b.Check(graph.Apply(lstmCKernel{}, act, c))
			hNew = b.Check(graph.Apply(lstmHKernel{}, act, cNew))
		case GRU:
			gx := b.Check(graph.Affine(x, wih, bih))
			gh := b.Check(graph.Affine(h, whh, bhh))
			hNew = b.Check(graph.Apply(gruKernel{}, gx, gh, h))
		}
		if b.Err() != nil {
			return nil, nil, nil
		}
		if masks != nil {
			m := masks[t]
			hNew = keep(b, m, hNew, h)
			if cNew != nil {
				cNew = keep(b, m, cNew, c)
			}
			outs[t] = b.Check(G.BroadcastHadamardProd(hNew, m, nil, []byte{1}))
		} else {
			outs[t] = hNew
		}
		h, c = hNew, cNew
	}
	return outs, h, c
}

// keep returns m*new + (1-m)*old for a (B,1) mask m: new on real steps, old on padding.
func keep(b *graph.Builder, m, newV, oldV *G.Node) *G.Node {
	diff := b.Check(G.Sub(newV, oldV))
	return b.Check(G.Add(oldV, b.Check(G.BroadcastHadamardProd(diff, m, nil, []byte{1}))))
}

// ZeroState declares the initial state as inputs named prefix+".h0.K" (and
// prefix+".c0.K" for an LSTM), K in PyTorch's h_n order, each (batch, Hidden).
func (r *RNN) ZeroState(b *graph.Builder, prefix string, batch int) State {
	var s State
	for k := 0; k < r.States(); k++ {
		s.H = append(s.H, b.Input(fmt.Sprintf("%s.h0.%d", prefix, k), b.Dtype(), batch, r.Hidden))
		if r.Cell == LSTM {
			s.C = append(s.C, b.Input(fmt.Sprintf("%s.c0.%d", prefix, k), b.Dtype(), batch, r.Hidden))
		}
	}
	return s
}
