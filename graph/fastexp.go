package graph

import "math"

const (
	// exp32Lo is a little above where e^x stops being a normal float32
	// (ln 2^-126 = -87.34), so that the power of two below stays normal: Exp32
	// returns 0 below it (e^-86.9 = 2e-38).
	exp32Lo = -86.9
	// exp32Hi clamps the argument below ln(float32 max) = 88.72.
	exp32Hi = 88
	log2E   = 1.44269504088896341
	// roundMagic is 1.5 * 2^23: a float32 of magnitude below 2^22 plus it is
	// rounded to an integer (to nearest), held in the low mantissa bits.
	roundMagic = 12582912
	// ln 2 in two parts, the first with few enough mantissa bits that k*ln2A is
	// exact for the k met here (Cody and Waite's argument reduction; the values
	// are those of Cephes expf.c, S. L. Moshier, Cephes Math Library 2.2).
	ln2A = 0.693359375
	ln2B = -2.12194440e-4
)

// Exp32 returns e^x computed in float32 arithmetic, several times faster than
// math.Exp in float64 and as accurate as float32 allows: x = k ln 2 + r with
// |r| <= ln(2)/2, e^r = 1 + r + r^2 P(r) with the degree-5 polynomial P of
// Cephes expf.c (its coefficients below), times 2^k set in the exponent bits.
// Relative error below 3e-7 (a few units in the last place, TestExp32); 0 for
// x below -86.9 and for -Inf; arguments above 88 are clamped to 88. It is
// written as few expressions as stay within the Go compiler's inlining budget,
// so that the loops calling it per element pay no call; TestExp32Steps checks
// it against the same algorithm written step by step.
func Exp32(x float32) float32 {
	if x < exp32Lo {
		return 0
	}
	if x > exp32Hi {
		x = exp32Hi
	}
	// k = round(x log2 e): adding 1.5*2^23 leaves the integer in the mantissa
	k := x*log2E + roundMagic - roundMagic
	r := x - k*ln2A - k*ln2B
	// e^r = 1 + r + r^2 P(r), P by Horner's rule; k is in [-125, 127] here, so
	// 2^k is a normal float32
	return ((((((1.9875691500e-4*r+1.3981999507e-3)*r+8.3334519073e-3)*r+4.1665795894e-2)*r+1.6666665459e-1)*r+5.0000001201e-1)*r*r + r + 1) *
		math.Float32frombits(uint32(int32(k)+127)<<23)
}

// Exp returns e^x in the precision of T: Exp32 for float32, math.Exp for float64.
func Exp[T Float](x T) T {
	if Is32[T]() {
		return T(Exp32(float32(x)))
	}
	return T(math.Exp(float64(x)))
}
