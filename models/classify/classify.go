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
	"github.com/triadml/triad/models/decode"
	"github.com/triadml/triad/models/rnn"
	"github.com/triadml/triad/models/transformer"
)

// Encoder names a sentence encoder.
type Encoder string

// The encoders.
const (
	// BiLSTMAttn is a bidirectional recurrent network with self-attentive pooling.
	BiLSTMAttn Encoder = "bilstm-attn"
	// Transformer is a stack of Transformer encoder layers with mean or
	// first-token pooling.
	Transformer Encoder = "transformer"
)

// Pool names the Transformer encoder's pooling.
type Pool string

// The Transformer poolings.
const (
	// PoolMean averages the outputs over the real tokens.
	PoolMean Pool = "mean"
	// PoolFirst takes the output at the first position, a <bos> token prepended
	// to every sentence.
	PoolFirst Pool = "first"
)

// Config describes a classifier.
type Config struct {
	Encoder Encoder
	Vocab   int // vocabulary size, special tokens included (vocab.Vocab.Len())
	Classes int
	// Embed is the embedding width; for the Transformer it is the model width d.
	Embed int
	// EmbedStd is the standard deviation of the recurrent encoder's initial
	// embeddings, N(0, EmbedStd^2); 0 means 1, torch.nn.Embedding's default.
	// Kim (2014) draws unknown words' vectors from U(-0.25, 0.25), a standard
	// deviation of 0.144.
	EmbedStd float64
	// Hidden is the recurrent encoder's width per direction.
	Hidden int
	// Cell is the recurrent cell, rnn.LSTM (default) or rnn.GRU.
	Cell rnn.Cell
	// Layers is the number of recurrent or Transformer layers (default 1).
	Layers int
	// AttnDim is the width d_a of the self-attentive pooling (default Hidden).
	AttnDim int
	// Heads and FF are the Transformer's attention heads and feed-forward width
	// (defaults 4 and 4*Embed).
	Heads, FF int
	// Pool is the Transformer's pooling (default PoolMean).
	Pool Pool
	// Dropout is the probability of dropping an embedding or sentence-vector
	// element, and inside the Transformer's layers, in training.
	Dropout float64
	// Tokens are the special ids: Pad the padding token's, Unk that of the
	// token an empty sentence becomes and BOS that of the token first-token
	// pooling prepends (package vocab's are 0, 1 and 2); EOS is not read.
	decode.Tokens
}

// WithDefaults returns c with its zero fields set to their defaults, or an error
// naming what is invalid.
func (c Config) WithDefaults() (Config, error) {
	if c.Layers == 0 {
		c.Layers = 1
	}
	if c.Vocab <= 0 || c.Classes < 2 || c.Embed <= 0 || c.Layers < 0 {
		return c, errors.Errorf("classifier: vocabulary %d, classes %d, embedding %d, layers %d (want positive sizes and 2 classes or more)",
			c.Vocab, c.Classes, c.Embed, c.Layers)
	}
	for _, id := range []int{c.Pad, c.Unk, c.BOS} {
		if id < 0 || id >= c.Vocab {
			return c, errors.Errorf("classifier: special token id %d outside the vocabulary of %d", id, c.Vocab)
		}
	}
	if c.EmbedStd < 0 {
		return c, errors.Errorf("classifier: embedding standard deviation %g is negative", c.EmbedStd)
	}
	if c.Dropout < 0 || c.Dropout >= 1 {
		return c, errors.Errorf("classifier: dropout %g outside [0, 1)", c.Dropout)
	}
	switch c.Encoder {
	case BiLSTMAttn:
		if c.Cell == "" {
			c.Cell = rnn.LSTM
		}
		if c.Cell != rnn.LSTM && c.Cell != rnn.GRU {
			return c, errors.Errorf("classifier: cell %q (lstm, gru)", c.Cell)
		}
		if c.Hidden <= 0 {
			return c, errors.Errorf("classifier: hidden %d must be positive", c.Hidden)
		}
		if c.AttnDim == 0 {
			c.AttnDim = c.Hidden
		}
	case Transformer:
		if c.Heads == 0 {
			c.Heads = 4
		}
		if c.FF == 0 {
			c.FF = 4 * c.Embed
		}
		if c.Pool == "" {
			c.Pool = PoolMean
		}
		if c.Pool != PoolMean && c.Pool != PoolFirst {
			return c, errors.Errorf("classifier: pooling %q (mean, first)", c.Pool)
		}
		if c.Heads <= 0 || c.Embed%c.Heads != 0 {
			return c, errors.Errorf("classifier: %d heads do not divide the width %d", c.Heads, c.Embed)
		}
	default:
		return c, errors.Errorf("classifier: unknown encoder %q (%s, %s)", c.Encoder, BiLSTMAttn, Transformer)
	}
	return c, nil
}

// Classifier is a sentence classifier: embedding, encoder, pooling, linear output.
type Classifier struct {
	Config Config
	Embed  *graph.Embedding
	// RNN and Attn make the recurrent encoder.
	RNN  *rnn.RNN
	Attn *SelfAttentivePool
	// Layers make the Transformer encoder.
	Layers []*transformer.EncoderLayer
	Out    *graph.Linear
}

// New creates a classifier's parameters in s (see the package documentation for
// their names). The recurrent encoder's embedding is N(0, EmbedStd^2); the
// Transformer's is N(0, 1/d), scaled by sqrt(d) in the graph (Vaswani et al. 2017,
// sec. 3.4).
func New(s *graph.Store, cfg Config) (*Classifier, error) {
	cfg, err := cfg.WithDefaults()
	if err != nil {
		return nil, err
	}
	c := &Classifier{Config: cfg}
	width := cfg.Embed
	switch cfg.Encoder {
	case BiLSTMAttn:
		std := cfg.EmbedStd
		if std == 0 {
			std = 1
		}
		w, err := s.New("embed.weight", []int{cfg.Vocab, cfg.Embed}, graph.Normal(0, std))
		if err != nil {
			return nil, err
		}
		c.Embed = &graph.Embedding{Weight: w, Num: cfg.Vocab, Dim: cfg.Embed}
		if c.RNN, err = rnn.New(s, "rnn", rnn.Config{Cell: cfg.Cell, Input: cfg.Embed, Hidden: cfg.Hidden, Layers: cfg.Layers,
			Dropout: cfg.Dropout, Bidirectional: true}); err != nil {
			return nil, err
		}
		width = c.RNN.OutputSize()
		if c.Attn, err = NewSelfAttentivePool(s, "pool", width, cfg.AttnDim); err != nil {
			return nil, err
		}
	case Transformer:
		w, err := s.New("embed.weight", []int{cfg.Vocab, cfg.Embed}, graph.Normal(0, 1/math.Sqrt(float64(cfg.Embed))))
		if err != nil {
			return nil, err
		}
		c.Embed = &graph.Embedding{Weight: w, Num: cfg.Vocab, Dim: cfg.Embed}
		lc := transformer.LayerConfig{Dim: cfg.Embed, Heads: cfg.Heads, FF: cfg.FF, Dropout: cfg.Dropout}
		for i := 0; i < cfg.Layers; i++ {
			l, err := transformer.NewEncoderLayer(s, fmt.Sprintf("encoder.layers.%d", i), lc)
			if err != nil {
				return nil, err
			}
			c.Layers = append(c.Layers, l)
		}
	}
	if c.Out, err = graph.NewLinear(s, "out", width, cfg.Classes, true); err != nil {
		return nil, err
	}
	return c, nil
}

// Prepare returns the ids the model sees for a sentence's token ids in a program
// of length positions: the ids cut to length, after the BOS token for first-token
// pooling. An empty sentence becomes one Unk token, so every row has a real
// token.
func (c *Classifier) Prepare(ids []int, length int) []int {
	if len(ids) == 0 {
		ids = []int{c.Config.Unk}
	}
	var row []int
	if c.Config.Encoder == Transformer && c.Config.Pool == PoolFirst {
		row = append(row, c.Config.BOS)
	}
	row = append(row, ids...)
	if len(row) > length {
		row = row[:length]
	}
	return row
}

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
		x := graph.Scale(b, c.Embed.Forward(b, ids), math.Sqrt(float64(c.Config.Embed)))
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
	if mode == graph.Train {
		p.Program, err = b.Compile(loss)
	} else {
		p.Program, err = b.Compile(nil)
	}
	if err != nil {
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
