package solvers

import (
	"math"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
)

// twoGrads returns two parameters of dtype whose gradients are a and b.
func twoGrads(dtype tensor.Dtype, a, b []float64) []*graph.Param {
	mk := func(name string, g []float64) *graph.Param {
		return &graph.Param{Name: name, Value: graph.FromFloat64s(dtype, make([]float64, len(g)), len(g)),
			Grad: graph.FromFloat64s(dtype, g, len(g))}
	}
	return []*graph.Param{mk("a", a), mk("b", b)}
}

func TestClipGradNorm(t *testing.T) {
	for _, dtype := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		// The 3-4-5 triangle: the gradients [3, 0] and [-4] have total 2-norm 5.
		ps := twoGrads(dtype, []float64{3, 0}, []float64{-4})
		norm, err := ClipGradNorm(ps, 10, 2)
		mustT(t, err)
		if norm != 5 {
			t.Fatalf("%v: norm %v, want 5", dtype, norm)
		}
		if g := graph.Float64s(ps[1].Grad); g[0] != -4 {
			t.Fatalf("%v: gradient below the limit changed to %v", dtype, g)
		}
		norm, err = ClipGradNorm(ps, 1, 2)
		mustT(t, err)
		c := 1 / (5 + 1e-6) // torch.nn.utils.clip_grad_norm_: max_norm/(total+1e-6)
		want := []float64{3 * c, 0, -4 * c}
		got := append(graph.Float64s(ps[0].Grad), graph.Float64s(ps[1].Grad)...)
		rel := 1e-15
		if dtype == tensor.Float32 {
			rel = 1e-7
		}
		if norm != 5 {
			t.Fatalf("%v: norm %v, want 5", dtype, norm)
		}
		compare(t, dtype.String()+" clipped", got, want, rel, 1e-30)
		after, err := GradNorm(ps, 2)
		mustT(t, err)
		if !(after < 1) || after < 1-1e-5 {
			t.Fatalf("%v: norm after clipping %v, want just below 1", dtype, after)
		}
	}
	// Other norms of [3, 0, -4]: 1-norm 7, max-norm 4, 3-norm (27+64)^(1/3).
	ps := twoGrads(tensor.Float64, []float64{3, 0}, []float64{-4})
	for _, c := range []struct{ p, want float64 }{{1, 7}, {math.Inf(1), 4}, {3, math.Cbrt(91)}} {
		got, err := GradNorm(ps, c.p)
		mustT(t, err)
		if !closeTo(got, c.want, 1e-15, 0) {
			t.Errorf("%v-norm %v, want %v", c.p, got, c.want)
		}
	}
	if _, err := ClipGradNorm(ps, 1, 0); err == nil {
		t.Error("norm type 0 accepted")
	}
	if _, err := ClipGradNorm(ps, -1, 2); err == nil {
		t.Error("negative max norm accepted")
	}
	if _, err := ClipGradNorm([]*graph.Param{ps[0], {Name: "x"}}, 1, 2); err == nil || !strings.Contains(err.Error(), `"x"`) {
		t.Errorf("nil gradient: %v", err)
	}
}

// TestClipGradNormNonFinite: a NaN or infinite norm is returned and the
// gradients are left as they were.
func TestClipGradNormNonFinite(t *testing.T) {
	for _, bad := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		for _, p := range []float64{2, 1, math.Inf(1)} {
			ps := twoGrads(tensor.Float32, []float64{3, bad}, []float64{-4})
			norm, err := ClipGradNorm(ps, 1, p)
			mustT(t, err)
			if !math.IsNaN(norm) && !math.IsInf(norm, 1) {
				t.Fatalf("gradient %v, %v-norm: total %v, want NaN or +Inf", bad, p, norm)
			}
			if math.IsNaN(bad) != math.IsNaN(norm) {
				t.Fatalf("gradient %v, %v-norm: total %v", bad, p, norm)
			}
			if g := graph.Float64s(ps[1].Grad); g[0] != -4 {
				t.Fatalf("gradient %v, %v-norm: gradients changed to %v", bad, p, g)
			}
		}
	}
}

func TestClipGradValue(t *testing.T) {
	for _, dtype := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		ps := twoGrads(dtype, []float64{-2, 0.5, math.NaN()}, []float64{3, -1})
		mustT(t, ClipGradValue(ps, 1))
		got := append(graph.Float64s(ps[0].Grad), graph.Float64s(ps[1].Grad)...)
		want := []float64{-1, 0.5, math.NaN(), 1, -1}
		for i := range want {
			if got[i] != want[i] && !(math.IsNaN(got[i]) && math.IsNaN(want[i])) {
				t.Fatalf("%v: clipped %v, want %v", dtype, got, want)
			}
		}
	}
	if err := ClipGradValue(nil, -1); err == nil {
		t.Error("negative bound accepted")
	}
}
