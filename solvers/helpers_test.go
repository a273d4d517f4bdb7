package solvers

import (
	"math"
	"math/rand/v2"
	"testing"

	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
)

// testShapes are the parameter shapes of the tests (the same as the fixtures').
var testShapes = []struct {
	name  string
	shape []int
}{{"fc.weight", []int{3, 4}}, {"fc.bias", []int{4}}, {"emb.weight", []int{2, 3, 2}}}

// gradScales vary the gradient size from step to step so that norm clipping is
// active on some steps only.
var gradScales = []float64{1, 4, 0.25, 2, 0.5, 6, 1}

// inputs are initial parameter values and a sequence of gradients, in float64.
type inputs struct {
	values [][]float64   // [param][elem]
	grads  [][][]float64 // [step][param][elem]
}

// randomInputs draws inputs from a fixed PCG stream.
func randomInputs(seed uint64) inputs {
	rng := rand.New(rand.NewPCG(seed, 7))
	draw := func(n int, s float64) []float64 {
		v := make([]float64, n)
		for i := range v {
			v[i] = s * rng.NormFloat64()
		}
		return v
	}
	var in inputs
	for _, p := range testShapes {
		in.values = append(in.values, draw(tensor.Shape(p.shape).TotalSize(), 1))
	}
	for _, s := range gradScales {
		var step [][]float64
		for _, p := range testShapes {
			step = append(step, draw(tensor.Shape(p.shape).TotalSize(), s))
		}
		in.grads = append(in.grads, step)
	}
	return in
}

// makeParams returns parameters of dtype holding values.
func makeParams(dtype tensor.Dtype, values [][]float64) []*graph.Param {
	ps := make([]*graph.Param, len(values))
	for i, v := range values {
		sh := testShapes[i].shape
		ps[i] = &graph.Param{
			Name:  testShapes[i].name,
			Value: graph.FromFloat64s(dtype, v, sh...),
			Grad:  tensor.New(tensor.Of(dtype), tensor.WithShape(sh...)),
		}
	}
	return ps
}

// setGrads copies grads (converted to the parameters' dtype) into the gradients.
func setGrads(ps []*graph.Param, grads [][]float64) {
	for i, p := range ps {
		switch p.Grad.Dtype() {
		case tensor.Float64:
			copy(p.Grad.Float64s(), grads[i])
		case tensor.Float32:
			d := p.Grad.Float32s()
			for j, v := range grads[i] {
				d[j] = float32(v)
			}
		}
	}
}

// closeTo reports whether a and b agree to rel relative error (an absolute floor
// of rel*floor for values near zero).
func closeTo(a, b, rel, floor float64) bool {
	if a == b {
		return true
	}
	return math.Abs(a-b) <= rel*math.Max(math.Max(math.Abs(a), math.Abs(b)), floor)
}

// compare fails t at the first element of got that is not close to want.
func compare(t *testing.T, what string, got, want []float64, rel, floor float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if !closeTo(got[i], want[i], rel, floor) {
			t.Fatalf("%s[%d] = %.17g, want %.17g (relative error %.3g)", what, i, got[i], want[i],
				math.Abs(got[i]-want[i])/math.Max(math.Abs(want[i]), 1e-300))
		}
	}
}

// maxRel returns the largest relative difference between got and want.
func maxRel(got, want []float64) float64 {
	m := 0.0
	for i := range got {
		if got[i] != want[i] {
			m = math.Max(m, math.Abs(got[i]-want[i])/math.Max(math.Abs(got[i]), math.Abs(want[i])))
		}
	}
	return m
}

func mustT(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
