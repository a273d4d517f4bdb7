package graph

import (
	"math"
	"testing"
)

// Exp32 against math.Exp over the float32 range in steps of about 2^-9: relative
// error below 3e-7 (float32 rounds at 2^-24 = 6e-8), exact at 0, exactly 0 far
// below the normal range and at -Inf.
func TestExp32(t *testing.T) {
	if Exp32(0) != 1 || Exp32(-100) != 0 || Exp32(float32(math.Inf(-1))) != 0 {
		t.Fatalf("Exp32(0) = %v, Exp32(-100) = %v, Exp32(-Inf) = %v", Exp32(0), Exp32(-100), Exp32(float32(math.Inf(-1))))
	}
	worst, at := 0.0, 0.0
	for x := -86.0; x <= 88; x += 0.001953 {
		want := math.Exp(float64(float32(x)))
		if e := math.Abs(float64(Exp32(float32(x)))-want) / want; e > worst {
			worst, at = e, x
		}
	}
	if worst > 3e-7 {
		t.Fatalf("relative error %.3g at %v", worst, at)
	}
}

// exp32Steps is Exp32 written one operation a statement.
func exp32Steps(x float32) float32 {
	if x < exp32Lo {
		return 0
	}
	if x > exp32Hi {
		x = exp32Hi
	}
	k := x*log2E + roundMagic
	k -= roundMagic
	r := x - k*ln2A - k*ln2B
	p := float32(1.9875691500e-4)
	p = p*r + 1.3981999507e-3
	p = p*r + 8.3334519073e-3
	p = p*r + 4.1665795894e-2
	p = p*r + 1.6666665459e-1
	p = p*r + 5.0000001201e-1
	y := p*r*r + r + 1
	return y * math.Float32frombits(uint32(int32(k)+127)<<23)
}

// Exp32 is bit for bit the step-by-step algorithm, on every 251st float32 bit
// pattern (NaNs and infinities included) and on a fine grid around the clamps.
func TestExp32Steps(t *testing.T) {
	check := func(x float32) {
		if got, want := Exp32(x), exp32Steps(x); math.Float32bits(got) != math.Float32bits(want) {
			t.Fatalf("Exp32(%g) = %g (%08x), want %g (%08x)", x, got, math.Float32bits(got), want, math.Float32bits(want))
		}
	}
	for b := uint64(0); b < 1<<32; b += 251 {
		check(math.Float32frombits(uint32(b)))
	}
	for _, c := range []float32{exp32Lo, exp32Hi, 0} {
		x := c
		for i := 0; i < 1000; i++ {
			check(x)
			check(-x)
			x = math.Nextafter32(x, float32(math.Inf(1)))
		}
	}
}

func BenchmarkExp32(b *testing.B) {
	x := make([]float32, 4096)
	for i := range x {
		x[i] = -float32(i%997) / 50
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for j, v := range x {
			x[j] = Exp32(v) - v - 1 // stays in range
		}
	}
}
