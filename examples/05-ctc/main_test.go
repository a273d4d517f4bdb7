package main

import (
	"math"
	"testing"

	"github.com/triadml/triad/internal/testenv"
)

func TestRunsShort(t *testing.T) {
	dir, res := testenv.RunShort(t, run)
	// A path of 4 frames maps to "ab" when it is -^i a^j -^k b^l -^m with
	// j, l >= 1 and i+j+k+l+m = 4: the solutions of five non-negative counts
	// summing to 2, C(2+4, 4) = 15.
	if res.alignments != 15 {
		t.Errorf("%d alignments of \"ab\" over 4 frames, want 15", res.alignments)
	}
	for name, v := range map[string]float64{"forward algorithm": res.forward, "losses.CTC": res.op} {
		if math.Abs(v-res.brute) > 1e-12 {
			t.Errorf("%s gives %.15f, brute force %.15f", name, v, res.brute)
		}
	}
	if !(res.brute > 0) || math.IsInf(res.brute, 0) {
		t.Errorf("loss %g, want positive and finite", res.brute)
	}
	// Central differences in float64 with h = 1e-5 are accurate to about
	// h^2 * (third derivative) + eps/h, well inside 1e-8 here.
	if res.gradMaxDiff > 1e-8 {
		t.Errorf("gradients differ by %g", res.gradMaxDiff)
	}
	for f := 0; f < frames; f++ {
		var s float64
		for c := 0; c < classes; c++ {
			s += res.gradOp[f*classes+c]
		}
		if math.Abs(s) > 1e-12 {
			t.Errorf("frame %d: the gradient sums to %g, want 0", f+1, s)
		}
	}
	// The lattice: nothing reaches the last two extended labels in the first
	// frame, and the end of the lattice holds p.
	if res.alpha[2][0] != 0 || res.alpha[3][0] != 0 || res.alpha[4][0] != 0 {
		t.Errorf("alpha_1 = %v, want zeros beyond the first label", []float64{res.alpha[0][0], res.alpha[1][0], res.alpha[2][0], res.alpha[3][0], res.alpha[4][0]})
	}
	testenv.NonEmptyFiles(t, dir, append(res.files, "README.md")...)
}
