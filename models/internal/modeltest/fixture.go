package modeltest

import (
	"fmt"
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

// AssignParams loads the fixture's "param.NAME" tensors into the parameters of
// s by name, as a PyTorch state_dict loads.
func (f Fixture) AssignParams(t *testing.T, s *graph.Store) {
	t.Helper()
	params := map[string]*tensor.Dense{}
	for k, v := range f {
		if n, ok := strings.CutPrefix(k, "param."); ok {
			params[n] = v
		}
	}
	require.NoError(t, graph.AssignStore(s, params), "the PyTorch state_dict loads by name")
}

// RequireGradients checks the gradient of every parameter of s against the
// fixture's "grad.NAME" with RequireWithin to rel.
func (f Fixture) RequireGradients(t *testing.T, s *graph.Store, rel float64) {
	t.Helper()
	for _, prm := range s.Params() {
		want, ok := f["grad."+prm.Name]
		require.True(t, ok, "fixture has no gradient of %s", prm.Name)
		RequireWithin(t, graph.Float64s(want), graph.Float64s(prm.Grad), rel, "gradient of %s", prm.Name)
	}
}

// Parity is a parity check in progress: a fixture, the store of the module
// under test with the fixture's parameters, a training builder over it, and the
// fixture inputs fed so far.
type Parity struct {
	Fixture
	S *graph.Store
	B *graph.Builder

	t      *testing.T
	prefix string
	feeds  map[string]*tensor.Dense
}

// NewParity loads the fixture at path, creates the module with newModule in a
// new store (see NewStore) and assigns the fixture's parameters to it by name
// relative to prefix (see Fixture.Assign).
func NewParity[M any](t *testing.T, path, prefix string, newModule func(s *graph.Store) (M, error)) (M, *Parity) {
	t.Helper()
	f := LoadFixture(t, path)
	s := NewStore()
	m, err := newModule(s)
	require.NoError(t, err)
	f.Assign(t, s, prefix)
	return m, &Parity{Fixture: f, S: s, B: graph.NewBuilder(s, graph.Train), t: t, prefix: prefix, feeds: map[string]*tensor.Dense{}}
}

// Input binds fixture input name as a parameter (so that its gradient is
// computed) and returns its node.
func (p *Parity) Input(name string) *G.Node {
	p.t.Helper()
	v := p.Fixture["input."+name]
	require.NotNil(p.t, v, name)
	prm := p.S.Must("input."+name, v.Shape(), nil)
	copy(graph.Slice[float64](prm.Value), graph.Slice[float64](v))
	return p.B.Param(prm)
}

// Fixed binds fixture input name as an input that is not differentiated, such
// as a mask, and returns its node.
func (p *Parity) Fixed(name string) *G.Node {
	p.t.Helper()
	v := p.Fixture["input."+name]
	require.NotNil(p.t, v, name)
	p.feeds[name] = v
	return p.B.Input(name, tensor.Float64, v.Shape()...)
}

// Compare declares outs as the outputs names, runs the program of the loss
// sum_i sum(outs[i] * r.names[i]) with the fixture's weights r, and compares
// the loss, the outputs and every parameter's and input's gradient with the
// fixture's.
func (p *Parity) Compare(names []string, outs ...*G.Node) {
	t, b, f := p.t, p.B, p.Fixture
	t.Helper()
	require.Len(t, outs, len(names))
	require.NoError(t, b.Err())
	var loss *G.Node
	for i, name := range names {
		b.Output(name, outs[i])
		r := f["r."+name]
		require.NotNil(t, r, name)
		p.feeds["r."+name] = r
		loss = addWeighted(b, loss, outs[i], b.Input("r."+name, tensor.Float64, r.Shape()...))
	}
	prog := Compile(t, b, loss, p.feeds)
	require.NoError(t, prog.Run())
	RequireRelClose(t, graph.Float64s(f["loss"]), []float64{prog.Loss()}, "loss")
	for _, name := range names {
		o, err := prog.Output(name)
		require.NoError(t, err)
		RequireRelClose(t, graph.Float64s(f[name]), graph.Float64s(o), name)
	}
	checked := 0
	for _, prm := range p.S.Params() {
		var key string
		if in, ok := strings.CutPrefix(prm.Name, "input."); ok {
			key = "grad_input." + in
		} else {
			key = "grad." + strings.TrimPrefix(prm.Name, p.prefix)
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

// RequireWithin checks got against want element by element to rel relative,
// with an absolute floor of 1e-13 for the elements near zero.
func RequireWithin(t *testing.T, want, got []float64, rel float64, msg string, args ...any) {
	t.Helper()
	require.Len(t, got, len(want), fmt.Sprintf(msg, args...))
	for i := range want {
		require.InDelta(t, want[i], got[i], rel*math.Abs(want[i])+1e-13, "%s [%d]", fmt.Sprintf(msg, args...), i)
	}
}

// RequireScaled checks got against want element by element to tol relative to
// the largest magnitude in want: the comparison of a tensor whose small
// elements are sums that cancel.
func RequireScaled(t *testing.T, want, got []float64, tol float64, msg string, args ...any) {
	t.Helper()
	require.Len(t, got, len(want), fmt.Sprintf(msg, args...))
	scale := 0.0
	for _, v := range want {
		scale = math.Max(scale, math.Abs(v))
	}
	for i := range want {
		require.InDelta(t, want[i], got[i], tol*scale, "%s [%d]", fmt.Sprintf(msg, args...), i)
	}
}

// RequireGradsScaled checks every gradient of got (see Grads) against want's
// with RequireScaled.
func RequireGradsScaled(t *testing.T, want, got map[string][]float64, tol float64) {
	t.Helper()
	require.Len(t, got, len(want))
	for name, w := range want {
		RequireScaled(t, w, got[name], tol, "gradient of %s", name)
	}
}

// RequireFloat64 checks that every tensor of the fixture is float64.
func (f Fixture) RequireFloat64(t *testing.T, name string) {
	t.Helper()
	for k, v := range f {
		require.Equal(t, tensor.Float64, v.Dtype(), "%s: %s", name, k)
	}
}
