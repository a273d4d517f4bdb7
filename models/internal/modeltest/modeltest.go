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

// TrainModule creates a module with newModule in a new store (see NewStore),
// perturbs its biases (see PerturbBiases) and returns it with a training
// builder over the store, for a gradient check.
func TrainModule[M any](t *testing.T, newModule func(s *graph.Store) (M, error)) (M, *graph.Builder) {
	t.Helper()
	s := NewStore()
	m, err := newModule(s)
	require.NoError(t, err)
	PerturbBiases(s)
	return m, graph.NewBuilder(s, graph.Train)
}

// FixedInput is a kernel input that a gradient check does not differentiate,
// such as a mask.
type FixedInput struct {
	Name  string
	Value *tensor.Dense
}

// CheckKernel gradient-checks k over N(0, 1) inputs of the given shapes, all
// differentiated, followed by the fixed inputs, through a Loss; it returns k's
// node.
func CheckKernel(t *testing.T, k graph.Kernel, shapes [][]int, fixed ...FixedInput) *G.Node {
	t.Helper()
	s := NewStore()
	b := graph.NewBuilder(s, graph.Train)
	var args []*G.Node
	for i, sh := range shapes {
		args = append(args, b.Param(Param(s, string(rune('a'+i)), sh...)))
	}
	feeds := map[string]*tensor.Dense{}
	for _, in := range fixed {
		args = append(args, b.Input(in.Name, tensor.Float64, in.Value.Shape()...))
		feeds[in.Name] = in.Value
	}
	y := b.Check(graph.Apply(k, args...))
	l := NewLoss(t, b)
	l.Add(y)
	l.Check(feeds, graph.CheckOptions{})
	return y
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
	graph.NormalFloat64s(graph.NewRNG(l.seed, "weights"), vals)
	l.feeds[name] = graph.FromFloat64s(tensor.Float64, vals, y.Shape()...)
	l.loss = addWeighted(l.b, l.loss, y, r)
}

// addWeighted returns sum + sum(y * r), or sum(y * r) when sum is nil.
func addWeighted(b *graph.Builder, sum, y, r *G.Node) *G.Node {
	term := b.Check(G.Sum(b.Check(G.HadamardProd(y, r))))
	if sum == nil {
		return term
	}
	return b.Check(G.Add(sum, term))
}

// Check compiles the loss, feeds the weights and the other inputs, and runs the
// gradient check.
func (l *Loss) Check(inputs map[string]*tensor.Dense, opt graph.CheckOptions) {
	l.t.Helper()
	require.NoError(l.t, graph.CheckGrad(Compile(l.t, l.b, l.loss, l.feeds, inputs), opt))
}

// Compile compiles the graph of b with loss (nil: forward-only) and sets the
// inputs of every map.
func Compile(t *testing.T, b *graph.Builder, loss *G.Node, inputs ...map[string]*tensor.Dense) *graph.Program {
	t.Helper()
	p, err := b.Compile(loss)
	require.NoError(t, err)
	for _, in := range inputs {
		for k, v := range in {
			require.NoError(t, p.Set(k, v))
		}
	}
	return p
}

// RunEval compiles an evaluation graph, feeds inputs and returns the named
// outputs.
func RunEval(t *testing.T, b *graph.Builder, inputs map[string]*tensor.Dense, names ...string) map[string][]float64 {
	t.Helper()
	p := Compile(t, b, nil, inputs)
	require.NoError(t, p.Run())
	out := map[string][]float64{}
	for _, n := range names {
		o, err := p.Output(n)
		require.NoError(t, err)
		out[n] = graph.Float64s(o)
	}
	return out
}

// Grads returns the gradient of every parameter of s by name, as float64.
func Grads(s *graph.Store) map[string][]float64 {
	grads := map[string][]float64{}
	for _, p := range s.Params() {
		grads[p.Name] = graph.Float64s(p.Grad)
	}
	return grads
}

// NormalDense returns a float64 tensor of N(0, 1) values drawn from seed.
func NormalDense(seed uint64, shape ...int) *tensor.Dense {
	n := 1
	for _, d := range shape {
		n *= d
	}
	v := make([]float64, n)
	graph.NormalFloat64s(graph.NewRNG(seed, "data"), v)
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
