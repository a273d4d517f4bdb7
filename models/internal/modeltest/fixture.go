package modeltest

import (
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
)

// ParityTol is the relative tolerance of the comparisons with a fixture.
const ParityTol = 1e-6

// Fixture is a PyTorch parity fixture: parameters ("param.NAME"), inputs
// ("input.X"), the loss weights ("r.Y"), outputs, the loss sum(out*r.out) and
// the gradients of every parameter ("grad.NAME") and input ("grad_input.X").
type Fixture map[string]*tensor.Dense

// LoadFixture reads the fixture at path.
func LoadFixture(t *testing.T, path string) Fixture {
	t.Helper()
	ts, _, err := graph.LoadTensors(path)
	require.NoError(t, err)
	return ts
}

// Assign copies the fixture's parameters into every parameter of s (by name
// relative to prefix) and checks that none is left over.
func (f Fixture) Assign(t *testing.T, s *graph.Store, prefix string) {
	t.Helper()
	n := 0
	for _, p := range s.Params() {
		name := strings.TrimPrefix(p.Name, prefix)
		v, ok := f["param."+name]
		require.True(t, ok, "fixture has no parameter %s", name)
		require.Equal(t, v.Shape(), p.Value.Shape(), name)
		copy(graph.Slice[float64](p.Value), graph.Slice[float64](v))
		n++
	}
	count := 0
	for k := range f {
		if strings.HasPrefix(k, "param.") {
			count++
		}
	}
	require.Equal(t, count, n, "parameters in the fixture and in the model")
}

// Input binds fixture input name as a parameter (so that its gradient is
// computed) and returns its node.
func (f Fixture) Input(t *testing.T, s *graph.Store, b *graph.Builder, name string) *G.Node {
	t.Helper()
	v := f["input."+name]
	require.NotNil(t, v, name)
	p := s.Must("input."+name, v.Shape(), nil)
	copy(graph.Slice[float64](p.Value), graph.Slice[float64](v))
	return b.Param(p)
}

// Weighted returns sum(y * r) with r the fixture's "r.<name>", an input it adds
// to feeds.
func (f Fixture) Weighted(t *testing.T, b *graph.Builder, y *G.Node, name string, feeds map[string]*tensor.Dense) *G.Node {
	t.Helper()
	require.NoError(t, b.Err())
	r := f["r."+name]
	require.NotNil(t, r, name)
	in := b.Input("r."+name, tensor.Float64, r.Shape()...)
	feeds["r."+name] = r
	return b.Check(G.Sum(b.Check(G.HadamardProd(y, in))))
}

// Compare runs the program of loss and compares the loss, the outputs and every
// parameter's and input's gradient with the fixture's.
func (f Fixture) Compare(t *testing.T, s *graph.Store, b *graph.Builder, loss *G.Node, feeds map[string]*tensor.Dense, outputs []string, prefix string) {
	t.Helper()
	p, err := b.Compile(loss)
	require.NoError(t, err)
	for k, v := range feeds {
		require.NoError(t, p.Set(k, v))
	}
	require.NoError(t, p.Run())
	RequireRelClose(t, graph.Float64s(f["loss"]), []float64{p.Loss()}, "loss")
	for _, name := range outputs {
		o, err := p.Output(name)
		require.NoError(t, err)
		RequireRelClose(t, graph.Float64s(f[name]), graph.Float64s(o), name)
	}
	checked := 0
	for _, prm := range s.Params() {
		var key string
		if in, ok := strings.CutPrefix(prm.Name, "input."); ok {
			key = "grad_input." + in
		} else {
			key = "grad." + strings.TrimPrefix(prm.Name, prefix)
		}
		want, ok := f[key]
		require.True(t, ok, "fixture has no %s", key)
		RequireRelClose(t, graph.Float64s(want), graph.Float64s(prm.Grad), key)
		checked++
	}
	require.Greater(t, checked, 4)
}

// RequireRelClose checks got against want to ParityTol relative (absolute
// below 1e-3).
func RequireRelClose(t *testing.T, want, got []float64, what string) {
	t.Helper()
	require.Len(t, got, len(want), what)
	for i := range want {
		d := math.Abs(want[i] - got[i])
		require.LessOrEqual(t, d, ParityTol*math.Max(math.Abs(want[i]), 1e-3), "%s[%d]: want %.12g, got %.12g", what, i, want[i], got[i])
	}
}

// RequireFloat64 checks that every tensor of the fixture is float64.
func (f Fixture) RequireFloat64(t *testing.T, name string) {
	t.Helper()
	for k, v := range f {
		require.Equal(t, tensor.Float64, v.Dtype(), "%s: %s", name, k)
	}
}
