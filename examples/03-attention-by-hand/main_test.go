package main

import (
	"math"
	"testing"

	"github.com/triadml/triad/internal/testenv"
)

func TestRunsShort(t *testing.T) {
	dir, res := testenv.RunShort(t, run)
	// The hand-built graph and models/attention compute the same sums in the
	// same order up to the matrix product's kernel: rounding only.
	if res.maxDiff > 1e-12 {
		t.Errorf("by hand and attention.ScaledDotProduct differ by %g", res.maxDiff)
	}
	for name, w := range map[string][][]float64{"unmasked": res.weights, "padding": res.padded, "causal": res.causal} {
		for i, row := range w {
			var s float64
			for _, x := range row {
				if x < 0 {
					t.Errorf("%s: query %d has a negative weight %g", name, i, x)
				}
				s += x
			}
			if math.Abs(s-1) > 1e-12 {
				t.Errorf("%s: the weights of query %d sum to %.15f", name, i, s)
			}
		}
	}
	for i, row := range res.padded {
		if row[len(row)-1] != 0 {
			t.Errorf("the padding key gets weight %g from query %d, want exactly 0", row[len(row)-1], i)
		}
	}
	for i, row := range res.causal {
		for j := i + 1; j < len(row); j++ {
			if row[j] != 0 {
				t.Errorf("causal: query %d gives future key %d weight %g, want exactly 0", i, j, row[j])
			}
		}
		if i > 0 && row[0] == 0 {
			t.Errorf("causal: query %d gives no weight to the first key", i)
		}
	}
	if res.causal[0][0] != 1 {
		t.Errorf("causal: the first position gives itself weight %g, want 1", res.causal[0][0])
	}
	// Without scaling, the scores of width 1024 have standard deviation 32 and
	// the weights nearly one-hot; with it they keep the entropy of width 1.
	first, last := res.entropy[0], res.entropy[len(res.entropy)-1]
	if first[1] != first[2] {
		t.Errorf("d_k = 1: scaled and unscaled entropies differ (%g, %g)", first[1], first[2])
	}
	if !(last[1] < 0.25*last[2]) {
		t.Errorf("d_k = %g: unscaled entropy %g is not well below the scaled %g", last[0], last[1], last[2])
	}
	testenv.NonEmptyFiles(t, dir, append(res.pngFiles, "README.md")...)
}
