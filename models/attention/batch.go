package attention

import (
	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
)

// Tokens are the special token ids a sequence-to-sequence model needs.
type Tokens struct {
	Pad, BOS, EOS int
}

// pairBatch is a padded batch of (source, target) pairs laid out for feeding:
// src (B, S) ids padded with Pad, srcKeep (B, S) 1/0, tgtIn (B, T) = BOS y_1 ..,
// tgtOut (B, T) = y_1 .. EOS, tgtKeep (B, T) 1 on the real target positions.
type pairBatch struct {
	b, s, t                  int
	src, tgtIn, tgtOut       []int
	srcLens, tgtLens         []int
	srcKeep, srcAdd, tgtKeep []float64
}

// makePairs pads srcs to s tokens and tgts (nil for none) to t-1 tokens plus EOS.
func makePairs(tok Tokens, srcs, tgts [][]int, s, t int) (*pairBatch, error) {
	b := len(srcs)
	if b == 0 {
		return nil, errors.New("empty batch")
	}
	if tgts != nil && len(tgts) != b {
		return nil, errors.Errorf("%d sources but %d targets", b, len(tgts))
	}
	p := &pairBatch{b: b, s: s, t: t,
		src: make([]int, b*s), srcKeep: make([]float64, b*s), srcAdd: make([]float64, b*s), srcLens: make([]int, b)}
	for i, x := range srcs {
		if len(x) == 0 || len(x) > s {
			return nil, errors.Errorf("source %d has %d tokens; want 1 to %d", i, len(x), s)
		}
		p.srcLens[i] = len(x)
		for j := 0; j < s; j++ {
			if j < len(x) {
				p.src[i*s+j] = x[j]
				p.srcKeep[i*s+j] = 1
			} else {
				p.src[i*s+j] = tok.Pad
				p.srcAdd[i*s+j] = MaskValue
			}
		}
	}
	if tgts == nil {
		return p, nil
	}
	p.tgtIn, p.tgtOut, p.tgtKeep, p.tgtLens = make([]int, b*t), make([]int, b*t), make([]float64, b*t), make([]int, b)
	for i, y := range tgts {
		if len(y)+1 > t {
			return nil, errors.Errorf("target %d has %d tokens; at most %d fit with EOS", i, len(y), t-1)
		}
		p.tgtLens[i] = len(y) + 1
		for j := 0; j < t; j++ {
			in, out := tok.Pad, tok.Pad
			switch {
			case j == 0:
				in = tok.BOS
			case j <= len(y):
				in = y[j-1]
			}
			switch {
			case j < len(y):
				out = y[j]
			case j == len(y):
				out = tok.EOS
			}
			p.tgtIn[i*t+j], p.tgtOut[i*t+j] = in, out
			if j <= len(y) {
				p.tgtKeep[i*t+j] = 1
			}
		}
	}
	return p, nil
}

// column returns column j of a (B, W) row-major int slice.
func column(v []int, b, w, j int) *tensor.Dense {
	c := make([]int, b)
	for i := range c {
		c[i] = v[i*w+j]
	}
	return tensor.New(tensor.WithShape(b), tensor.WithBacking(c))
}

// columnF returns column j of a (B, W) float slice as a (B, 1) tensor.
func columnF(dtype tensor.Dtype, v []float64, b, w, j int) *tensor.Dense {
	c := make([]float64, b)
	for i := range c {
		c[i] = v[i*w+j]
	}
	return graph.FromFloat64s(dtype, c, b, 1)
}

// bucket rounds n up to a multiple of step.
func bucket(n, step int) int {
	if step <= 1 {
		return n
	}
	return (n + step - 1) / step * step
}

func maxLen(seqs [][]int) int {
	m := 0
	for _, s := range seqs {
		m = max(m, len(s))
	}
	return m
}
