package gpt

import (
	"fmt"
	"math"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"

	"github.com/triadml/triad/graph"
)

// Config describes a GPT. Layers, Heads and Embed are GPT-2's n_layer, n_head
// and n_embd.
type Config struct {
	VocabSize int     // tokens in the vocabulary (GPT-2: 50257)
	BlockSize int     // the longest context: rows of the position table (GPT-2: 1024)
	Layers    int     // Transformer blocks
	Heads     int     // attention heads; Embed must be a multiple
	Embed     int     // the model's width
	Dropout   float64 // on the embeddings, the attention weights and each residual branch
	Bias      bool    // biases in the linear layers and layer norms (GPT-2 has them)
}

// GPT2Small is the configuration of the smallest GPT-2 (124M parameters).
func GPT2Small() Config {
	return Config{VocabSize: 50257, BlockSize: 1024, Layers: 12, Heads: 12, Embed: 768, Bias: true}
}

// Validate reports a configuration that cannot be built.
func (c Config) Validate() error {
	switch {
	case c.VocabSize <= 0 || c.BlockSize <= 0 || c.Layers <= 0:
		return errors.Errorf("gpt: vocabulary %d, block %d and layers %d must be positive", c.VocabSize, c.BlockSize, c.Layers)
	case c.Heads <= 0 || c.Embed <= 0 || c.Embed%c.Heads != 0:
		return errors.Errorf("gpt: width %d is not a positive multiple of %d heads", c.Embed, c.Heads)
	case !(c.Dropout >= 0 && c.Dropout < 1):
		return errors.Errorf("gpt: dropout %g outside [0, 1)", c.Dropout)
	}
	return nil
}

// String describes the configuration in one line.
func (c Config) String() string {
	return fmt.Sprintf("GPT(vocab %d, block %d, %d layers, %d heads, width %d, dropout %g, bias %t)",
		c.VocabSize, c.BlockSize, c.Layers, c.Heads, c.Embed, c.Dropout, c.Bias)
}

// Model is a GPT-2-style decoder-only Transformer language model (Radford et al.
// 2019): token and learned position embeddings, Layers pre-LayerNorm blocks of
// causal self-attention and a 4x MLP, a final layer norm and an output layer
// tied to the token embedding. Parameter names and layouts are those of Hugging
// Face's GPT-2 (see doc.go).
type Model struct {
	Config Config
	WTE    *graph.Param // transformer.wte.weight (VocabSize, Embed); also the output layer
	WPE    *graph.Param // transformer.wpe.weight (BlockSize, Embed)
	Blocks []*Block     // transformer.h.N
	LNF    *LayerNorm   // transformer.ln_f
}

// Block is one Transformer block, x + attn(ln_1(x)) then x + mlp(ln_2(x)).
type Block struct {
	LN1  *LayerNorm
	Attn *Attention
	LN2  *LayerNorm
	MLP  *MLP
}

// Attention is causal multi-head self-attention with one fused projection to
// queries, keys and values (c_attn, (E, 3E)) and an output projection (c_proj).
type Attention struct {
	CAttn, CProj *Conv1D
	Heads        int
	Dropout      float64
}

// MLP is c_proj(gelu(c_fc(x))) with a hidden layer 4 times the width.
type MLP struct {
	CFC, CProj *Conv1D
	Dropout    float64
}

// Conv1D is GPT-2's linear layer y = x W + b, its weight stored (in, out).
type Conv1D struct {
	Weight *graph.Param // (in, out)
	Bias   *graph.Param // (out); nil without biases
}

// LayerNorm normalises the last axis, with a weight and an optional bias.
type LayerNorm struct {
	Weight *graph.Param
	Bias   *graph.Param // nil without biases
}

// New creates the model's parameters in s, initialised as GPT-2: weights and
// embeddings N(0, 0.02), the residual projections (attn.c_proj, mlp.c_proj)
// N(0, 0.02/sqrt(2 Layers)), biases 0, layer norms 1 and 0.
func New(s *graph.Store, cfg Config) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	e := cfg.Embed
	t := s.Sub("transformer")
	m := &Model{Config: cfg}
	var err error
	if m.WTE, err = t.New("wte.weight", []int{cfg.VocabSize, e}, graph.Normal(0, 0.02)); err != nil {
		return nil, err
	}
	if m.WPE, err = t.New("wpe.weight", []int{cfg.BlockSize, e}, graph.Normal(0, 0.02)); err != nil {
		return nil, err
	}
	residStd := 0.02 / math.Sqrt(2*float64(cfg.Layers))
	for i := 0; i < cfg.Layers; i++ {
		h := t.Sub(fmt.Sprintf("h.%d", i))
		blk := &Block{
			Attn: &Attention{Heads: cfg.Heads, Dropout: cfg.Dropout},
			MLP:  &MLP{Dropout: cfg.Dropout},
		}
		for _, c := range []struct {
			dst     **Conv1D
			name    string
			in, out int
			std     float64
		}{
			{&blk.Attn.CAttn, "attn.c_attn", e, 3 * e, 0.02},
			{&blk.Attn.CProj, "attn.c_proj", e, e, residStd},
			{&blk.MLP.CFC, "mlp.c_fc", e, 4 * e, 0.02},
			{&blk.MLP.CProj, "mlp.c_proj", 4 * e, e, residStd},
		} {
			if *c.dst, err = newConv1D(h, c.name, c.in, c.out, c.std, cfg.Bias); err != nil {
				return nil, err
			}
		}
		if blk.LN1, err = newLayerNorm(h, "ln_1", e, cfg.Bias); err != nil {
			return nil, err
		}
		if blk.LN2, err = newLayerNorm(h, "ln_2", e, cfg.Bias); err != nil {
			return nil, err
		}
		m.Blocks = append(m.Blocks, blk)
	}
	if m.LNF, err = newLayerNorm(t, "ln_f", e, cfg.Bias); err != nil {
		return nil, err
	}
	return m, nil
}

func newConv1D(s *graph.Store, name string, in, out int, std float64, bias bool) (*Conv1D, error) {
	w, b, err := newWeightBias(s, name, []int{in, out}, graph.Normal(0, std), bias)
	return &Conv1D{Weight: w, Bias: b}, err
}

func newLayerNorm(s *graph.Store, name string, dim int, bias bool) (*LayerNorm, error) {
	w, b, err := newWeightBias(s, name, []int{dim}, graph.Ones(), bias)
	return &LayerNorm{Weight: w, Bias: b}, err
}

// newWeightBias creates name.weight of the given shape and, with bias, a zero
// name.bias as long as the weight's last axis.
func newWeightBias(s *graph.Store, name string, shape []int, init graph.Initializer, bias bool) (w, b *graph.Param, err error) {
	if w, err = s.New(name+".weight", shape, init); err != nil || !bias {
		return w, nil, err
	}
	b, err = s.New(name+".bias", shape[len(shape)-1:], graph.Zeros())
	return w, b, err
}

// Forward applies the layer to x (..., in).
func (c *Conv1D) Forward(b *graph.Builder, x *G.Node) *G.Node {
	if x == nil {
		return nil
	}
	args := []*G.Node{x, b.Param(c.Weight)}
	if c.Bias != nil {
		args = append(args, b.Param(c.Bias))
	}
	return b.Check(graph.Apply(conv1dKernel{}, args...))
}

// Forward normalises x (..., E) with eps 1e-5.
func (l *LayerNorm) Forward(b *graph.Builder, x *G.Node) *G.Node {
	if x == nil {
		return nil
	}
	if l.Bias != nil {
		ln := graph.LayerNorm{Weight: l.Weight, Bias: l.Bias, Dim: l.Weight.Size(), Eps: 1e-5}
		return ln.Forward(b, x)
	}
	return b.Check(graph.Apply(newLayerNormNoBias(1e-5), x, b.Param(l.Weight)))
}

// attend is the attention core of a layer: it maps the fused projections
// (B, T, 3E) to the merged heads (B, T, E). Training and evaluation attend
// causally over the whole sequence; generation attends through a cache.
type attend func(layer int, qkv *G.Node) *G.Node

// causal returns the causal attention core of a graph: dropout on the weights
// in training.
func (m *Model) causal(b *graph.Builder) attend {
	return func(_ int, qkv *G.Node) *G.Node {
		if qkv == nil {
			return nil
		}
		k := causalAttnKernel{heads: m.Config.Heads, st: &kept{}}
		args := []*G.Node{qkv}
		if b.Training() && m.Config.Dropout > 0 {
			s := qkv.Shape()
			mask := b.Random(b.UniqueName("attn_dropout"), graph.BernoulliMask(m.Config.Dropout), s[0]*k.heads, s[1], s[1])
			k.dropout, args = true, append(args, mask)
		}
		return b.Check(graph.Apply(k, args...))
	}
}

// Forward is the attention sub-layer of x (B, T, E).
func (a *Attention) Forward(b *graph.Builder, x *G.Node, core func(qkv *G.Node) *G.Node) *G.Node {
	qkv := a.CAttn.Forward(b, x) // (B, T, 3E): queries, keys, values
	y := core(qkv)               // (B, T, E): every head, merged
	return graph.Dropout(b, a.CProj.Forward(b, y), a.Dropout)
}

// Forward is the MLP sub-layer of x (B, T, E).
func (m *MLP) Forward(b *graph.Builder, x *G.Node) *G.Node {
	h := m.CFC.Forward(b, x)
	if h == nil {
		return nil
	}
	h = b.Check(graph.Apply(newGELU(), h))
	return graph.Dropout(b, m.CProj.Forward(b, h), m.Dropout)
}

// Forward applies the block to x (B, T, E).
func (blk *Block) Forward(b *graph.Builder, x *G.Node, core func(qkv *G.Node) *G.Node) *G.Node {
	x = add(b, x, blk.Attn.Forward(b, blk.LN1.Forward(b, x), core))
	return add(b, x, blk.MLP.Forward(b, blk.LN2.Forward(b, x)))
}

func add(b *graph.Builder, x, y *G.Node) *G.Node {
	if x == nil || y == nil {
		return nil
	}
	return b.Check(graph.Apply(residualKernel{}, x, y))
}

// hidden returns the final layer norm's output (B, T, E) for token ids idx
// (B, T) at positions pos (B, T) (tensor.Int).
func (m *Model) hidden(b *graph.Builder, idx, pos *G.Node, core attend) *G.Node {
	tok := b.Check(graph.Gather(b.Param(m.WTE), idx))
	x := add(b, tok, b.Check(graph.Gather(b.Param(m.WPE), pos)))
	x = graph.Dropout(b, x, m.Config.Dropout)
	for i, blk := range m.Blocks {
		x = blk.Forward(b, x, func(qkv *G.Node) *G.Node { return core(i, qkv) })
	}
	return m.LNF.Forward(b, x)
}

// logits applies the output layer, tied to the token embedding: x WTE^T.
func (m *Model) logits(b *graph.Builder, x *G.Node) *G.Node {
	if x == nil {
		return nil
	}
	return b.Check(graph.Apply(conv1dKernel{transposed: true}, x, b.Param(m.WTE)))
}
