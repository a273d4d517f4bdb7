package graph

import (
	"math"

	"github.com/triadml/triad/internal/avx2"
)

// The fused kernels evaluate a sigmoid or tanh for every gate of every step of a
// recurrent layer, a GELU for every unit of a Transformer's feed-forward layer
// and an exponential for every logit of a softmax: after the matrix products,
// their largest costs. In float64 they use the math package. In float32 they
// use single-precision versions of the classic Cephes algorithms (S. L.
// Moshier, Cephes Math Library 2.2, expf.c and tanhf.c): a reduction to exp(r)
// 2^k with |r| <= ln(2)/2 and a degree-6 polynomial for exp(r), and an odd
// polynomial for tanh near zero, eight lanes at a time with AVX2 and FMA on
// amd64 processors that have them (package avx2; the build tag purego
// leaves them out), the rest by Exp32's scalar arithmetic. Their error is a few
// units in the last place of a float32 (TestFastMath32), at a fraction of the
// cost of float64 math.Exp or math.Tanh per element.

// Sigmoids sets v[i] = 1 / (1 + exp(-v[i])).
func Sigmoids[T Float](v []T) {
	if Is32[T]() {
		sigmoids32(As32(v))
		return
	}
	for i, x := range v {
		v[i] = T(1 / (1 + math.Exp(-float64(x))))
	}
}

// Tanhs sets dst[i] = tanh(src[i]); dst may be src.
func Tanhs[T Float](dst, src []T) {
	if Is32[T]() {
		tanhs32(As32(dst), As32(src))
		return
	}
	dst = dst[:len(src)]
	for i, x := range src {
		dst[i] = T(math.Tanh(float64(x)))
	}
}

func abs32(x float32) float32 { return math.Float32frombits(math.Float32bits(x) &^ (1 << 31)) }

// sigmoids32 is sigmoids for float32: eight lanes at a time where the processor
// allows, the rest by sigmoids32Go.
func sigmoids32(v []float32) {
	if n := len(v) &^ 7; avx2.Available && n > 0 {
		avx2.Sigmoids32(v[:n])
		v = v[n:]
	}
	sigmoids32Go(v)
}

// sigmoids32Go computes 1 / (1 + e^-x) with Exp32 (the algorithm of
// Cephes expf.c: e^-x = 2^k e^r, k = round(-x / ln 2), r = -x - k ln 2,
// e^r = 1 + r + r^2 P(r)). For -x below -86.9 Exp32 returns 0; 1 + e^-x
// rounds to exactly 1 there anyway, as in the AVX2 kernel, which clamps -x at -87.
func sigmoids32Go(v []float32) {
	for i, x := range v {
		v[i] = 1 / (1 + Exp32(-x))
	}
}

// tanhs32 is tanhs for float32: eight lanes at a time where the processor
// allows, the rest by tanhs32Go.
func tanhs32(dst, src []float32) {
	dst = dst[:len(src)]
	if n := len(src) &^ 7; avx2.Available && n > 0 {
		avx2.Tanhs32(dst[:n], src[:n])
		dst, src = dst[n:], src[n:]
	}
	tanhs32Go(dst, src)
}

// tanhs32Go computes tanh(x) as x + x z P(z), z = x^2, for |x| < 0.625 (Cephes
// tanhf.c) and as 1 - 2 / (e^2|x| + 1) with x's sign elsewhere, where it does not
// cancel; e^2|x| by Exp32.
func tanhs32Go(dst, src []float32) {
	dst = dst[:len(src)]
	for i, x := range src {
		a := abs32(x)
		z := x * x
		q := float32(-5.70498872745e-3)
		q = q*z + 2.06390887954e-2
		q = q*z - 5.37397155531e-2
		q = q*z + 1.33314422036e-1
		q = q*z - 3.33332819422e-1
		q = q*z*x + x
		e := 1 - 2/(Exp32(2*a)+1)
		// e carries x's sign bit; the polynomial already has it
		e = math.Float32frombits(math.Float32bits(e) | math.Float32bits(x)&(1<<31))
		if a < 0.625 {
			e = q
		}
		dst[i] = e
	}
}

// ExpsShifted32 sets dst[i] = e^(src[i] - shift) and returns their sum, added
// in float64 in index order: the exponentials of a softmax row after its
// maximum. A difference below -86.9 (a -Inf, a masked position) gives 0, as
// Exp32 does.
func ExpsShifted32(dst, src []float32, shift float32) float64 {
	dst = dst[:len(src)]
	done := 0
	if n := len(src) &^ 7; avx2.Available && n > 0 {
		avx2.ExpsShifted32(dst[:n], src[:n], shift)
		done = n
	}
	for i := done; i < len(src); i++ {
		dst[i] = Exp32(src[i] - shift)
	}
	var sum float64
	for _, e := range dst {
		sum += float64(e)
	}
	return sum
}

// logProbs32 sets dst[i] = (src[i] - max) - logSum, MaskedLogProb where
// src[i] is -Inf (an excluded position): a log-softmax row from its maximum
// and the logarithm of its exponentials' sum.
func logProbs32(dst, src []float32, max, logSum float32) {
	dst = dst[:len(src)]
	done := 0
	if n := len(src) &^ 7; avx2.Available && n > 0 {
		avx2.LogProbs32(dst[:n], src[:n], max, logSum, MaskedLogProb)
		done = n
	}
	for i := done; i < len(src); i++ {
		if v := src[i]; v >= -math.MaxFloat32 {
			dst[i] = (v - max) - logSum
		} else {
			dst[i] = MaskedLogProb
		}
	}
}

// widen32 sets dst[i] = float64(src[i]).
func widen32(dst []float64, src []float32) {
	dst = dst[:len(src)]
	done := 0
	if n := len(src) &^ 7; avx2.Available && n > 0 {
		avx2.Widen32(dst[:n], src[:n])
		done = n
	}
	for i := done; i < len(src); i++ {
		dst[i] = float64(src[i])
	}
}

// max32 returns the largest of x (-Inf for none) and whether x holds a NaN.
func max32(x []float32) (m float32, nan bool) {
	m = float32(math.Inf(-1))
	if n := len(x) &^ 7; avx2.Available && n > 0 {
		m, nan = avx2.Max32(x[:n])
		x = x[n:]
	}
	for _, v := range x {
		nan = nan || v != v
		if v > m {
			m = v
		}
	}
	return m, nan
}
