package graph

import (
	"math"
	"math/rand/v2"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
)

// Dropout zeroes each element of x with probability p and scales the others by
// 1/(1-p) (inverted dropout, Srivastava et al. 2014), so evaluation needs no
// rescaling. In a training graph the mask is a random input drawn from the
// program's noise stream before every run; in an evaluation graph, or with p = 0,
// Dropout returns x unchanged.
func Dropout(b *Builder, x *G.Node, p float64) *G.Node {
	if x == nil || p == 0 || !b.Training() {
		return x
	}
	if p < 0 || p >= 1 {
		return b.Fail(errors.Errorf("dropout: probability %g outside [0, 1)", p))
	}
	mask := b.Random(b.UniqueName("dropout"), BernoulliMask(p), x.Shape()...)
	if mask == nil {
		return nil
	}
	return b.Check(G.HadamardProd(x, mask))
}

// BernoulliMask samples an inverted-dropout mask: 0 with probability p, 1/(1-p)
// otherwise. Element i is 0 when the i-th uniform rng.Float64() is below p; the
// comparison is made on the integer behind that uniform, u/2^53 < p exactly when
// u < ceil(p 2^53) (math/rand/v2's Float64 is (Uint64() >> 11) / 2^53), which
// draws the same masks without the conversion to a float.
func BernoulliMask(p float64) Sampler {
	keep := 1 / (1 - p)
	below := uint64(math.Ceil(p * (1 << 53)))
	return func(rng *rand.Rand, vals []float64) {
		for i := range vals {
			if rng.Uint64()<<11>>11 < below {
				vals[i] = 0
			} else {
				vals[i] = keep
			}
		}
	}
}

// StandardNormal samples N(0, 1) noise (the VAE's epsilon).
func StandardNormal(rng *rand.Rand, vals []float64) {
	for i := range vals {
		vals[i] = rng.NormFloat64()
	}
}
