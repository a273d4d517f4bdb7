package gpt

import (
	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/losses"
)

// IgnoreIndex is the target id whose positions take no part in the loss.
const IgnoreIndex = -1

// Program is a compiled graph of the model for a fixed batch and length: inputs
// "idx" and "targets" (B, T) token ids, set by Feed; outputs "logits"
// (B, T, VocabSize) and "loss", the mean cross-entropy of the next token over
// the targets that are not IgnoreIndex. A Train program adds the loss's
// gradients into the parameters' Grad on each Run and draws its dropout masks
// from the program's noise stream (SetNoise).
type Program struct {
	graph.SaltedProgram
	Batch, T int
}

// Build compiles the model for batch sequences of t tokens (t at most
// BlockSize); mode Train differentiates the loss.
func (m *Model) Build(s *graph.Store, mode graph.Mode, batch, t int) (*Program, error) {
	if batch <= 0 || t <= 0 || t > m.Config.BlockSize {
		return nil, errors.Errorf("gpt: batch %d and length %d (block %d)", batch, t, m.Config.BlockSize)
	}
	p, err := graph.CompileSalted(func(b graph.SaltedBuilder) (*graph.Program, error) {
		b.Builder = graph.NewBuilder(s, mode)
		idx := b.In("idx", tensor.Int, batch, t)
		targets := b.In("targets", tensor.Int, batch, t)
		pos := b.In("pos", tensor.Int, batch, t)
		logits := m.logits(b.Builder, m.hidden(b.Builder, idx, pos, m.causal(b.Builder)))
		if b.Err() != nil {
			return nil, b.Err()
		}
		loss := b.Check(losses.CrossEntropy(logits, targets, losses.CEOptions{IgnoreIndex: graph.IgnoreClass(IgnoreIndex)}))
		b.Output("logits", logits)
		b.Output("loss", loss)
		return b.CompileLoss(loss)
	})
	if err != nil {
		return nil, errors.Wrap(err, "gpt")
	}
	pos := make([]int, batch*t)
	for i := range pos {
		pos[i] = i % t
	}
	if err := p.SetInput("pos", graph.FromInts(pos, batch, t)); err != nil {
		return nil, err
	}
	return &Program{SaltedProgram: p, Batch: batch, T: t}, nil
}

// Feed sets a batch of token ids and of their targets (usually the ids shifted
// by one), Batch rows of T each; nil targets ignore every position.
func (p *Program) Feed(idx, targets [][]int) error {
	flat := func(what string, rows [][]int, fill int) (*tensor.Dense, error) {
		v := make([]int, 0, p.Batch*p.T)
		if rows == nil {
			for range p.Batch * p.T {
				v = append(v, fill)
			}
			return graph.FromInts(v, p.Batch, p.T), nil
		}
		if len(rows) != p.Batch {
			return nil, errors.Errorf("gpt: %d rows of %s for a batch of %d", len(rows), what, p.Batch)
		}
		for i, r := range rows {
			if len(r) != p.T {
				return nil, errors.Errorf("gpt: row %d of %s has %d tokens, want %d", i, what, len(r), p.T)
			}
			v = append(v, r...)
		}
		return graph.FromInts(v, p.Batch, p.T), nil
	}
	if idx == nil {
		return errors.New("gpt: no token ids")
	}
	x, err := flat("ids", idx, 0)
	if err != nil {
		return err
	}
	y, err := flat("targets", targets, IgnoreIndex)
	if err != nil {
		return err
	}
	return p.SetInputs(map[string]*tensor.Dense{"idx": x, "targets": y})
}
