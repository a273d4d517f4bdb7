package seq2seq

import (
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/models/attention"
	"github.com/triadml/triad/models/rnn"
)

// StepState is a recurrent decoder's state between two steps in a graph: the
// hidden state H (B, H), the cell state C of an LSTM (nil for a GRU) and the
// context Ctx (B, Hm) of the step before, which only a state-first step reads
// (c_0 = 0 for the first).
type StepState struct {
	H, C, Ctx *G.Node
}

// DecoderStep is one step of a recurrent decoder with attention over a memory:
// with x_t the embedding of the previous token (dropped out in training), in
// Bahdanau order (Bahdanau, Cho and Bengio 2015)
//
//	c_t, a_t = attention(s_{t-1}, m),   s_t = cell([x_t; c_t], s_{t-1})
//
// or, StateFirst, in the order of Luong et al. (2015) and See et al. (2017)
//
//	s_t = cell([x_t; c_{t-1}], s_{t-1}),   c_t, a_t = attention(s_t, m)
//
// with the same parameters. Model is Bahdanau order; models/pointer offers both.
type DecoderStep struct {
	Embed     *graph.Embedding    // the target embeddings
	Attention attention.Recurrent // over the memory
	Cell      *rnn.RNN            // one layer, input Embed.Dim + the memory's width
	Dropout   float64             // on the embeddings, in training
	// StateFirst updates the state before attending (c_0 = 0 is the first
	// step's StepState.Ctx).
	StateFirst bool
}

// Build builds one step from the previous token ids (B) and the state st over
// the memory (B, S, Hm), its attention keys and its additive (B, S) padding
// mask. It returns the state after the step (with its context), the output
// features [s_t; c_t; x_t] and the attention weights a_t (B, S).
func (d DecoderStep) Build(b *graph.Builder, prev *G.Node, st StepState, memory, keys, mask *G.Node) (next StepState, feat, weights *G.Node) {
	return d.build(b, graph.Dropout(b, d.Embed.Forward(b, prev), d.Dropout), st, memory, keys, mask)
}

// build is Build from the previous tokens' embeddings e (B, E), dropout done.
func (d DecoderStep) build(b *graph.Builder, e *G.Node, st StepState, memory, keys, mask *G.Node) (next StepState, feat, weights *G.Node) {
	if e == nil || b.Err() != nil {
		return StepState{}, nil, nil
	}
	update := func(ctx *G.Node) (h, c *G.Node) {
		rs := rnn.State{H: []*G.Node{st.H}}
		if st.C != nil {
			rs.C = []*G.Node{st.C}
		}
		_, final := d.Cell.Forward(b, []*G.Node{graph.Concat(b, e, ctx)}, rs, nil)
		if b.Err() != nil {
			return nil, nil
		}
		if final.C != nil {
			c = final.C[0]
		}
		return final.H[0], c
	}
	if d.StateFirst {
		if next.H, next.C = update(st.Ctx); next.H == nil {
			return StepState{}, nil, nil
		}
		next.Ctx, weights = d.Attention.Attend(b, next.H, keys, memory, mask)
	} else {
		if next.Ctx, weights = d.Attention.Attend(b, st.H, keys, memory, mask); next.Ctx == nil || b.Err() != nil {
			return StepState{}, nil, nil
		}
		next.H, next.C = update(next.Ctx)
	}
	if next.H == nil || next.Ctx == nil || b.Err() != nil {
		return StepState{}, nil, nil
	}
	return next, graph.Concat(b, next.H, next.Ctx, e), weights
}

// Unroll builds the decoder teacher-forced over tgtLen steps from st, reading
// the previous target tokens from the input "tgt_in" (T*B ids, time-major, BOS
// first; TargetInputs lays them out): one lookup and one dropout mask for all
// steps (the same noise, drawn in the same order, as a mask per step), then
// the steps. It returns the output features (B, T, F) and the attention
// weights (B, T, S) of every step.
func (d DecoderStep) Unroll(b graph.SaltedBuilder, batch, tgtLen int, st StepState, memory, keys, mask *G.Node) (feats, weights *G.Node) {
	prev := b.In("tgt_in", tensor.Int, tgtLen*batch)
	es := rnn.Steps(b.Builder, graph.Dropout(b.Builder, d.Embed.Forward(b.Builder, prev), d.Dropout), tgtLen)
	if b.Err() != nil {
		return nil, nil
	}
	fs, ws := make([]*G.Node, tgtLen), make([]*G.Node, tgtLen)
	for t := 0; t < tgtLen; t++ {
		if st, fs[t], ws[t] = d.build(b.Builder, es[t], st, memory, keys, mask); b.Err() != nil {
			return nil, nil
		}
	}
	return graph.Stack(b.Builder, fs), graph.Stack(b.Builder, ws)
}

// TargetInputs returns the input Unroll declares for the previous target
// tokens tgtIn (B, T), row-major.
func TargetInputs(tgtIn []int, batch, tgtLen int) map[string]*tensor.Dense {
	return map[string]*tensor.Dense{"tgt_in": graph.FromInts(timeMajor(tgtIn, batch, tgtLen), tgtLen*batch)}
}
