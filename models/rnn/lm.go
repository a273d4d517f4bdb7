package rnn

import (
	"fmt"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/losses"
)

// LMConfig describes a recurrent language model: embedding, recurrent stack,
// output head.
type LMConfig struct {
	Vocab   int
	Embed   int // embedding size (0: Hidden)
	Hidden  int
	Layers  int
	Cell    Cell
	Dropout float64 // on the embeddings, between layers and before the head
	Tie     bool    // share the embedding table with the output head (needs Embed == Hidden)
	// Unrolled builds the per-step reference graph instead of the fused
	// whole-sequence kernels (see RNN.ForwardSeq); both give the same results to
	// rounding, the fused graph several times faster.
	Unrolled bool
}

// LM is a recurrent language model, p(x_{t+1} | x_1..x_t) = softmax(head(h_t)).
type LM struct {
	Config LMConfig
	Embed  *graph.Embedding
	RNN    *RNN
	Head   *LMHead
}

// NewLM creates the model's parameters in s: "embed.weight", "rnn.*" (PyTorch's
// nn.LSTM names), "head.weight", "head.bias".
func NewLM(s *graph.Store, cfg LMConfig) (*LM, error) {
	if cfg.Embed == 0 {
		cfg.Embed = cfg.Hidden
	}
	if cfg.Vocab <= 0 {
		return nil, errors.Errorf("lm: vocabulary size %d", cfg.Vocab)
	}
	emb, err := graph.NewEmbedding(s, "embed", cfg.Vocab, cfg.Embed)
	if err != nil {
		return nil, err
	}
	r, err := New(s, "rnn", Config{Cell: cfg.Cell, Input: cfg.Embed, Hidden: cfg.Hidden, Layers: cfg.Layers, Dropout: cfg.Dropout,
		Fused: !cfg.Unrolled})
	if err != nil {
		return nil, err
	}
	var tie *graph.Embedding
	if cfg.Tie {
		tie = emb
	}
	head, err := NewLMHead(s, "head", cfg.Hidden, cfg.Vocab, tie)
	if err != nil {
		return nil, err
	}
	return &LM{Config: cfg, Embed: emb, RNN: r, Head: head}, nil
}

// LMProgram is a compiled language-model graph for a fixed batch and window:
// inputs "x" (the T*B token ids, time-major, tensor.Int; for an unrolled model
// "x.T", the B ids of step T), "y" (the T*B next tokens, time-major, tensor.Int)
// and the initial state "state.h0.K" / "state.c0.K"; outputs "loss" (mean nats
// per token), "logits" (T*B, Vocab) when asked for, and the final state
// "state.hN.K" / "state.cN.K". Feed sets x and y whatever the layout.
type LMProgram struct {
	*graph.Program
	Batch, Steps int
	lm           *LM
	unrolled     bool
	x, y         *tensor.Dense // Feed's buffers
}

// Build compiles the model for batch b and window steps. A training program
// differentiates the loss; withLogits adds the logits as an output (for sampling).
func (m *LM) Build(s *graph.Store, mode graph.Mode, batch, steps int, withLogits bool) (*LMProgram, error) {
	if batch <= 0 || steps <= 0 {
		return nil, errors.Errorf("lm: batch %d, steps %d", batch, steps)
	}
	b := graph.NewBuilder(s, mode)
	var h *G.Node
	var final State
	if m.Config.Unrolled {
		xs := make([]*G.Node, steps)
		for t := range xs {
			ids := b.Input(fmt.Sprintf("x.%d", t), tensor.Int, batch)
			xs[t] = graph.Dropout(b, m.Embed.Forward(b, ids), m.Config.Dropout)
		}
		init := m.RNN.ZeroState(b, "state", batch)
		var outs []*G.Node
		outs, final = m.RNN.forwardUnrolled(b, xs, init, nil)
		if b.Err() != nil {
			return nil, b.Err()
		}
		h = StackSteps(b, outs)
	} else {
		ids := b.Input("x", tensor.Int, steps*batch)
		init := m.RNN.ZeroState(b, "state", batch)
		if (m.Config.Dropout == 0 || mode != graph.Train) && m.Config.Vocab < steps*batch {
			// no dropout on the embeddings: the first layer projects the table
			h, final = m.RNN.ForwardEmbedded(b, b.Param(m.Embed.Weight), ids, steps, init, nil)
		} else {
			// one lookup and one dropout mask for the whole window: the same noise,
			// drawn in the same order, as the unrolled graph's per-step masks
			x := graph.Dropout(b, m.Embed.Forward(b, ids), m.Config.Dropout)
			h, final = m.RNN.ForwardSeq(b, x, steps, init, nil)
		}
		if b.Err() != nil {
			return nil, b.Err()
		}
	}
	logits := m.Head.Forward(b, graph.Dropout(b, h, m.Config.Dropout))
	y := b.Input("y", tensor.Int, steps*batch)
	loss := b.Check(losses.CrossEntropy(logits, y, losses.CEOptions{}))
	b.Output("loss", loss)
	if withLogits {
		b.Output("logits", logits)
	}
	for k := range final.H {
		b.Output(fmt.Sprintf("state.hN.%d", k), final.H[k])
		if final.C != nil {
			b.Output(fmt.Sprintf("state.cN.%d", k), final.C[k])
		}
	}
	p, err := b.CompileLoss(loss)
	if err != nil {
		return nil, errors.Wrap(err, "lm")
	}
	return &LMProgram{Program: p, Batch: batch, Steps: steps, lm: m, unrolled: m.Config.Unrolled,
		x: tensor.New(tensor.Of(tensor.Int), tensor.WithShape(steps*batch)),
		y: tensor.New(tensor.Of(tensor.Int), tensor.WithShape(steps*batch))}, nil
}

// Feed sets the window's tokens: x and y time-major (x[t*B+b]).
func (p *LMProgram) Feed(x, y []int) error {
	if len(x) != p.Batch*p.Steps || len(y) != len(x) {
		return errors.Errorf("lm: window of %d/%d tokens for batch %d x steps %d", len(x), len(y), p.Batch, p.Steps)
	}
	if p.unrolled {
		for t := 0; t < p.Steps; t++ {
			ids := tensor.New(tensor.WithShape(p.Batch), tensor.WithBacking(append([]int(nil), x[t*p.Batch:(t+1)*p.Batch]...)))
			if err := p.Set(fmt.Sprintf("x.%d", t), ids); err != nil {
				return err
			}
		}
	} else {
		copy(graph.Ints(p.x), x)
		if err := p.Set("x", p.x); err != nil {
			return err
		}
	}
	copy(graph.Ints(p.y), y)
	return p.Set("y", p.y)
}

// State is a recurrent state held outside any graph, as tensors: what truncated
// back-propagation carries from one window into the next.
type LMState struct {
	H, C []*tensor.Dense
}

// NewState returns a zero state for batch rows.
func (m *LM) NewState(dtype tensor.Dtype, batch int) LMState {
	var s LMState
	for k := 0; k < m.RNN.States(); k++ {
		s.H = append(s.H, graph.NewDense(dtype, batch, m.Config.Hidden))
		if m.RNN.Cell == LSTM {
			s.C = append(s.C, graph.NewDense(dtype, batch, m.Config.Hidden))
		}
	}
	return s
}

// SetState feeds st as the program's initial state.
func (p *LMProgram) SetState(st LMState) error {
	for k := range st.H {
		if err := p.Set(fmt.Sprintf("state.h0.%d", k), st.H[k]); err != nil {
			return err
		}
		if st.C != nil {
			if err := p.Set(fmt.Sprintf("state.c0.%d", k), st.C[k]); err != nil {
				return err
			}
		}
	}
	return nil
}

// CopyFinalState copies the final state of the last run into st.
func (p *LMProgram) CopyFinalState(st LMState) error {
	for k := range st.H {
		h, err := p.Output(fmt.Sprintf("state.hN.%d", k))
		if err != nil {
			return err
		}
		copyTensor(st.H[k], h)
		if st.C != nil {
			c, err := p.Output(fmt.Sprintf("state.cN.%d", k))
			if err != nil {
				return err
			}
			copyTensor(st.C[k], c)
		}
	}
	return nil
}

// Zero sets the state to zero.
func (st LMState) Zero() {
	for _, t := range append(append([]*tensor.Dense(nil), st.H...), st.C...) {
		t.Zero()
	}
}

func copyTensor(dst, src *tensor.Dense) {
	switch dst.Dtype() {
	case tensor.Float32:
		copy(graph.Slice[float32](dst), graph.Slice[float32](src))
	case tensor.Float64:
		copy(graph.Slice[float64](dst), graph.Slice[float64](src))
	}
}
