package seq2seq

import (
	"github.com/pkg/errors"

	"github.com/triadml/triad/models/attention"
	"github.com/triadml/triad/models/decode"
)

// Batch is a padded batch of (source, target) pairs laid out for feeding, every
// matrix row-major: Src (B, S) ids padded with Pad, SrcKeep (B, S) 1 on real
// tokens and 0 on padding, SrcMask (B, S) the additive mask (0 on real tokens,
// attention.MaskValue on padding), TgtIn (B, T) = BOS y_1 .. padded with Pad,
// TgtOut (B, T) = y_1 .. EOS padded with Pad, TgtKeep (B, T) 1 on the real
// target positions. SrcLens and TgtLens are the real lengths (EOS included).
type Batch struct {
	B, S, T                   int
	Src, TgtIn, TgtOut        []int
	SrcLens, TgtLens          []int
	SrcKeep, SrcMask, TgtKeep []float64
}

// Pad lays out srcs padded to s tokens and tgts (nil for none) to t-1 tokens
// plus EOS. Every source needs 1 to s tokens.
func Pad(tok decode.Tokens, srcs, tgts [][]int, s, t int) (*Batch, error) {
	b := len(srcs)
	if b == 0 {
		return nil, errors.New("empty batch")
	}
	if tgts != nil && len(tgts) != b {
		return nil, errors.Errorf("%d sources but %d targets", b, len(tgts))
	}
	p := &Batch{B: b, S: s, T: t,
		Src: make([]int, b*s), SrcKeep: make([]float64, b*s), SrcMask: make([]float64, b*s), SrcLens: make([]int, b)}
	for i, x := range srcs {
		if len(x) == 0 || len(x) > s {
			return nil, errors.Errorf("source %d has %d tokens; want 1 to %d", i, len(x), s)
		}
		p.SrcLens[i] = len(x)
		for j := 0; j < s; j++ {
			if j < len(x) {
				p.Src[i*s+j] = x[j]
				p.SrcKeep[i*s+j] = 1
			} else {
				p.Src[i*s+j] = tok.Pad
				p.SrcMask[i*s+j] = attention.MaskValue
			}
		}
	}
	if tgts == nil {
		return p, nil
	}
	p.TgtIn, p.TgtOut, p.TgtKeep, p.TgtLens = make([]int, b*t), make([]int, b*t), make([]float64, b*t), make([]int, b)
	for i, y := range tgts {
		if len(y)+1 > t {
			return nil, errors.Errorf("target %d has %d tokens; at most %d fit with EOS", i, len(y), t-1)
		}
		p.TgtLens[i] = len(y) + 1
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
			p.TgtIn[i*t+j], p.TgtOut[i*t+j] = in, out
			if j <= len(y) {
				p.TgtKeep[i*t+j] = 1
			}
		}
	}
	return p, nil
}

// Tokens returns the number of real target tokens, EOS included.
func (p *Batch) Tokens() int {
	n := 0
	for _, l := range p.TgtLens {
		n += l
	}
	return n
}

// timeMajor returns the (B, W) row-major v as (W, B): position t of every
// row, then position t+1.
func timeMajor[T any](v []T, b, w int) []T {
	out := make([]T, len(v))
	for i := 0; i < b; i++ {
		for t := 0; t < w; t++ {
			out[t*b+i] = v[i*w+t]
		}
	}
	return out
}

// PaddedLength rounds n up to a multiple of step (n itself for a step of 1 or
// less): the length a batch of sequences of at most n tokens is padded to.
func PaddedLength(n, step int) int {
	if step <= 1 {
		return n
	}
	return (n + step - 1) / step * step
}

// Longest returns the length of the longest sequence (0 for none).
func Longest(seqs [][]int) int {
	m := 0
	for _, s := range seqs {
		m = max(m, len(s))
	}
	return m
}
