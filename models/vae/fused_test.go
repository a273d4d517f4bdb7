package vae

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
)

// The fused relu layers give the loss and gradients of graph.Linear (or
// DataLinear) followed by Gorgonia's Rectify, in float64, and pass a numeric
// gradient check (one and two hidden layers, both likelihoods).
func TestFusedReLUMatchesReference(t *testing.T) {
	const batch, input, latent = 4, 7, 2
	for _, cfg := range []Config{
		{Input: input, Hidden: []int{6}, Latent: latent, Activation: "relu", Beta: 1},
		{Input: input, Hidden: []int{6, 5}, Latent: latent, Activation: "relu", Likelihood: Gaussian, LearnSigma: true, Sigma: 0.8, Beta: 0.5},
	} {
		run := func(fused bool) (float64, map[string][]float64) {
			defer func(old bool) { fuseReLU = old }(fuseReLU)
			fuseReLU = fused
			s := graph.NewStore(tensor.Float64, graph.NewRNG(3, "init"))
			m, err := New(s, cfg)
			require.NoError(t, err)
			p, err := m.BuildELBO(s, graph.Train, batch, nil)
			require.NoError(t, err)
			require.NoError(t, p.Feed(graph.FromFloat64s(tensor.Float64, uniformData(4, batch*input), batch, input), cfg.Beta))
			p.SetNoise(graph.NewRNG(5, "noise"))
			require.NoError(t, p.Run())
			grads := map[string][]float64{}
			for _, prm := range s.Params() {
				grads[prm.Name] = graph.Float64s(prm.Grad)
			}
			loss := p.Loss()
			if fused {
				require.NoError(t, graph.CheckGrad(p.Program, graph.CheckOptions{Seed: 2}))
			}
			return loss, grads
		}
		lf, gf := run(true)
		lr, gr := run(false)
		require.InDelta(t, lr, lf, 1e-12)
		require.Len(t, gf, len(gr))
		for name, want := range gr {
			require.InDeltaSlice(t, want, gf[name], 1e-12, name)
		}
	}
}

// The float32 paths (branch-free relu masks, graph.Exp32 in the Bernoulli
// likelihood) agree with float64 to float32 precision.
func TestFloat32MatchesFloat64(t *testing.T) {
	const batch, input, latent = 6, 300, 3
	cfg := Config{Input: input, Hidden: []int{40}, Latent: latent, Activation: "relu", Beta: 1}
	x := uniformData(4, batch*input)
	run := func(dt tensor.Dtype) (float64, map[string][]float64) {
		s := graph.NewStore(dt, graph.NewRNG(3, "init"))
		m, err := New(s, cfg)
		require.NoError(t, err)
		p, err := m.BuildELBO(s, graph.Train, batch, nil)
		require.NoError(t, err)
		require.NoError(t, p.Feed(graph.FromFloat64s(dt, x, batch, input), 1))
		p.SetNoise(graph.NewRNG(5, "noise"))
		require.NoError(t, p.Run())
		grads := map[string][]float64{}
		for _, prm := range s.Params() {
			grads[prm.Name] = graph.Float64s(prm.Grad)
		}
		return p.Loss(), grads
	}
	l32, g32 := run(tensor.Float32)
	l64, g64 := run(tensor.Float64)
	require.InDelta(t, l64, l32, 1e-5*l64)
	for name, want := range g64 {
		scale := 0.0
		for _, v := range want {
			scale = math.Max(scale, math.Abs(v))
		}
		for i, v := range want {
			require.InDelta(t, v, g32[name][i], 1e-4*scale, "%s[%d]", name, i)
		}
	}
}

// Buffers the kernels overwrite are not zeroed between runs (graph.Overwriter):
// a second run on the same batch and noise repeats the first exactly, for both
// likelihoods and with and without the fused relu layers.
func TestRunsRepeat(t *testing.T) {
	const batch, input, latent = 4, 7, 2
	for _, cfg := range []Config{
		{Input: input, Hidden: []int{6}, Latent: latent, Activation: "relu", Beta: 1},
		{Input: input, Hidden: []int{6, 5}, Latent: latent, Activation: "tanh", Likelihood: Gaussian, LearnSigma: true, Sigma: 0.8, Beta: 0.5},
	} {
		s := graph.NewStore(tensor.Float32, graph.NewRNG(3, "init"))
		m, err := New(s, cfg)
		require.NoError(t, err)
		p, err := m.BuildELBO(s, graph.Train, batch, nil)
		require.NoError(t, err)
		require.NoError(t, p.Feed(graph.FromFloat64s(tensor.Float32, uniformData(4, batch*input), batch, input), cfg.Beta))
		var loss []float64
		grads := make([]map[string][]float64, 2)
		for run := range grads {
			p.SetNoise(graph.NewRNG(5, "noise"))
			require.NoError(t, p.Run())
			loss = append(loss, p.Loss())
			grads[run] = map[string][]float64{}
			for _, prm := range s.Params() {
				grads[run][prm.Name] = graph.Float64s(prm.Grad)
			}
			s.ZeroGrads()
		}
		require.Equal(t, loss[0], loss[1])
		require.Equal(t, grads[0], grads[1])
	}
}
