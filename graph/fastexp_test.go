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
