package modeltest

import (
	"testing"

	"github.com/stretchr/testify/require"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
)

// NewStore returns an empty float64 store seeded with 1.
func NewStore() *graph.Store { return graph.NewStore(tensor.Float64, graph.NewRNG(1, "init")) }

// Param creates a parameter of N(0, 1) values in s.
func Param(s *graph.Store, name string, shape ...int) *graph.Param {
	return s.Must(name, shape, graph.Normal(0, 1))
}

// Loss accumulates sum(y * r) terms with fixed random r inputs: a loss whose
// gradient reaches every output element with a different weight.
type Loss struct {
	t     *testing.T
	b     *graph.Builder
	loss  *G.Node
	feeds map[string]*tensor.Dense
	seed  uint64
}

// NewLoss returns an empty loss over the graph of b.
func NewLoss(t *testing.T, b *graph.Builder) *Loss {
	return &Loss{t: t, b: b, feeds: map[string]*tensor.Dense{}, seed: 100}
}

// Add adds sum(y * r) with a new r of N(0, 1) values.
func (l *Loss) Add(y *G.Node) {
	l.t.Helper()
	require.NoError(l.t, l.b.Err())
	require.NotNil(l.t, y)
	name := l.b.UniqueName("r")
	r := l.b.Input(name, tensor.Float64, y.Shape()...)
	vals := make([]float64, y.Shape().TotalSize())
	l.seed++
	graph.StandardNormal(graph.NewRNG(l.seed, "weights"), vals)
	l.feeds[name] = graph.FromFloat64s(tensor.Float64, vals, y.Shape()...)
	term := l.b.Check(G.Sum(l.b.Check(G.HadamardProd(y, r))))
	if l.loss == nil {
		l.loss = term
	} else {
		l.loss = l.b.Check(G.Add(l.loss, term))
	}
}

// Check compiles the loss, feeds the weights and the other inputs, and runs the
// gradient check.
func (l *Loss) Check(inputs map[string]*tensor.Dense, opt graph.CheckOptions) {
	l.t.Helper()
	p, err := l.b.Compile(l.loss)
	require.NoError(l.t, err)
	for k, v := range l.feeds {
		require.NoError(l.t, p.Set(k, v))
	}
	for k, v := range inputs {
		require.NoError(l.t, p.Set(k, v))
	}
	require.NoError(l.t, graph.CheckGrad(p, opt))
}

// RunEval compiles an evaluation graph, feeds inputs and returns the named
// outputs.
func RunEval(t *testing.T, b *graph.Builder, inputs map[string]*tensor.Dense, names ...string) map[string][]float64 {
	t.Helper()
	p, err := b.Compile(nil)
	require.NoError(t, err)
	for k, v := range inputs {
		require.NoError(t, p.Set(k, v))
	}
	require.NoError(t, p.Run())
	out := map[string][]float64{}
	for _, n := range names {
		o, err := p.Output(n)
		require.NoError(t, err)
		out[n] = graph.Float64s(o)
	}
	return out
}

// NormalDense returns a float64 tensor of N(0, 1) values drawn from seed.
func NormalDense(seed uint64, shape ...int) *tensor.Dense {
	n := 1
	for _, d := range shape {
		n *= d
	}
	v := make([]float64, n)
	graph.StandardNormal(graph.NewRNG(seed, "data"), v)
	return graph.FromFloat64s(tensor.Float64, v, shape...)
}

// PerturbBiases gives the zero-initialised biases and the norms' weights random
// values, so that a gradient check does not sit at a special point.
func PerturbBiases(s *graph.Store) {
	rng := graph.NewRNG(9, "perturb")
	for _, p := range s.Params() {
		if p.Value.Dims() == 1 {
			v := graph.Slice[float64](p.Value)
			for i := range v {
				v[i] += 0.1 * rng.NormFloat64()
			}
		}
	}
}
