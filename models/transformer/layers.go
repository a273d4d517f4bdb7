package transformer

import (
	"fmt"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/models/attention"
)

// LayerConfig describes a Transformer encoder or decoder layer.
type LayerConfig struct {
	Dim     int     // model width d_model
	Heads   int     // attention heads (Dim must be a multiple)
	FF      int     // feed-forward width d_ff
	Dropout float64 // on attention weights, after the activation and on each residual branch
	// Activation of the feed-forward block: "relu" (default) or "gelu".
	Activation string
	// PreLN normalises the input of each sub-layer, x + f(norm(x)) (Xiong et al.
	// 2020; PyTorch's norm_first); the default is the post-LN of Vaswani et al.
	// (2017), norm(x + f(x)).
	PreLN bool
	// Eps is the layer norms' epsilon (default 1e-5, PyTorch's).
	Eps float64
	// Unfused builds each sub-layer from separate nodes (MultiHead, graph.Dropout,
	// graph.LayerNorm): the reference form, slower, whose attention weights are
	// differentiable. By default each sub-layer is one fused node
	// (fused_attention.go, fused_ffn.go) computing the same function.
	Unfused bool
}

func (c *LayerConfig) validate() error {
	if c.Activation == "" {
		c.Activation = "relu"
	}
	if c.Activation != "relu" && c.Activation != "gelu" {
		return errors.Errorf("transformer layer: activation %q (relu, gelu)", c.Activation)
	}
	if c.Dim <= 0 || c.FF <= 0 || c.Heads <= 0 || c.Dim%c.Heads != 0 {
		return errors.Errorf("transformer layer: width %d, feed-forward %d, heads %d", c.Dim, c.FF, c.Heads)
	}
	if c.Dropout < 0 || c.Dropout >= 1 {
		return errors.Errorf("transformer layer: dropout %g outside [0, 1)", c.Dropout)
	}
	if c.Eps == 0 {
		c.Eps = 1e-5
	}
	return nil
}

// feedForward is linear2(dropout(act(linear1(x)))).
type feedForward struct {
	Linear1, Linear2 *graph.Linear
	act              graph.Activation
	dropout          float64
}

func newFeedForward(s *graph.Store, cfg LayerConfig) (*feedForward, error) {
	l1, err := graph.NewLinear(s, "linear1", cfg.Dim, cfg.FF, true)
	if err != nil {
		return nil, err
	}
	l2, err := graph.NewLinear(s, "linear2", cfg.FF, cfg.Dim, true)
	if err != nil {
		return nil, err
	}
	act, err := graph.ActivationByName(cfg.Activation)
	if err != nil {
		return nil, err
	}
	return &feedForward{Linear1: l1, Linear2: l2, act: act, dropout: cfg.Dropout}, nil
}

func (f *feedForward) forward(b *graph.Builder, x *G.Node) *G.Node {
	h := f.Linear1.Forward(b, x)
	if h == nil {
		return nil
	}
	h = graph.Dropout(b, b.Check(f.act(h)), f.dropout)
	if h == nil {
		return nil
	}
	return f.Linear2.Forward(b, h)
}

func newNorm(s *graph.Store, name string, cfg LayerConfig) (*graph.LayerNorm, error) {
	n, err := graph.NewLayerNorm(s, name, cfg.Dim)
	if err != nil {
		return nil, err
	}
	n.Eps = cfg.Eps
	return n, nil
}

// sublayer applies one residual sub-layer f with its norm: post-LN
// norm(x + dropout(f(x))) or pre-LN x + dropout(f(norm(x))).
func sublayer(b *graph.Builder, cfg LayerConfig, norm *graph.LayerNorm, x *G.Node, f func(*G.Node) *G.Node) *G.Node {
	if x == nil {
		return nil
	}
	in := x
	if cfg.PreLN {
		in = norm.Forward(b, x)
	}
	y := graph.Dropout(b, f(in), cfg.Dropout)
	if y == nil {
		return nil
	}
	sum := b.Check(G.Add(x, y))
	if cfg.PreLN {
		return sum
	}
	return norm.Forward(b, sum)
}

// EncoderLayer is torch.nn.TransformerEncoderLayer (batch first): self-attention
// then a feed-forward block, each in a residual sub-layer with layer norm.
// Parameters: self_attn.*, linear1.*, linear2.*, norm1.*, norm2.*.
type EncoderLayer struct {
	Config   LayerConfig
	SelfAttn *attention.MultiHead
	FF       *feedForward
	Norm1    *graph.LayerNorm
	Norm2    *graph.LayerNorm
}

// NewEncoderLayer creates an encoder layer under name in s.
func NewEncoderLayer(s *graph.Store, name string, cfg LayerConfig) (*EncoderLayer, error) {
	l := &EncoderLayer{Config: cfg}
	if err := newLayerParts(s, name, cfg, &l.SelfAttn, nil, &l.FF, &l.Norm1, &l.Norm2); err != nil {
		return nil, err
	}
	return l, nil
}

// newLayerParts validates cfg and creates under name in s, in PyTorch's order,
// the parts of a layer: the self-attention, the cross-attention (multihead_attn)
// when cross is not nil, the feed-forward block and the norms norm1, norm2, ...
// The order fixes which random numbers initialise each parameter.
func newLayerParts(s *graph.Store, name string, cfg LayerConfig, self, cross **attention.MultiHead, ff **feedForward, norms ...**graph.LayerNorm) error {
	if err := cfg.validate(); err != nil {
		return err
	}
	s = s.Sub(name)
	var err error
	if *self, err = attention.NewMultiHead(s, "self_attn", cfg.Dim, cfg.Heads, cfg.Dropout); err != nil {
		return err
	}
	if cross != nil {
		if *cross, err = attention.NewMultiHead(s, "multihead_attn", cfg.Dim, cfg.Heads, cfg.Dropout); err != nil {
			return err
		}
	}
	if *ff, err = newFeedForward(s, cfg); err != nil {
		return err
	}
	for i, n := range norms {
		if *n, err = newNorm(s, "norm"+string(rune('1'+i)), cfg); err != nil {
			return err
		}
	}
	return nil
}

// NewEncoderLayers creates n encoder layers in s, named as PyTorch's
// nn.TransformerEncoder names them: encoder.layers.0, encoder.layers.1, ...
func NewEncoderLayers(s *graph.Store, n int, cfg LayerConfig) ([]*EncoderLayer, error) {
	return newLayers(n, "encoder.layers", func(name string) (*EncoderLayer, error) { return NewEncoderLayer(s, name, cfg) })
}

// NewDecoderLayers creates n decoder layers in s: decoder.layers.0, ...
func NewDecoderLayers(s *graph.Store, n int, cfg LayerConfig) ([]*DecoderLayer, error) {
	return newLayers(n, "decoder.layers", func(name string) (*DecoderLayer, error) { return NewDecoderLayer(s, name, cfg) })
}

// newLayers creates n layers with newLayer, named prefix.0, prefix.1, ...
func newLayers[L any](n int, prefix string, newLayer func(name string) (L, error)) ([]L, error) {
	layers := make([]L, 0, n)
	for i := 0; i < n; i++ {
		l, err := newLayer(fmt.Sprintf("%s.%d", prefix, i))
		if err != nil {
			return nil, err
		}
		layers = append(layers, l)
	}
	return layers, nil
}

// Forward encodes x (B, T, Dim); mask is nil or additive (B, T, T). It returns the
// output and the self-attention weights (B*Heads, T, T) (in the fused form, for
// inspection only: they are not differentiable).
func (l *EncoderLayer) Forward(b *graph.Builder, x, mask *G.Node) (out, weights *G.Node) {
	if !l.Config.Unfused {
		x, weights = fusedAttention(b, l.Config, l.SelfAttn, l.Norm1, x, nil, mask)
		return fusedFeedForward(b, l.Config, l.FF, l.Norm2, x), weights
	}
	x = sublayer(b, l.Config, l.Norm1, x, func(h *G.Node) *G.Node {
		var o *G.Node
		o, weights = l.SelfAttn.Forward(b, h, h, h, mask)
		return o
	})
	return sublayer(b, l.Config, l.Norm2, x, func(h *G.Node) *G.Node { return l.FF.forward(b, h) }), weights
}

// DecoderLayer is torch.nn.TransformerDecoderLayer (batch first): masked
// self-attention, attention over the encoder's memory, then a feed-forward block.
// Parameters: self_attn.*, multihead_attn.*, linear1.*, linear2.*, norm1-3.*.
type DecoderLayer struct {
	Config    LayerConfig
	SelfAttn  *attention.MultiHead
	CrossAttn *attention.MultiHead
	FF        *feedForward
	Norm1     *graph.LayerNorm
	Norm2     *graph.LayerNorm
	Norm3     *graph.LayerNorm
}

// NewDecoderLayer creates a decoder layer under name in s.
func NewDecoderLayer(s *graph.Store, name string, cfg LayerConfig) (*DecoderLayer, error) {
	l := &DecoderLayer{Config: cfg}
	if err := newLayerParts(s, name, cfg, &l.SelfAttn, &l.CrossAttn, &l.FF, &l.Norm1, &l.Norm2, &l.Norm3); err != nil {
		return nil, err
	}
	return l, nil
}

// Forward decodes x (B, T, Dim) over memory (B, S, Dim). selfMask is nil or
// additive (B, T, T) (causal for a left-to-right decoder); memMask is nil or
// additive (B, T, S). It returns the output, the self-attention weights
// (B*Heads, T, T) and the memory-attention weights (B*Heads, T, S) (in the fused
// form, for inspection only: they are not differentiable).
func (l *DecoderLayer) Forward(b *graph.Builder, x, memory, selfMask, memMask *G.Node) (out, selfW, crossW *G.Node) {
	if !l.Config.Unfused {
		if memory == nil {
			return b.Fail(errors.New("decoder layer: nil memory")), nil, nil
		}
		x, selfW = fusedAttention(b, l.Config, l.SelfAttn, l.Norm1, x, nil, selfMask)
		x, crossW = fusedAttention(b, l.Config, l.CrossAttn, l.Norm2, x, memory, memMask)
		return fusedFeedForward(b, l.Config, l.FF, l.Norm3, x), selfW, crossW
	}
	x = sublayer(b, l.Config, l.Norm1, x, func(h *G.Node) *G.Node {
		var o *G.Node
		o, selfW = l.SelfAttn.Forward(b, h, h, h, selfMask)
		return o
	})
	x = sublayer(b, l.Config, l.Norm2, x, func(h *G.Node) *G.Node {
		var o *G.Node
		o, crossW = l.CrossAttn.Forward(b, h, memory, memory, memMask)
		return o
	})
	return sublayer(b, l.Config, l.Norm3, x, func(h *G.Node) *G.Node { return l.FF.forward(b, h) }), selfW, crossW
}
