package classify

import (
	"fmt"
	"math"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/losses"
	"github.com/triadml/triad/models/attention"
	"github.com/triadml/triad/models/transformer"
)

// Program is a compiled classifier graph for a fixed batch and length. Feed sets
// its inputs; outputs: "loss" (mean cross-entropy over the labelled rows),
// "logits" (B, Classes) and, in an evaluation program, "weights" (B, T), the
// attention over the positions (see the package documentation).
type Program struct {
	*graph.Program
	Batch, Len int
	model      *Classifier
	// reusable input tensors
	y         *tensor.Dense
	masks     []*tensor.Dense // bilstm: masks per step (B, 1)
	pad       *tensor.Dense   // bilstm: additive (B, T)
	ids       *tensor.Dense   // bilstm: (T, B); transformer: (B, T)
	keep, avg *tensor.Dense   // transformer: (B, T)
}

// Build compiles the classifier for batch rows of length positions. A Train
// program differentiates the loss; an Eval program has no dropout and also
// outputs the attention weights.
func (c *Classifier) Build(s *graph.Store, mode graph.Mode, batch, length int) (*Program, error) {
	if batch <= 0 || length <= 0 {
		return nil, errors.Errorf("classifier: batch %d and length %d must be positive", batch, length)
	}
	if c.Config.Encoder == Transformer && c.Config.Pool == PoolFirst && length < 2 {
		return nil, errors.Errorf("classifier: first-token pooling needs a length of at least 2, got %d", length)
	}
	b := graph.NewBuilder(s, mode)
	dt := b.Dtype()
	p := &Program{Batch: batch, Len: length, model: c, y: tensor.New(tensor.WithShape(batch), tensor.Of(tensor.Int))}
	var pooled, weights *G.Node
	switch c.Config.Encoder {
	case BiLSTMAttn:
		// one lookup for the whole batch, time-major, then one (B, E) node per step:
		// the table is used once, so its gradient is one scatter rather than a sum
		// of T dense (Vocab, E) tensors
		ids := b.Input("ids", tensor.Int, length, batch)
		p.ids = tensor.New(tensor.WithShape(length, batch), tensor.Of(tensor.Int))
		emb := graph.Dropout(b, c.Embed.Forward(b, ids), c.Config.Dropout)
		xs := make([]*G.Node, length)
		masks := make([]*G.Node, length)
		for t := 0; t < length; t++ {
			if emb != nil {
				xs[t] = b.Check(graph.Apply(stepKernel{t: t}, emb))
			}
			masks[t] = b.Input(fmt.Sprintf("mask.%d", t), dt, batch, 1)
			p.masks = append(p.masks, graph.NewDense(dt, batch, 1))
		}
		if b.Err() != nil {
			return nil, errors.Wrap(b.Err(), "classifier")
		}
		outs, _ := c.RNN.Forward(b, xs, c.RNN.ZeroState(b, "state", batch), masks)
		if b.Err() != nil {
			return nil, errors.Wrap(b.Err(), "classifier")
		}
		h := outs[0]
		if length > 1 {
			h = graph.Stack(b, outs)
		} else {
			h = b.Check(G.Reshape(h, tensor.Shape{batch, 1, c.RNN.OutputSize()}))
		}
		pad := b.Input("pad", dt, batch, length)
		p.pad = graph.NewDense(dt, batch, length)
		pooled, weights = c.Attn.Forward(b, h, pad)
	case Transformer:
		ids := b.Input("ids", tensor.Int, batch, length)
		keep := b.Input("keep", dt, batch, length)
		avg := b.Input("pool", dt, batch, length)
		p.ids = tensor.New(tensor.WithShape(batch, length), tensor.Of(tensor.Int))
		p.keep, p.avg = graph.NewDense(dt, batch, length), graph.NewDense(dt, batch, length)
		x := transformer.ScaledEmbed(b, c.Embed, ids)
		x = graph.Dropout(b, transformer.SinusoidalPositions{}.Add(b, x), c.Config.Dropout)
		mask := attention.AttentionMask(b, keep, length, false)
		var attn *G.Node
		for _, l := range c.Layers {
			x, attn = l.Forward(b, x, mask)
		}
		pooled = WeightedSum(b, avg, x)
		if mode == graph.Eval && attn != nil {
			weights = WeightedSum(b, avg, attention.MeanHeads(b, attn, c.Config.Heads))
		}
	}
	logits := c.Out.Forward(b, graph.Dropout(b, pooled, c.Config.Dropout))
	y := b.Input("y", tensor.Int, batch)
	loss := b.Check(losses.CrossEntropy(logits, y, losses.CEOptions{}))
	if b.Err() != nil {
		return nil, errors.Wrap(b.Err(), "classifier")
	}
	b.Output("loss", loss)
	b.Output("logits", logits)
	if mode == graph.Eval && weights != nil {
		b.Output("weights", weights)
	}
	var err error
	if p.Program, err = b.CompileLoss(loss); err != nil {
		return nil, errors.Wrap(err, "classifier")
	}
	return p, nil
}

// Feed sets a batch: at most Batch sentences (token ids, without <bos>; cut to
// the program's length, see Classifier.Prepare) and their labels. labels may be
// nil (prediction); rows without a sentence or a label take no part in the loss.
// It returns the number of positions of each row the model sees.
func (p *Program) Feed(seqs [][]int, labels []int) ([]int, error) {
	if len(seqs) > p.Batch {
		return nil, errors.Errorf("classifier: %d sentences for a batch of %d", len(seqs), p.Batch)
	}
	if labels != nil && len(labels) != len(seqs) {
		return nil, errors.Errorf("classifier: %d labels for %d sentences", len(labels), len(seqs))
	}
	B, T := p.Batch, p.Len
	rows := make([][]int, B)
	lengths := make([]int, B)
	for i, s := range seqs {
		rows[i] = p.model.Prepare(s, T)
		lengths[i] = len(rows[i])
	}
	ys := graph.Ints(p.y)
	for i := range ys {
		ys[i] = graph.DefaultIgnoreIndex
		if labels != nil && i < len(labels) {
			if labels[i] < 0 || labels[i] >= p.model.Config.Classes {
				return nil, errors.Errorf("classifier: label %d outside [0, %d)", labels[i], p.model.Config.Classes)
			}
			ys[i] = labels[i]
		}
	}
	for _, row := range rows {
		for _, id := range row {
			if id < 0 || id >= p.model.Config.Vocab {
				return nil, errors.Errorf("classifier: token id %d outside the vocabulary of %d", id, p.model.Config.Vocab)
			}
		}
	}
	if err := p.Set("y", p.y); err != nil {
		return nil, err
	}
	keep := make([]float64, B*T)
	for i, row := range rows {
		for t := range row {
			keep[i*T+t] = 1
		}
	}
	switch p.model.Config.Encoder {
	case BiLSTMAttn:
		pad := make([]float64, B*T)
		for i := range pad {
			if keep[i] == 0 {
				pad[i] = attention.MaskValue
			}
		}
		fill(p.pad, pad)
		if err := p.Set("pad", p.pad); err != nil {
			return nil, err
		}
		ids := graph.Ints(p.ids)
		m := make([]float64, B)
		for t := 0; t < T; t++ {
			for i := 0; i < B; i++ {
				ids[t*B+i], m[i] = p.model.Config.Pad, keep[i*T+t]
				if t < len(rows[i]) {
					ids[t*B+i] = rows[i][t]
				}
			}
			fill(p.masks[t], m)
			if err := p.Set(fmt.Sprintf("mask.%d", t), p.masks[t]); err != nil {
				return nil, err
			}
		}
		if err := p.Set("ids", p.ids); err != nil {
			return nil, err
		}
	case Transformer:
		ids := graph.Ints(p.ids)
		avg := make([]float64, B*T)
		for i := 0; i < B; i++ {
			for t := 0; t < T; t++ {
				ids[i*T+t] = p.model.Config.Pad
				if t < len(rows[i]) {
					ids[i*T+t] = rows[i][t]
				}
			}
			if lengths[i] == 0 {
				continue
			}
			if p.model.Config.Pool == PoolFirst {
				avg[i*T] = 1
				continue
			}
			for t := 0; t < lengths[i]; t++ {
				avg[i*T+t] = 1 / float64(lengths[i])
			}
		}
		fill(p.keep, keep)
		fill(p.avg, avg)
		for name, v := range map[string]*tensor.Dense{"ids": p.ids, "keep": p.keep, "pool": p.avg} {
			if err := p.Set(name, v); err != nil {
				return nil, err
			}
		}
	}
	return lengths[:len(seqs)], nil
}

// fill copies vals into a float tensor.
func fill(dst *tensor.Dense, vals []float64) {
	switch dst.Dtype() {
	case tensor.Float32:
		d := graph.Slice[float32](dst)
		for i, v := range vals {
			d[i] = float32(v)
		}
	case tensor.Float64:
		copy(graph.Slice[float64](dst), vals)
	}
}

// Logits returns the logits of the last run, one row per batch row.
func (p *Program) Logits() ([][]float64, error) {
	out, err := p.Output("logits")
	if err != nil {
		return nil, err
	}
	return rowsOf(graph.Float64s(out), p.Batch), nil
}

// Weights returns the attention weights of the last run of an evaluation program,
// one row of Len per batch row.
func (p *Program) Weights() ([][]float64, error) {
	out, err := p.Output("weights")
	if err != nil {
		return nil, err
	}
	return rowsOf(graph.Float64s(out), p.Batch), nil
}

func rowsOf(v []float64, n int) [][]float64 {
	w := len(v) / n
	rows := make([][]float64, n)
	for i := range rows {
		rows[i] = v[i*w : (i+1)*w]
	}
	return rows
}

// Softmax returns the probabilities of a row of logits.
func Softmax(logits []float64) []float64 {
	m := math.Inf(-1)
	for _, v := range logits {
		m = math.Max(m, v)
	}
	p := make([]float64, len(logits))
	var sum float64
	for i, v := range logits {
		p[i] = math.Exp(v - m)
		sum += p[i]
	}
	for i := range p {
		p[i] /= sum
	}
	return p
}
