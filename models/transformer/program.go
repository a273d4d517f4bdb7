package transformer

import (
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/models/decode"
	"github.com/triadml/triad/models/seq2seq"
)

// Program is a compiled teacher-forced Transformer graph for a fixed
// batch and lengths. Inputs "src" (B, S) and "tgt_in", "tgt_out" (B, T) ids,
// "src_keep" and "tgt_keep" masks, set by Feed (their graph names may carry a
// suffix: see graph.CompileSalted); outputs "loss" and "attn" (B, T, S).
type Program struct {
	graph.SaltedProgram
	Batch, SrcLen, TgtLen int
	tok                   decode.Tokens
	dtype                 tensor.Dtype
}

var _ seq2seq.PairProgram = (*Program)(nil)

// Build compiles a teacher-forced program for batch pairs of sources of at most
// srcLen tokens and targets of at most tgtLen-1 tokens (plus EOS), both at most
// MaxLen. A Train program differentiates the loss; labelSmoothing is the
// loss's epsilon.
func (m *Model) Build(s *graph.Store, mode graph.Mode, batch, srcLen, tgtLen int, labelSmoothing float64) (*Program, error) {
	if batch <= 0 || srcLen <= 0 || tgtLen <= 0 || srcLen > m.Config.MaxLen || tgtLen > m.Config.MaxLen {
		return nil, errors.Errorf("transformer: batch %d, lengths %d/%d (max %d)", batch, srcLen, tgtLen, m.Config.MaxLen)
	}
	p, err := seq2seq.CompilePairs(s, mode, func(b graph.SaltedBuilder) (loss, attn *G.Node) {
		src := b.In("src", tensor.Int, batch, srcLen)
		srcKeep := b.In("src_keep", s.Dtype(), batch, srcLen)
		tgtIn := b.In("tgt_in", tensor.Int, batch, tgtLen)
		tgtOut := b.In("tgt_out", tensor.Int, batch, tgtLen)
		tgtKeep := b.In("tgt_keep", s.Dtype(), batch, tgtLen)
		memory := m.Encode(b.Builder, src, srcKeep)
		x, w := m.decodeHidden(b.Builder, tgtIn, memory, srcKeep, tgtKeep)
		if b.Err() != nil {
			return nil, nil
		}
		return m.loss(b.Builder, x, tgtOut, tgtKeep, labelSmoothing), w
	})
	if err != nil {
		return nil, errors.Wrap(err, "transformer")
	}
	return &Program{SaltedProgram: p, Batch: batch, SrcLen: srcLen, TgtLen: tgtLen, tok: m.Config.Tokens, dtype: s.Dtype()}, nil
}

// Feed sets a batch of (source, target) pairs (token ids without BOS/EOS; padded
// here). It returns the number of target tokens (EOS included) in the batch.
func (p *Program) Feed(srcs, tgts [][]int) (int, error) {
	pb, err := seq2seq.PadBatch("transformer", p.tok, srcs, tgts, p.Batch, p.SrcLen, p.TgtLen)
	if err != nil {
		return 0, err
	}
	if err := p.SetInputs(map[string]*tensor.Dense{
		"src":      graph.FromInts(pb.Src, pb.B, pb.S),
		"src_keep": graph.FromFloat64s(p.dtype, pb.SrcKeep, pb.B, pb.S),
		"tgt_in":   graph.FromInts(pb.TgtIn, pb.B, pb.T),
		"tgt_out":  graph.FromInts(pb.TgtOut, pb.B, pb.T),
		"tgt_keep": graph.FromFloat64s(p.dtype, pb.TgtKeep, pb.B, pb.T),
	}); err != nil {
		return 0, err
	}
	return pb.Tokens(), nil
}
