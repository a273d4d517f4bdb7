package losses

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
)

// fx is a tensor of the fixture file.
type fx struct {
	Shape []int     `json:"shape"`
	Data  []float64 `json:"data"`
}

type ifx struct {
	Shape []int `json:"shape"`
	Data  []int `json:"data"`
}

func (f ifx) dense() *tensor.Dense {
	return tensor.New(tensor.WithShape(f.Shape...), tensor.WithBacking(append([]int(nil), f.Data...)))
}

// reduced is a loss of a fixture under the reductions None, Sum and Mean, and
// Mean with per-element weights (losses that take weights).
type reduced struct {
	None         []float64 `json:"none"`
	Sum          float64   `json:"sum"`
	Mean         float64   `json:"mean"`
	WeightedMean float64   `json:"weighted_mean"`
}

// cases are the fixture cases of a loss of logits and targets T with weights.
type cases[T any] struct {
	Logits  fx          `json:"logits"`
	Targets T           `json:"targets"`
	Weights fx          `json:"weights"`
	Cases   []logitCase `json:"cases"`
}

// logitCase is a case of a loss of logits: an option of the loss (label
// smoothing for cross-entropy, pos_weight for binary cross-entropy) and the
// results of its reductions and gradients that the fixture gives.
type logitCase struct {
	reduced
	LabelSmoothing  float64   `json:"label_smoothing"`
	PosWeight       []float64 `json:"pos_weight"`
	WeightedSum     float64   `json:"weighted_sum"`
	PerSequence     []float64 `json:"per_sequence"`
	PerExample      []float64 `json:"per_example"`
	GradMean        []float64 `json:"grad_mean"`
	GradMeanLogits  []float64 `json:"grad_mean_logits"`
	GradMeanTargets []float64 `json:"grad_mean_targets"`
}

// eachCase runs check on each of the two cases in each dtype, with the dtype's
// tolerance and a message suffix naming it.
func eachCase(t *testing.T, cases []logitCase, check func(dt tensor.Dtype, c logitCase, tol float64, msg func(string) string)) {
	t.Helper()
	require.Len(t, cases, 2)
	for _, dt := range dtypes {
		for _, c := range cases {
			check(dt, c, tolerance(dt), func(s string) string { return s + " " + dt.String() })
		}
	}
}

// fixtures mirrors losses/testdata/losses.json, written by
// scripts/fixtures_losses.py with PyTorch 1.13 (Debian 12's python3-torch).
type fixtures struct {
	Source               string     `json:"source"`
	CrossEntropy         cases[ifx] `json:"cross_entropy"`
	SequenceCrossEntropy struct {
		Logits      fx        `json:"logits"`
		Targets     ifx       `json:"targets"`
		Mask        fx        `json:"mask"`
		Mean        float64   `json:"mean"`
		GradMean    []float64 `json:"grad_mean"`
		PerSequence []float64 `json:"per_sequence"`
	} `json:"sequence_cross_entropy"`
	BCE cases[fx] `json:"bce_with_logits"`
	MSE struct {
		Input  fx `json:"input"`
		Target fx `json:"target"`
		reduced
		GradMeanInput  []float64 `json:"grad_mean_input"`
		GradMeanTarget []float64 `json:"grad_mean_target"`
	} `json:"mse"`
	KL struct {
		Mu1                     fx        `json:"mu1"`
		Logvar1                 fx        `json:"logvar1"`
		Mu2                     fx        `json:"mu2"`
		Logvar2                 fx        `json:"logvar2"`
		KLStandard              []float64 `json:"kl_standard"`
		KLStandardDistributions []float64 `json:"kl_standard_distributions"`
		KLTwo                   []float64 `json:"kl_two"`
	} `json:"kl"`
}

var (
	fixOnce sync.Once
	fixVal  fixtures
	fixErr  error
)

func loadFixtures(t *testing.T) *fixtures {
	t.Helper()
	fixOnce.Do(func() {
		buf, err := os.ReadFile(filepath.Join("testdata", "losses.json"))
		if err != nil {
			fixErr = err
			return
		}
		fixErr = json.Unmarshal(buf, &fixVal)
	})
	require.NoError(t, fixErr)
	return &fixVal
}

// harness builds one training program whose parameters and inputs come from
// fixtures.
type harness struct {
	t      *testing.T
	dtype  tensor.Dtype
	s      *graph.Store
	b      *graph.Builder
	params map[string]*graph.Param
	feeds  map[string]*tensor.Dense
}

func newHarness(t *testing.T, dtype tensor.Dtype) *harness {
	s := graph.NewStore(dtype, graph.NewRNG(5, "init"))
	return &harness{t: t, dtype: dtype, s: s, b: graph.NewBuilder(s, graph.Train), params: map[string]*graph.Param{}, feeds: map[string]*tensor.Dense{}}
}

// param binds a parameter holding f's values (or, with f.Data nil, random
// normal values of f.Shape).
func (h *harness) param(name string, f fx) *G.Node {
	init := graph.Normal(0, 1)
	if f.Data != nil {
		init = graph.InitFunc(func(_ *rand.Rand, _ []int, vals []float64) error { copy(vals, f.Data); return nil })
	}
	p := h.s.Must(name, f.Shape, init)
	h.params[name] = p
	return h.b.Param(p)
}

// input declares an input fed with v (float data is converted to the dtype).
func (h *harness) input(name string, v *tensor.Dense) *G.Node {
	if v.Dtype() == tensor.Float64 || v.Dtype() == tensor.Float32 {
		v = graph.FromFloat64s(h.dtype, graph.Float64s(v), v.Shape()...)
	}
	h.feeds[name] = v
	return h.b.Input(name, v.Dtype(), v.Shape()...)
}

func (h *harness) floatInput(name string, f fx) *G.Node {
	return h.input(name, graph.FromFloat64s(tensor.Float64, f.Data, f.Shape...))
}

// compile turns out into a program: out itself is the loss when it is a scalar,
// otherwise the loss is sum(out * r) for a fixed random r. out is also the
// program's output "out". It runs the program once.
func (h *harness) compile(out *G.Node) *graph.Program {
	h.t.Helper()
	require.NoError(h.t, h.b.Err())
	require.NotNil(h.t, out)
	h.b.Output("out", out)
	loss := out
	if !out.Shape().IsScalar() {
		r := make([]float64, out.Shape().TotalSize())
		graph.NormalFloat64s(graph.NewRNG(9, "r"), r)
		rn := h.input("r", graph.FromFloat64s(tensor.Float64, r, out.Shape()...))
		loss = h.b.Check(G.Sum(h.b.Check(G.HadamardProd(out, rn))))
	}
	p, err := h.b.Compile(loss)
	require.NoError(h.t, err)
	for name, v := range h.feeds {
		require.NoError(h.t, p.Set(name, v))
	}
	require.NoError(h.t, p.Run())
	return p
}

// value returns the program's output "out" as float64.
func value(t *testing.T, p *graph.Program) []float64 {
	t.Helper()
	out, err := p.Output("out")
	require.NoError(t, err)
	return graph.Float64s(out)
}

// gradCheck runs graph.CheckGrad on the program.
func gradCheck(t *testing.T, p *graph.Program) {
	t.Helper()
	require.NoError(t, graph.CheckGrad(p, graph.CheckOptions{}))
}

// tolerance returns the comparison tolerance for values of magnitude about 1:
// float64 sums of a few terms are exact to ~1e-15, float32 to ~1e-7 relative.
func tolerance(dt tensor.Dtype) float64 {
	if dt == tensor.Float32 {
		return 2e-5
	}
	return 1e-12
}

// requireClose compares with a relative-or-absolute tolerance.
func requireClose(t *testing.T, want, got []float64, tol float64, msg string) {
	t.Helper()
	require.Equal(t, len(want), len(got), msg)
	for i := range want {
		scale := max(1, abs(want[i]))
		require.InDelta(t, want[i], got[i], tol*scale, "%s [%d]", msg, i)
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

var dtypes = []tensor.Dtype{tensor.Float64, tensor.Float32}
