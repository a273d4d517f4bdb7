package rnn

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

// pairTol bounds |fused - unrolled| relative to the larger magnitude (plus the same
// absolute floor): the two graphs sum the same float64 products in different
// orders (one product over all steps against per-step products summed), so they
// differ by rounding only, a few units of 1e-16 per term.
const pairTol = 1e-12

// pairFixture is a stack with inputs, initial states and loss weights as
// parameters of one store, so that graphs built with and without fusion share
// every value and every gradient can be compared.
type pairFixture struct {
	s            *graph.Store
	r            *RNN
	batch, steps int
	lengths      []int
}

func newPairFixture(t *testing.T, dtype tensor.Dtype, cfg Config, batch, steps int, lengths []int) *pairFixture {
	t.Helper()
	s := graph.NewStore(dtype, graph.NewRNG(1, "init"))
	r, err := New(s, "rnn", cfg)
	require.NoError(t, err)
	for i := 0; i < steps; i++ {
		s.Must(fmt.Sprintf("x%d", i), []int{batch, cfg.Input}, graph.Normal(0, 1))
		s.Must(fmt.Sprintf("w.out%d", i), []int{batch, r.OutputSize()}, graph.Normal(0, 1))
	}
	for k := 0; k < r.States(); k++ {
		s.Must(fmt.Sprintf("h0.%d", k), []int{batch, cfg.Hidden}, graph.Normal(0, 0.5))
		s.Must(fmt.Sprintf("w.h%d", k), []int{batch, cfg.Hidden}, graph.Normal(0, 1))
		if cfg.Cell == LSTM {
			s.Must(fmt.Sprintf("c0.%d", k), []int{batch, cfg.Hidden}, graph.Normal(0, 0.5))
			s.Must(fmt.Sprintf("w.c%d", k), []int{batch, cfg.Hidden}, graph.Normal(0, 1))
		}
	}
	return &pairFixture{s: s, r: r, batch: batch, steps: steps, lengths: lengths}
}

func (f *pairFixture) param(b *graph.Builder, name string) *G.Node {
	p, ok := f.s.Get(name)
	if !ok {
		panic("no parameter " + name)
	}
	return b.Param(p)
}

// outputs returns the names of program's outputs.
func (f *pairFixture) outputs() []string {
	var names []string
	for i := 0; i < f.steps; i++ {
		names = append(names, fmt.Sprintf("out%d", i))
	}
	for k := 0; k < f.r.States(); k++ {
		names = append(names, fmt.Sprintf("h%d", k))
		if f.r.Cell == LSTM {
			names = append(names, fmt.Sprintf("c%d", k))
		}
	}
	return names
}

// program builds the stack (fused or not) with loss = sum of every output and
// final state weighted by the w.* parameters, and outputs out.T, h.K, c.K.
func (f *pairFixture) program(t *testing.T, fused bool) *graph.Program {
	t.Helper()
	f.r.Fused = fused
	b := graph.NewBuilder(f.s, graph.Train)
	var xs, masks []*G.Node
	for i := 0; i < f.steps; i++ {
		xs = append(xs, f.param(b, fmt.Sprintf("x%d", i)))
		if f.lengths != nil {
			masks = append(masks, b.Input(fmt.Sprintf("mask%d", i), f.s.Dtype(), f.batch, 1))
		}
	}
	var init State
	for k := 0; k < f.r.States(); k++ {
		init.H = append(init.H, f.param(b, fmt.Sprintf("h0.%d", k)))
		if f.r.Cell == LSTM {
			init.C = append(init.C, f.param(b, fmt.Sprintf("c0.%d", k)))
		}
	}
	outs, final := f.r.Forward(b, xs, init, masks)
	require.NoError(t, b.Err())
	var loss *G.Node
	add := func(n *G.Node, out, w string) {
		b.Output(out, n)
		term := b.Check(G.Sum(b.Check(G.HadamardProd(n, f.param(b, w)))))
		if loss == nil {
			loss = term
		} else {
			loss = b.Check(G.Add(loss, term))
		}
	}
	for i, o := range outs {
		add(o, fmt.Sprintf("out%d", i), fmt.Sprintf("w.out%d", i))
	}
	for k := range final.H {
		add(final.H[k], fmt.Sprintf("h%d", k), fmt.Sprintf("w.h%d", k))
		if final.C != nil {
			add(final.C[k], fmt.Sprintf("c%d", k), fmt.Sprintf("w.c%d", k))
		}
	}
	p, err := b.Compile(loss)
	require.NoError(t, err)
	for i := 0; i < f.steps && f.lengths != nil; i++ {
		m := make([]float64, f.batch)
		for j, l := range f.lengths {
			if i < l {
				m[j] = 1
			}
		}
		require.NoError(t, p.Set(fmt.Sprintf("mask%d", i), graph.FromFloat64s(f.s.Dtype(), m, f.batch, 1)))
	}
	return p
}

// result is everything a run produces: loss, outputs and gradients, by name.
type result map[string][]float64

// runOnce runs p with the dropout stream at seed and collects its results, leaving
// the gradients zero.
func runOnce(t *testing.T, p *graph.Program, s *graph.Store, seed uint64, outputs []string) result {
	t.Helper()
	s.ZeroGrads()
	p.SetNoise(graph.NewRNG(seed, "dropout"))
	require.NoError(t, p.Run())
	res := result{"loss": {p.Loss()}}
	for _, name := range outputs {
		o, err := p.Output(name)
		require.NoError(t, err)
		res["output "+name] = graph.Float64s(o)
	}
	for _, prm := range s.Params() {
		res["gradient of "+prm.Name] = graph.Float64s(prm.Grad)
	}
	s.ZeroGrads()
	return res
}

func requireSame(t *testing.T, want, got result, tol float64) {
	t.Helper()
	require.Equal(t, len(want), len(got), "number of results")
	for name, w := range want {
		g, ok := got[name]
		require.True(t, ok, "missing %s", name)
		require.Len(t, g, len(w), name)
		for i := range w {
			scale := math.Max(1, math.Max(math.Abs(w[i]), math.Abs(g[i])))
			if math.Abs(w[i]-g[i]) > tol*scale || math.IsNaN(g[i]) {
				t.Fatalf("%s[%d]: unrolled %.17g, fused %.17g", name, i, w[i], g[i])
			}
		}
	}
}

// TestFusedMatchesUnrolled compares the fused kernels with the unrolled graph:
// outputs, final states, loss and the gradients of every weight, input and
// initial state, for each cell alone and in a 2-layer bidirectional stack with
// padding masks and dropout between the layers (the same noise in both graphs).
// Two runs with different inputs check that nothing of the first run's backward
// pass is reused.
func TestFusedMatchesUnrolled(t *testing.T) {
	cases := []struct {
		name    string
		cfg     Config
		lengths []int
	}{
		{"single", Config{Input: 3, Hidden: 4}, nil},
		{"single_masked", Config{Input: 3, Hidden: 4}, []int{5, 3, 1}},
		{"bidirectional_masked_dropout", Config{Input: 3, Hidden: 4, Layers: 2, Bidirectional: true, Dropout: 0.4}, []int{5, 2, 4}},
		{"stacked_dropout", Config{Input: 2, Hidden: 5, Layers: 3, Dropout: 0.3}, nil},
	}
	for _, cell := range []Cell{Tanh, ReLU, LSTM, GRU} {
		for _, c := range cases {
			t.Run(string(cell)+"/"+c.name, func(t *testing.T) {
				cfg := c.cfg
				cfg.Cell = cell
				f := newPairFixture(t, tensor.Float64, cfg, 3, 5, c.lengths)
				unrolled, fused := f.program(t, false), f.program(t, true)
				for round := uint64(0); round < 2; round++ {
					if round == 1 {
						for i := 0; i < f.steps; i++ {
							x, _ := f.s.Get(fmt.Sprintf("x%d", i))
							for j := range graph.Slice[float64](x.Value) {
								graph.Slice[float64](x.Value)[j] *= -0.7
							}
						}
					}
					want := runOnce(t, unrolled, f.s, 10+round, f.outputs())
					got := runOnce(t, fused, f.s, 10+round, f.outputs())
					requireSame(t, want, got, pairTol)
				}
			})
		}
	}
}

// TestFusedFloat32 compares the two paths in float32, where the fused kernels
// use the float32 activations (and, where the processor has them, the AVX2
// ones: a hidden size of 12 gives both eight-wide and leftover elements) and the
// per-step kernels float64 math rounded to float32. The tolerance allows for
// float32 rounding (2^-24 relative) accumulated over a few hundred operations.
func TestFusedFloat32(t *testing.T) {
	for _, cell := range []Cell{Tanh, LSTM, GRU} {
		t.Run(string(cell), func(t *testing.T) {
			cfg := Config{Cell: cell, Input: 5, Hidden: 12, Layers: 2, Bidirectional: true, Dropout: 0.2}
			f := newPairFixture(t, tensor.Float32, cfg, 4, 6, []int{6, 3, 5, 1})
			unrolled, fused := f.program(t, false), f.program(t, true)
			want := runOnce(t, unrolled, f.s, 5, f.outputs())
			got := runOnce(t, fused, f.s, 5, f.outputs())
			requireSame(t, want, got, 2e-5)
		})
	}
}

// TestFusedGradients checks the fused kernels' gradients against central
// differences, as TestCellGradients and TestStackedBidirectionalMaskedGradients
// check the unrolled ones.
func TestFusedGradients(t *testing.T) {
	for _, cell := range []Cell{Tanh, ReLU, LSTM, GRU} {
		t.Run(string(cell), func(t *testing.T) {
			p, _ := build(t, Config{Cell: cell, Input: 3, Hidden: 4, Fused: true}, 2, 3, nil)
			require.NoError(t, graph.CheckGrad(p, graph.CheckOptions{}))
		})
	}
	for _, cell := range []Cell{Tanh, LSTM, GRU} {
		t.Run(string(cell)+"/bidirectional_masked", func(t *testing.T) {
			cfg := Config{Cell: cell, Input: 3, Hidden: 3, Layers: 2, Bidirectional: true, Dropout: 0.3, Fused: true}
			p, _ := build(t, cfg, 3, 4, []int{4, 2, 1})
			// a sample of each parameter: TestFusedMatchesUnrolled compares every
			// gradient with the unrolled graph's, which TestStackedBidirectionalMaskedGradients
			// checks in full
			require.NoError(t, graph.CheckGrad(p, graph.CheckOptions{Seed: 7, MaxPerParam: 12}))
		})
	}
}

// TestFusedLMMatchesUnrolled compares the language model's two graphs: loss,
// logits, final states and every gradient, over two windows of truncated
// back-propagation (the second starting from the first's final state), and the
// evaluation graphs' losses. With dropout (on the embeddings, between the layers
// and before the head) the fused graph looks the embeddings up; without, and
// with a vocabulary smaller than the window, its first layer projects the
// embedding table (ForwardEmbedded), tied to the head or not.
func TestFusedLMMatchesUnrolled(t *testing.T) {
	const batch, steps = 3, 6
	cases := []struct {
		name     string
		cfg      LMConfig
		embedded bool // the training graph projects the table
	}{
		{"lstm_dropout", LMConfig{Vocab: 7, Embed: 4, Hidden: 5, Layers: 2, Cell: LSTM, Dropout: 0.25}, false},
		{"lstm_tied", LMConfig{Vocab: 7, Embed: 5, Hidden: 5, Layers: 2, Cell: LSTM, Tie: true}, true},
		{"lstm_large_vocabulary", LMConfig{Vocab: 40, Embed: 4, Hidden: 5, Layers: 1, Cell: LSTM}, false},
		{"gru", LMConfig{Vocab: 7, Embed: 4, Hidden: 5, Layers: 2, Cell: GRU}, true},
		{"gru_dropout", LMConfig{Vocab: 7, Embed: 4, Hidden: 5, Layers: 2, Cell: GRU, Dropout: 0.3}, false},
		{"rnn", LMConfig{Vocab: 7, Embed: 4, Hidden: 5, Layers: 2, Cell: Tanh}, true},
		{"rnn_relu_dropout", LMConfig{Vocab: 7, Embed: 4, Hidden: 5, Layers: 1, Cell: ReLU, Dropout: 0.2}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := graph.NewStore(tensor.Float64, graph.NewRNG(1, "init"))
			lm, err := NewLM(s, c.cfg)
			require.NoError(t, err)
			require.True(t, lm.RNN.Fused, "the LM is fused by default")
			build := func(mode graph.Mode, unrolled bool) *LMProgram {
				lm.Config.Unrolled = unrolled
				p, err := lm.Build(s, mode, batch, steps, true)
				require.NoError(t, err)
				return p
			}
			fused, unrolled := build(graph.Train, false), build(graph.Train, true)
			fusedEval, unrolledEval := build(graph.Eval, false), build(graph.Eval, true)
			require.Contains(t, fused.InputNames(), "x")
			require.Contains(t, unrolled.InputNames(), "x.0")
			require.Equal(t, c.embedded, embeddedNodes(fused) > 0, "the training graph's first layer projects the table")
			require.Equal(t, c.cfg.Vocab < batch*steps, embeddedNodes(fusedEval) > 0, "the evaluation graph's")
			outputs := []string{"logits"}
			for k := 0; k < lm.RNN.States(); k++ {
				outputs = append(outputs, fmt.Sprintf("state.hN.%d", k))
				if c.cfg.Cell == LSTM {
					outputs = append(outputs, fmt.Sprintf("state.cN.%d", k))
				}
			}
			rng := graph.NewRNG(4, "data")
			stF, stU := lm.NewState(tensor.Float64, batch), lm.NewState(tensor.Float64, batch)
			for window := uint64(0); window < 2; window++ {
				x, y := make([]int, batch*steps), make([]int, batch*steps)
				for i := range x {
					x[i], y[i] = rng.IntN(c.cfg.Vocab), rng.IntN(c.cfg.Vocab)
				}
				var res [2]result
				for i, r := range []struct {
					p  *LMProgram
					st LMState
				}{{unrolled, stU}, {fused, stF}} {
					require.NoError(t, r.p.Feed(x, y))
					require.NoError(t, r.p.SetState(r.st))
					res[i] = runOnce(t, r.p.Program, s, 20+window, outputs)
					require.NoError(t, r.p.CopyFinalState(r.st))
				}
				requireSame(t, res[0], res[1], pairTol)
				var loss [2]float64
				for i, p := range []*LMProgram{unrolledEval, fusedEval} {
					require.NoError(t, p.Feed(x, y))
					require.NoError(t, p.SetState(stU))
					require.NoError(t, p.Run())
					loss[i] = graph.Scalar(mustOutput(t, p.Program, "loss"))
				}
				require.InDelta(t, loss[0], loss[1], pairTol*math.Max(1, loss[0]))
			}
		})
	}
}

// embeddedNodes counts a program's fused nodes that project an embedding table.
func embeddedNodes(p *LMProgram) int {
	n := 0
	for _, node := range p.Graph().AllNodes() {
		if op := node.Op(); op != nil && strings.HasPrefix(op.String(), "rnn.fused") && strings.Contains(op.String(), "embedded=true") {
			n++
		}
	}
	return n
}

// TestFusedLMGradients checks the fused language model's gradients, the table
// projected by the first layer and tied to the head, against central differences.
func TestFusedLMGradients(t *testing.T) {
	const batch, steps, vocab = 2, 3, 5
	for _, cell := range []Cell{LSTM, GRU} {
		t.Run(string(cell), func(t *testing.T) {
			s := graph.NewStore(tensor.Float64, graph.NewRNG(1, "init"))
			lm, err := NewLM(s, LMConfig{Vocab: vocab, Embed: 3, Hidden: 3, Layers: 2, Cell: cell, Tie: true})
			require.NoError(t, err)
			p, err := lm.Build(s, graph.Train, batch, steps, false)
			require.NoError(t, err)
			require.Positive(t, embeddedNodes(p))
			require.NoError(t, p.Feed([]int{0, 4, 4, 1, 2, 0}, []int{1, 3, 0, 0, 2, 4}))
			st := lm.NewState(tensor.Float64, batch)
			for _, v := range append(append([]*tensor.Dense(nil), st.H...), st.C...) {
				for i := range graph.Slice[float64](v) {
					graph.Slice[float64](v)[i] = 0.1 * float64(i%3-1)
				}
			}
			require.NoError(t, p.SetState(st))
			require.NoError(t, graph.CheckGrad(p.Program, graph.CheckOptions{}))
		})
	}
}

// TestFusedBadID: an id outside the vocabulary is a run-time error, not a panic.
func TestFusedBadID(t *testing.T) {
	s := graph.NewStore(tensor.Float32, graph.NewRNG(1, "init"))
	lm, err := NewLM(s, LMConfig{Vocab: 5, Hidden: 4, Cell: LSTM})
	require.NoError(t, err)
	p, err := lm.Build(s, graph.Eval, 2, 3, false)
	require.NoError(t, err)
	require.NoError(t, p.SetState(lm.NewState(tensor.Float32, 2)))
	require.NoError(t, p.Feed([]int{0, 1, 2, 3, 5, 4}, make([]int, 6)))
	require.ErrorContains(t, p.Run(), "id 5 at position 4 outside [0, 5)")
}

func mustOutput(t *testing.T, p *graph.Program, name string) *tensor.Dense {
	t.Helper()
	o, err := p.Output(name)
	require.NoError(t, err)
	return o
}

// TestFusedErrors: shapes that do not fit are build errors, not panics.
func TestFusedErrors(t *testing.T) {
	s := graph.NewStore(tensor.Float64, graph.NewRNG(1, "init"))
	r, err := New(s, "rnn", Config{Cell: LSTM, Input: 3, Hidden: 4})
	require.NoError(t, err)
	b := graph.NewBuilder(s, graph.Train)
	init := r.ZeroState(b, "s", 2)
	x := b.Input("x", tensor.Float64, 7, 3) // 7 rows are not steps of batch 2
	r.ForwardSeq(b, x, 3, init, nil)
	require.ErrorContains(t, b.Err(), "for 3 steps of batch 2")

	b = graph.NewBuilder(s, graph.Train)
	init = r.ZeroState(b, "s", 2)
	x = b.Input("x", tensor.Float64, 6, 3)
	mask := b.Input("m", tensor.Float64, 4, 1)
	r.ForwardSeq(b, x, 3, init, mask)
	require.ErrorContains(t, b.Err(), "mask")

	b = graph.NewBuilder(s, graph.Train)
	r.ForwardSeq(b, x, 3, State{}, nil)
	require.ErrorContains(t, b.Err(), "initial state")
}
