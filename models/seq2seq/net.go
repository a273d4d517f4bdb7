package seq2seq

import (
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/models/rnn"
)

// NewDecoder returns a decoder over the model's weights in s (a
// decode.StepModel over target ids).
func (m *Model) NewDecoder(s *graph.Store) *Decoder {
	return NewDecoder("seq2seq", modelNet{m: m, dtype: s.Dtype()}, s)
}

// modelNet is a Model as a Decoder runs it.
type modelNet struct {
	m     *Model
	dtype tensor.Dtype
}

// Layout implements Net.
func (n modelNet) Layout() Layout {
	return Layout{Memory: n.m.Config.DecoderWidth(), Keys: n.m.keyWidth(), Cell: n.m.Config.Cell == rnn.LSTM}
}

// Sources implements Net: the source ids and keep masks, time-major.
func (n modelNet) Sources(srcs [][]int, srcLen int) (map[string]*tensor.Dense, *tensor.Dense, error) {
	pb, err := Pad(n.m.Config.Tokens, srcs, nil, srcLen, 1)
	if err != nil {
		return nil, nil, err
	}
	return pb.sourceFeeds(n.dtype), graph.FromFloat64s(n.dtype, pb.SrcMask, pb.B, pb.S), nil
}

// BuildEncoder implements Net.
func (n modelNet) BuildEncoder(b graph.SaltedBuilder, batch, srcLen int) (memory, keys *G.Node, init StepState) {
	ids, keep := n.m.sources(b, batch, srcLen)
	e := n.m.encode(b, ids, keep, srcLen)
	return e.memory, e.keys, StepState{H: e.h0, C: e.c0}
}

// BuildStep implements Net.
func (n modelNet) BuildStep(b graph.SaltedBuilder, prev *G.Node, st StepState, memory, keys, mask *G.Node) (logits, weights *G.Node, next StepState) {
	next, feat, weights := n.m.step().Build(b.Builder, prev, st, memory, keys, mask)
	return n.m.logits(b.Builder, feat), weights, next
}
