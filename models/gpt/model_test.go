package gpt

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/models/internal/modeltest"
	"github.com/triadml/triad/solvers"
)

// tiny is a configuration small enough for numeric gradient checks.
var tiny = Config{VocabSize: 7, BlockSize: 6, Layers: 2, Heads: 2, Embed: 4, Bias: true}

func newModel(t testing.TB, dtype tensor.Dtype, cfg Config) (*graph.Store, *Model) {
	t.Helper()
	s := graph.NewStore(dtype, graph.NewRNG(1, "init"))
	m, err := New(s, cfg)
	require.NoError(t, err)
	return s, m
}

func TestParameterNames(t *testing.T) {
	s, _ := newModel(t, tensor.Float64, Config{VocabSize: 5, BlockSize: 4, Layers: 1, Heads: 2, Embed: 4, Bias: true})
	shapes := map[string][]int{}
	for _, p := range s.Params() {
		shapes[p.Name] = p.Shape()
	}
	want := map[string][]int{
		"transformer.wte.weight":  {5, 4},
		"transformer.wpe.weight":  {4, 4},
		"transformer.ln_f.weight": {4},
		"transformer.ln_f.bias":   {4},
	}
	for layer, weight := range map[string][]int{ // each bias as long as its weight's last axis
		"ln_1":        {4},
		"attn.c_attn": {4, 12},
		"attn.c_proj": {4, 4},
		"ln_2":        {4},
		"mlp.c_fc":    {4, 16},
		"mlp.c_proj":  {16, 4},
	} {
		want["transformer.h.0."+layer+".weight"] = weight
		want["transformer.h.0."+layer+".bias"] = weight[len(weight)-1:]
	}
	require.Equal(t, want, shapes)
	s, _ = newModel(t, tensor.Float64, Config{VocabSize: 5, BlockSize: 4, Layers: 1, Heads: 2, Embed: 4})
	for _, n := range s.Names() {
		require.False(t, strings.HasSuffix(n, ".bias"), n)
	}
	_, err := New(s, Config{VocabSize: 5, BlockSize: 4, Layers: 1, Heads: 3, Embed: 4})
	require.ErrorContains(t, err, "multiple of 3 heads")
}

// TestGradients checks the training program's gradients, with and without
// biases and with dropout on (its masks fixed by the check's seed), against
// float64 central differences.
func TestGradients(t *testing.T) {
	for _, c := range []struct {
		name string
		cfg  Config
	}{
		{"bias", tiny},
		{"nobias_dropout", Config{VocabSize: 7, BlockSize: 6, Layers: 2, Heads: 2, Embed: 4, Dropout: 0.2}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, m := newModel(t, tensor.Float64, c.cfg)
			modeltest.PerturbBiases(s)
			p, err := m.Build(s, graph.Train, 2, 5)
			require.NoError(t, err)
			idx, tgt := graph.RandomTokens(1, 2, 5, 7), graph.RandomTokens(2, 2, 5, 7)
			tgt[0][3] = IgnoreIndex
			require.NoError(t, p.Feed(idx, tgt))
			require.NoError(t, graph.CheckGrad(p.Program, graph.CheckOptions{Seed: 3}))
		})
	}
}

// fixture is a PyTorch parity case of scripts/fixtures_gpt.py.
func loadParity(t *testing.T, name string) (map[string]*tensor.Dense, *graph.Store, *Model) {
	t.Helper()
	state, _, err := graph.LoadTensors("testdata/" + name + "_state.safetensors")
	require.NoError(t, err)
	fx, meta, err := graph.LoadTensors("testdata/" + name + "_parity.safetensors")
	require.NoError(t, err)
	cfg, err := ConfigFromTensors(state, 2)
	require.NoError(t, err)
	require.Equal(t, Config{VocabSize: 11, BlockSize: 8, Layers: 2, Heads: 2, Embed: 8, Bias: meta["bias"] == "True"}, cfg)
	s, m := newModel(t, tensor.Float64, cfg)
	require.NoError(t, m.LoadFile(s, "testdata/"+name+"_state.safetensors"), "the state dict loads by name")
	return fx, s, m
}

func rowsOf(t *tensor.Dense) [][]int {
	v := t.Int64s()
	n := t.Shape()[1]
	out := make([][]int, t.Shape()[0])
	for r := range out {
		for _, x := range v[r*n : (r+1)*n] {
			out[r] = append(out[r], int(x))
		}
	}
	return out
}

// TestPyTorchParity compares the logits, the loss and the gradient of every
// parameter with a GPT-2 written in PyTorch on the same weights, with and
// without biases, to 1e-6 relative.
func TestPyTorchParity(t *testing.T) {
	for _, name := range []string{"gpt2_bias", "gpt2_nobias"} {
		t.Run(name, func(t *testing.T) {
			fx, s, m := loadParity(t, name)
			idx := fx["input.idx"]
			p, err := m.Build(s, graph.Train, idx.Shape()[0], idx.Shape()[1])
			require.NoError(t, err)
			require.NoError(t, p.Feed(rowsOf(idx), rowsOf(fx["input.targets"])))
			require.NoError(t, p.Run())
			logits, err := p.Output("logits")
			require.NoError(t, err)
			modeltest.RequireRelClose(t, graph.Float64s(fx["logits"]), graph.Float64s(logits), "logits")
			modeltest.RequireRelClose(t, graph.Float64s(fx["loss"]), []float64{p.Loss()}, "loss")
			var checked, grads []string
			for _, prm := range s.Params() {
				want, ok := fx["grad."+prm.Name]
				require.True(t, ok, prm.Name)
				modeltest.RequireRelClose(t, graph.Float64s(want), graph.Float64s(prm.Grad), prm.Name)
				checked = append(checked, "grad."+prm.Name)
			}
			for k := range fx {
				if strings.HasPrefix(k, "grad.") {
					grads = append(grads, k)
				}
			}
			require.ElementsMatch(t, grads, checked, "every parameter's gradient")
		})
	}
}

// The loader takes the state dict with or without the transformer. prefix,
// with or without lm_head.weight, in float32 or float64, and refuses, naming
// the problem and changing nothing, an untied output layer, a transposed
// Conv1D weight, a missing or an unknown tensor.
func TestLoadStateDict(t *testing.T) {
	state, _, err := graph.LoadTensors("testdata/gpt2_bias_state.safetensors")
	require.NoError(t, err)
	cfg, err := ConfigFromTensors(state, 2)
	require.NoError(t, err)
	bare := map[string]*tensor.Dense{}
	for k, v := range state {
		if k != "lm_head.weight" {
			bare[strings.TrimPrefix(k, "transformer.")] = v
		}
	}
	path := filepath.Join(t.TempDir(), "bare.safetensors")
	require.NoError(t, graph.SaveTensors(path, bare, nil))
	cfg2, err := ConfigFromTensors(bare, 2)
	require.NoError(t, err)
	require.Equal(t, cfg, cfg2)

	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		s, m := newModel(t, dt, cfg)
		require.NoError(t, m.LoadFile(s, path), "no prefix, no lm_head")
		for _, p := range s.Params() {
			want := graph.Float64s(state[p.Name])
			got := graph.Float64s(p.Value)
			for i := range want {
				if dt == tensor.Float32 {
					want[i] = float64(float32(want[i]))
				}
			}
			require.Equal(t, want, got, p.Name)
		}
	}

	s, m := newModel(t, tensor.Float64, cfg)
	before := graph.Float64s(m.WTE.Value)
	with := func(edit func(ts map[string]*tensor.Dense)) error {
		ts := map[string]*tensor.Dense{}
		for k, v := range state {
			ts[k] = v
		}
		edit(ts)
		return m.LoadTensors(s, ts)
	}
	err = with(func(ts map[string]*tensor.Dense) {
		h := ts["lm_head.weight"].Clone().(*tensor.Dense)
		h.Float64s()[3] += 1
		ts["lm_head.weight"] = h
	})
	require.ErrorContains(t, err, "tied")
	err = with(func(ts map[string]*tensor.Dense) {
		w := ts["transformer.h.1.attn.c_attn.weight"]
		tr := w.Clone().(*tensor.Dense)
		require.NoError(t, tr.T())
		ts["transformer.h.1.attn.c_attn.weight"] = graph.FromFloat64s(tensor.Float64, graph.Float64s(graph.Contiguous(tr)), 24, 8)
	})
	require.ErrorContains(t, err, "transposed")
	err = with(func(ts map[string]*tensor.Dense) { delete(ts, "transformer.h.0.mlp.c_fc.bias") })
	require.ErrorContains(t, err, `"transformer.h.0.mlp.c_fc.bias" is missing`)
	err = with(func(ts map[string]*tensor.Dense) { ts["transformer.h.2.ln_1.weight"] = ts["transformer.ln_f.weight"] })
	require.ErrorContains(t, err, "not a parameter")
	require.Equal(t, before, graph.Float64s(m.WTE.Value), "nothing assigned on error")
	require.NoError(t, with(func(map[string]*tensor.Dense) {}))
	require.NotEqual(t, before, graph.Float64s(m.WTE.Value))
}

// A few AdamW steps on one batch bring its loss down; train and eval programs
// agree on the loss without dropout.
func TestTrainingLowersLoss(t *testing.T) {
	cfg := Config{VocabSize: 9, BlockSize: 8, Layers: 2, Heads: 2, Embed: 16, Bias: true}
	s, m := newModel(t, tensor.Float32, cfg)
	p, err := m.Build(s, graph.Train, 3, 8)
	require.NoError(t, err)
	ev, err := m.Build(s, graph.Eval, 3, 8)
	require.NoError(t, err)
	idx := graph.RandomTokens(5, 3, 8, 9)
	tgt := make([][]int, 3)
	for r, row := range idx {
		tgt[r] = append(append([]int(nil), row[1:]...), 0)
	}
	require.NoError(t, p.Feed(idx, tgt))
	require.NoError(t, ev.Feed(idx, tgt))
	cfgW := solvers.DefaultAdamWConfig()
	cfgW.LR = 1e-2
	opt, err := solvers.NewAdamW(cfgW)
	require.NoError(t, err)
	var first, last float64
	for i := 0; i < 40; i++ {
		require.NoError(t, ev.Run())
		l, _ := ev.Output("loss")
		require.NoError(t, p.Run())
		require.InDelta(t, graph.Scalar(l), p.Loss(), 1e-5)
		if i == 0 {
			first = p.Loss()
		}
		last = p.Loss()
		require.NoError(t, opt.Step(s.Params()))
	}
	require.Less(t, last, first/3, "loss %g -> %g", first, last)
}
