package graph

import "testing"

// BernoulliMask compares the integer behind each uniform with a threshold; the
// masks must be those of the definition, rng.Float64() < p, element for element,
// so that a seed gives the masks it always gave.
func TestBernoulliMaskIsFloat64Comparison(t *testing.T) {
	for _, p := range []float64{0, 0.1, 0.25, 1.0 / 3, 0.5, 0.999} {
		a, b := NewRNG(7, "mask"), NewRNG(7, "mask")
		got := make([]float64, 50000)
		BernoulliMask(p)(a, got)
		keep := 1 / (1 - p)
		for i, v := range got {
			want := keep
			if b.Float64() < p {
				want = 0
			}
			if v != want {
				t.Fatalf("p %v: element %d is %v, want %v", p, i, v, want)
			}
		}
	}
}
