package graph

import (
	"math"
	"math/rand/v2"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Dropout zeroes each element of x with probability p and scales the others by
// 1/(1-p) (inverted dropout, Srivastava et al. 2014), so evaluation needs no
// rescaling. In a training graph the mask is a random input (BernoulliMask),
// drawn before every run from the run's key; in an evaluation graph, or with
// p = 0, Dropout returns x unchanged.
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

// BernoulliMask samples an inverted-dropout mask: element i is 0 with
// probability p, 1/(1-p) otherwise, 0 exactly when the top 53 bits of
// Counter(key, at+i), read as a uniform u/2^53 in [0, 1), are below p, that is
// when u < ceil(p 2^53).
func BernoulliMask(p float64) Sampler {
	keep := 1 / (1 - p)
	below := uint64(math.Ceil(p * (1 << 53)))
	return func(key uint64, at int, dst *tensor.Dense) {
		// random inputs have the store's dtype, float32 or float64
		_ = Dispatch(dst.Dtype(),
			func() { bernoulli(key, at, Slice[float32](dst), below, float32(keep)) },
			func() { bernoulli(key, at, Slice[float64](dst), below, keep) })
	}
}

func bernoulli[T Float](key uint64, at int, v []T, below uint64, keep T) {
	// a table rather than a branch: the draw decides unpredictably
	values := [2]T{keep, 0}
	ParallelElems(len(v), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			// 1 when the draw is below: both are under 2^53, so the difference
			// wraps to the top bit
			dropped := (Counter(key, at+i)>>11 - below) >> 63
			v[i] = values[dropped]
		}
	})
}

// StandardNormal samples N(0, 1) noise (the VAE's epsilon): element i is the
// Box-Muller transform of the two 32-bit halves of Counter(key, at+i) read as
// uniforms, u1 in (0, 1] (so that its logarithm is finite) and u2 in [0, 1):
// values beyond 6.66 standard deviations, sqrt(2 ln 2^32), do not occur.
func StandardNormal(key uint64, at int, dst *tensor.Dense) {
	_ = Dispatch(dst.Dtype(), // random inputs have the store's dtype, float32 or float64
		func() { normals(key, at, Slice[float32](dst)) },
		func() { normals(key, at, Slice[float64](dst)) })
}

func normals[T Float](key uint64, at int, v []T) {
	ParallelElems(len(v), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			c := Counter(key, at+i)
			u1 := (float64(c>>32) + 1) / (1 << 32)
			u2 := float64(c&(1<<32-1)) / (1 << 32)
			v[i] = T(math.Sqrt(-2*math.Log(u1)) * math.Cos(2*math.Pi*u2))
		}
	})
}

// NormalFloat64s fills vals with N(0, 1) draws of rng, one after the other.
func NormalFloat64s(rng *rand.Rand, vals []float64) {
	for i := range vals {
		vals[i] = rng.NormFloat64()
	}
}
