package transformer

import (
	"math"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/models/internal/modeltest"
)

// fusedPair builds the same Transformer twice over equal float64 parameters,
// fused and unfused (the reference form), and returns both training programs fed
// with the same batch.
func fusedPair(t *testing.T, cfg Config, mode graph.Mode, smoothing float64) (fused, ref *Program, fs, rs *graph.Store) {
	t.Helper()
	build := func(unfused bool) (*Program, *graph.Store) {
		c := cfg
		c.Unfused = unfused
		// the third source and the second target are padded
		return buildFed(t, c, mode, 5, smoothing, [][]int{{3, 4, 5, 6, 7}, {8, 3, 4}, {5, 6}}, [][]int{{3, 4, 5, 6}, {7}, {8, 3, 4}})
	}
	fused, fs = build(false)
	ref, rs = build(true)
	return fused, ref, fs, rs
}

// requireSame checks that got equals want to a relative 1e-10.
func requireSame(t *testing.T, want, got []float64, what string) {
	t.Helper()
	require.Len(t, got, len(want), what)
	for i := range want {
		require.InDelta(t, want[i], got[i], 1e-10*math.Max(1, math.Abs(want[i])), "%s[%d]", what, i)
	}
}

// The fused form computes the reference form's loss, attention weights and
// gradients in float64, dropout included (both draw the same masks from the
// noise stream), for every layer variant.
func TestFusedTransformerMatchesReference(t *testing.T) {
	for _, c := range []struct {
		name   string
		change func(*Config)
	}{
		{"post_relu_sinusoidal", func(*Config) {}},
		{"post_relu_dropout", func(c *Config) { c.Dropout = 0.3 }},
		{"pre_gelu_learned_shared_tied_dropout", func(c *Config) {
			c.PreLN, c.Activation, c.Positions, c.ShareEmbeddings, c.TieOutput, c.Dropout = true, "gelu", "learned", true, true, 0.2
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := Config{SrcVocab: 11, TgtVocab: 11, Dim: 8, Heads: 2, FF: 12, EncoderLayers: 2, DecoderLayers: 2, MaxLen: 7, Tokens: modeltest.Tokens}
			c.change(&cfg)
			fused, ref, fs, rs := fusedPair(t, cfg, graph.Train, 0.1)
			for _, p := range []*Program{fused, ref} {
				p.SetNoise(graph.NewRNG(5, "noise"))
				require.NoError(t, p.Run())
			}
			require.InDelta(t, ref.Loss(), fused.Loss(), 1e-12)
			wr, err := ref.Output("attn")
			require.NoError(t, err)
			wf, err := fused.Output("attn")
			require.NoError(t, err)
			requireSame(t, graph.Float64s(wr), graph.Float64s(wf), "attn")
			require.Equal(t, rs.Names(), fs.Names())
			for _, name := range rs.Names() {
				pr, _ := rs.Get(name)
				pf, _ := fs.Get(name)
				requireSame(t, graph.Float64s(pr.Grad), graph.Float64s(pf.Grad), "gradient of "+name)
			}
		})
	}
}

// An evaluation program and the one-step decoder give the same values fused and
// unfused, attention weights included.
func TestFusedTransformerEvalMatchesReference(t *testing.T) {
	cfg := Config{SrcVocab: 11, TgtVocab: 11, Dim: 8, Heads: 2, FF: 12, EncoderLayers: 1, DecoderLayers: 2, MaxLen: 7,
		Dropout: 0.1, Tokens: modeltest.Tokens}
	fused, ref, _, _ := fusedPair(t, cfg, graph.Eval, 0)
	require.NoError(t, fused.Run())
	require.NoError(t, ref.Run())
	lf, _ := fused.Output("loss")
	lr, _ := ref.Output("loss")
	require.InDelta(t, graph.Scalar(lr), graph.Scalar(lf), 1e-12)
	// the weights are copied out after later nodes ran, in a program that
	// otherwise hands a kernel's scratch on once its forward pass is done
	wr, err := ref.Output("attn")
	require.NoError(t, err)
	wf, err := fused.Output("attn")
	require.NoError(t, err)
	requireSame(t, graph.Float64s(wr), graph.Float64s(wf), "attn")
}

// Numeric gradient check of the fused form, post- and pre-LN, with padding on
// both sides, dropout in every sub-layer and label smoothing.
func TestFusedTransformerGradients(t *testing.T) {
	for _, pre := range []bool{false, true} {
		cfg := smallConfig()
		cfg.PreLN, cfg.Dropout = pre, 0.25
		requireModelGradients(t, cfg, 0.2, graph.CheckOptions{Seed: 3, MaxPerParam: 5})
	}
}

// The fused attention weights are for inspection: a loss built on them fails
// when it runs, naming the way out.
func TestFusedWeightsNotDifferentiable(t *testing.T) {
	s := modeltest.NewStore()
	l, err := NewEncoderLayer(s, "layer", LayerConfig{Dim: 4, Heads: 2, FF: 6})
	require.NoError(t, err)
	x := s.Must("x", []int{2, 3, 4}, graph.Normal(0, 1))
	b := graph.NewBuilder(s, graph.Train)
	out, w := l.Forward(b, b.Param(x), nil)
	loss := b.Check(G.Add(b.Check(G.Sum(w)), b.Check(G.Sum(out))))
	p, err := b.Compile(loss)
	require.NoError(t, err)
	require.ErrorContains(t, p.Run(), "Unfused")
}

// The float32 paths of the fused kernels (branch-free relu, graph.Exp32 in the
// softmaxes and the output layer) agree with float64 to float32 precision, loss
// and gradients.
func TestFusedFloat32MatchesFloat64(t *testing.T) {
	losses := map[tensor.Dtype]float64{}
	grads := map[tensor.Dtype]map[string][]float64{}
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		s := graph.NewStore(dt, graph.NewRNG(1, "init"))
		m, err := New(s, Config{SrcVocab: 40, TgtVocab: 40, Dim: 8, Heads: 2, FF: 12, EncoderLayers: 1, DecoderLayers: 1,
			MaxLen: 7, Dropout: 0.2, Tokens: modeltest.Tokens})
		require.NoError(t, err)
		p, err := m.Build(s, graph.Train, 3, 4, 4, 0.1)
		require.NoError(t, err)
		_, err = p.Feed(modeltest.Srcs, modeltest.Tgts)
		require.NoError(t, err)
		p.SetNoise(graph.NewRNG(4, "noise"))
		require.NoError(t, p.Run())
		losses[dt] = p.Loss()
		grads[dt] = modeltest.Grads(s)
	}
	require.InDelta(t, losses[tensor.Float64], losses[tensor.Float32], 1e-5*losses[tensor.Float64])
	modeltest.RequireGradsScaled(t, grads[tensor.Float64], grads[tensor.Float32], 1e-4)
}

// With two cores the fused kernels split batch rows across goroutines (heads,
// softmax, layer norms, the output layer): the step gives the loss and
// gradients of one core, on a batch large enough to be split.
func TestFusedParallelMatchesSerial(t *testing.T) {
	run := func(procs int) (float64, map[string][]float64) {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		s := graph.NewStore(tensor.Float32, graph.NewRNG(1, "init"))
		m, err := New(s, Config{SrcVocab: 300, TgtVocab: 300, Dim: 32, Heads: 4, FF: 48, EncoderLayers: 1, DecoderLayers: 1,
			MaxLen: 16, Dropout: 0.1, Tokens: modeltest.Tokens})
		require.NoError(t, err)
		p, err := m.Build(s, graph.Train, 16, 16, 16, 0.1)
		require.NoError(t, err)
		rng := graph.NewRNG(2, "data")
		srcs, tgts := make([][]int, 16), make([][]int, 16)
		for i := range srcs {
			for j := 0; j < 8+i/2; j++ {
				srcs[i] = append(srcs[i], 3+rng.IntN(297))
				tgts[i] = append(tgts[i], 3+rng.IntN(297))
			}
		}
		_, err = p.Feed(srcs, tgts)
		require.NoError(t, err)
		p.SetNoise(graph.NewRNG(3, "noise"))
		require.NoError(t, p.Run())
		return p.Loss(), modeltest.Grads(s)
	}
	l1, g1 := run(1)
	l2, g2 := run(2)
	require.InDelta(t, l1, l2, 1e-6*math.Abs(l1))
	for name, want := range g1 {
		got := g2[name]
		for i := range want {
			require.InDelta(t, want[i], got[i], 1e-5*(math.Abs(want[i])+1e-3), "%s[%d]", name, i)
		}
	}
}

// The kernels' buffers are reused without zeroing where the kernels say they
// overwrite them (graph.Overwriter): a second run on the same batch and masks
// gives exactly the first run's loss and gradients, for every layer variant.
func TestFusedRunsRepeat(t *testing.T) {
	for _, pre := range []bool{false, true} {
		cfg := Config{SrcVocab: 11, TgtVocab: 11, Dim: 8, Heads: 2, FF: 12, EncoderLayers: 1, DecoderLayers: 2, MaxLen: 7,
			Dropout: 0.2, PreLN: pre, Positions: "learned", Tokens: modeltest.Tokens}
		fused, _, fs, _ := fusedPair(t, cfg, graph.Train, 0.1)
		var loss []float64
		grads := make([]map[string][]float64, 2)
		for run := range grads {
			fused.SetNoise(graph.NewRNG(5, "noise"))
			require.NoError(t, fused.Run())
			loss = append(loss, fused.Loss())
			grads[run] = modeltest.Grads(fs)
			fs.ZeroGrads()
		}
		require.Equal(t, loss[0], loss[1])
		require.Equal(t, grads[0], grads[1])
	}
}
