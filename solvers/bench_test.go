package solvers

import (
	"math/rand/v2"
	"testing"

	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
)

// mlpParams returns the float32 parameters of a 784-256-10 perceptron (203,530
// scalars) with random values and gradients.
func mlpParams(dtype tensor.Dtype) []*graph.Param {
	rng := rand.New(rand.NewPCG(11, 12))
	shapes := []struct {
		name  string
		shape []int
	}{{"fc1.weight", []int{256, 784}}, {"fc1.bias", []int{256}}, {"fc2.weight", []int{10, 256}}, {"fc2.bias", []int{10}}}
	var ps []*graph.Param
	for _, s := range shapes {
		n := tensor.Shape(s.shape).TotalSize()
		v, g := make([]float64, n), make([]float64, n)
		for i := range v {
			v[i], g[i] = rng.NormFloat64()*0.05, rng.NormFloat64()*0.01
		}
		ps = append(ps, &graph.Param{Name: s.name, Value: graph.FromFloat64s(dtype, v, s.shape...),
			Grad: graph.FromFloat64s(dtype, g, s.shape...)})
	}
	return ps
}

// saveGrads returns copies of the float32 gradients of ps.
func saveGrads(ps []*graph.Param) [][]float32 {
	var out [][]float32
	for _, p := range ps {
		out = append(out, append([]float32(nil), p.Grad.Float32s()...))
	}
	return out
}

// restoreGrads copies saved gradients back (outside the timed region), so that
// every timed step sees realistic gradients rather than the zeros the previous
// step left (which would drive the moments towards subnormal numbers).
func restoreGrads(b *testing.B, ps []*graph.Param, saved [][]float32) {
	b.StopTimer()
	for i, p := range ps {
		copy(p.Grad.Float32s(), saved[i])
	}
	b.StartTimer()
}

// BenchmarkAdamFloat32 times one Adam step over 203,530 float32 parameters; it
// must report 0 allocs/op.
func BenchmarkAdamFloat32(b *testing.B) {
	ps := mlpParams(tensor.Float32)
	saved := saveGrads(ps)
	s, err := NewAdam(DefaultAdamConfig())
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Step(ps); err != nil { // creates the state
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(4 * 203530))
	for b.Loop() {
		restoreGrads(b, ps, saved)
		if err := s.Step(ps); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSolvers times every solver and the norm clipping on the same
// parameters.
func BenchmarkSolvers(b *testing.B) {
	for _, c := range refCases() {
		b.Run(c.name, func(b *testing.B) {
			ps := mlpParams(tensor.Float32)
			saved := saveGrads(ps)
			s, err := c.make()
			if err != nil {
				b.Fatal(err)
			}
			if err := s.Step(ps); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				restoreGrads(b, ps, saved)
				if err := s.Step(ps); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("clip_grad_norm", func(b *testing.B) {
		ps := mlpParams(tensor.Float32)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := ClipGradNorm(ps, 1, 2); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestStepAllocatesNothing: after the first step, which creates the state, a
// step of any solver, and clipping, allocate nothing.
func TestStepAllocatesNothing(t *testing.T) {
	in := randomInputs(10)
	for _, dtype := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		for _, c := range refCases() {
			s, err := c.make()
			mustT(t, err)
			ps := makeParams(dtype, in.values)
			setGrads(ps, in.grads[0])
			mustT(t, s.Step(ps))
			allocs := testing.AllocsPerRun(20, func() {
				setGrads(ps, in.grads[1])
				if _, err := ClipGradNorm(ps, 1, 2); err != nil {
					t.Fatal(err)
				}
				if err := ClipGradValue(ps, 0.5); err != nil {
					t.Fatal(err)
				}
				s.SetLR(s.LR() * 0.999)
				if err := s.Step(ps); err != nil {
					t.Fatal(err)
				}
			})
			if allocs != 0 {
				t.Errorf("%s %v: %v allocations per step", c.name, dtype, allocs)
			}
		}
	}
}
