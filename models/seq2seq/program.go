package seq2seq

import (
	"maps"
	"math/rand/v2"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/losses"
	"github.com/triadml/triad/models/decode"
)

// PairProgram is a compiled teacher-forced program of a sequence-to-sequence
// model for a fixed batch and lengths (Program, transformer.Program,
// pointer.Program): Feed sets a batch of (source, target) pairs and returns its
// number of target tokens; Run computes the outputs ("loss", "attn", ...) and,
// in training, the gradients.
type PairProgram interface {
	Feed(srcs, tgts [][]int) (int, error)
	SetNoise(*rand.Rand)
	Run() error
	Output(string) (*tensor.Dense, error)
	Close() error
}

// RunPairs feeds the pairs of srcs and tgts to prog, calls before (if any)
// with their target tokens, which may rescale the gradients gathered so far
// before the run adds the batch's, runs prog and returns the tokens and the
// mean loss per token.
func RunPairs(prog PairProgram, srcs, tgts [][]int, before func(tokens int)) (tokens int, loss float64, err error) {
	if tokens, err = prog.Feed(srcs, tgts); err != nil {
		return 0, 0, err
	}
	if before != nil {
		before(tokens)
	}
	if err := prog.Run(); err != nil {
		return 0, 0, err
	}
	out, err := prog.Output("loss")
	if err != nil {
		return 0, 0, err
	}
	return tokens, graph.Scalar(out), nil
}

// Program is a compiled teacher-forced graph of a Model for a fixed batch and
// source/target lengths. Feed sets a batch (the inputs, one per source and target
// step, may carry a suffix in the graph: see graph.CompileSalted); outputs: "loss"
// (mean cross-entropy per target token, EOS included) and "attn" (B, TgtLen,
// SrcLen), the attention weights of every target step.
type Program struct {
	graph.SaltedProgram
	Batch, SrcLen, TgtLen int
	tok                   decode.Tokens
	dtype                 tensor.Dtype
}

var _ PairProgram = (*Program)(nil)

// CompilePairs compiles the teacher-forced graph of forward, which creates the
// inputs on b and returns the loss and the attention weights (nil, nil once b
// has failed): the outputs "loss" and "attn". A Train program differentiates
// the loss.
func CompilePairs(s *graph.Store, mode graph.Mode, forward func(b graph.SaltedBuilder) (loss, attn *G.Node)) (graph.SaltedProgram, error) {
	return graph.CompileSalted(func(b graph.SaltedBuilder) (*graph.Program, error) {
		b.Builder = graph.NewBuilder(s, mode)
		loss, attn := forward(b)
		if b.Err() != nil {
			return nil, b.Err()
		}
		b.Output("loss", loss)
		b.Output("attn", attn)
		return b.CompileLoss(loss)
	})
}

// PadBatch pads a batch of pairs with Pad for a program of batch rows, which
// wants exactly batch pairs; name starts its errors.
func PadBatch(name string, tok decode.Tokens, srcs, tgts [][]int, batch, srcLen, tgtLen int) (*Batch, error) {
	if len(srcs) != batch {
		return nil, errors.Errorf("%s: %d pairs for a batch of %d", name, len(srcs), batch)
	}
	pb, err := Pad(tok, srcs, tgts, srcLen, tgtLen)
	if err != nil {
		return nil, errors.Wrap(err, name)
	}
	return pb, nil
}

// Build compiles a teacher-forced program for batch pairs of sources of at most
// srcLen tokens and targets of at most tgtLen-1 tokens (plus EOS). A Train program
// differentiates the loss; labelSmoothing is the loss's epsilon.
func (m *Model) Build(s *graph.Store, mode graph.Mode, batch, srcLen, tgtLen int, labelSmoothing float64) (*Program, error) {
	if batch <= 0 || srcLen <= 0 || tgtLen <= 0 {
		return nil, errors.Errorf("seq2seq: batch %d, lengths %d/%d", batch, srcLen, tgtLen)
	}
	p, err := CompilePairs(s, mode, func(b graph.SaltedBuilder) (loss, attn *G.Node) {
		ids, keep := m.sources(b, batch, srcLen)
		mask := b.In("src_mask", s.Dtype(), batch, srcLen)
		enc := m.encode(b, ids, keep, srcLen)
		feats, attn := m.step().Unroll(b, batch, tgtLen, StepState{H: enc.h0, C: enc.c0}, enc.memory, enc.keys, mask)
		if b.Err() != nil {
			return nil, nil
		}
		logits := m.logits(b.Builder, feats)
		target := b.In("tgt_out", tensor.Int, batch, tgtLen)
		tgtKeep := b.In("tgt_keep", s.Dtype(), batch, tgtLen)
		if b.Err() != nil {
			return nil, nil
		}
		return b.Check(losses.SequenceCrossEntropy(logits, target, tgtKeep, losses.CEOptions{LabelSmoothing: labelSmoothing})), attn
	})
	if err != nil {
		return nil, errors.Wrap(err, "seq2seq")
	}
	return &Program{SaltedProgram: p, Batch: batch, SrcLen: srcLen, TgtLen: tgtLen, tok: m.Config.Tokens, dtype: s.Dtype()}, nil
}

// Feed sets a batch of (source, target) pairs (token ids without BOS/EOS; padded
// here). It returns the number of target tokens (EOS included) in the batch.
func (p *Program) Feed(srcs, tgts [][]int) (int, error) {
	pb, err := PadBatch("seq2seq", p.tok, srcs, tgts, p.Batch, p.SrcLen, p.TgtLen)
	if err != nil {
		return 0, err
	}
	feeds := TargetInputs(pb.TgtIn, pb.B, pb.T)
	maps.Copy(feeds, pb.sourceFeeds(p.dtype))
	feeds["src_mask"] = graph.FromFloat64s(p.dtype, pb.SrcMask, pb.B, pb.S)
	feeds["tgt_out"] = graph.FromInts(pb.TgtOut, pb.B, pb.T)
	feeds["tgt_keep"] = graph.FromFloat64s(p.dtype, pb.TgtKeep, pb.B, pb.T)
	return pb.Tokens(), p.SetInputs(feeds)
}

// sourceFeeds returns the encoder's inputs "src" and "src_keep" (see
// Model.sources).
func (p *Batch) sourceFeeds(dtype tensor.Dtype) map[string]*tensor.Dense {
	return map[string]*tensor.Dense{
		"src":      graph.FromInts(timeMajor(p.Src, p.B, p.S), p.S*p.B),
		"src_keep": graph.FromFloat64s(dtype, timeMajor(p.SrcKeep, p.B, p.S), p.S*p.B, 1),
	}
}
