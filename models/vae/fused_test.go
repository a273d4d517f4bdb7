package vae

import (
	"testing"

	"github.com/stretchr/testify/require"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/models/internal/modeltest"
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
			s, p := trainELBO(t, tensor.Float64, cfg, batch, uniformData(4, batch*input))
			loss, grads := runELBO(t, s, p)
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
		s, p := trainELBO(t, dt, cfg, batch, x)
		return runELBO(t, s, p)
	}
	l32, g32 := run(tensor.Float32)
	l64, g64 := run(tensor.Float64)
	require.InDelta(t, l64, l32, 1e-5*l64)
	modeltest.RequireGradsScaled(t, g64, g32, 1e-4)
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
		s, p := trainELBO(t, tensor.Float32, cfg, batch, uniformData(4, batch*input))
		var loss []float64
		grads := make([]map[string][]float64, 2)
		for run := range grads {
			var l float64
			l, grads[run] = runELBO(t, s, p)
			loss = append(loss, l)
			s.ZeroGrads()
		}
		require.Equal(t, loss[0], loss[1])
		require.Equal(t, grads[0], grads[1])
	}
}

// trainELBO builds the training ELBO program of cfg over a store of dt (seed 3)
// and feeds it x, (batch, cfg.Input), with cfg.Beta.
func trainELBO(t *testing.T, dt tensor.Dtype, cfg Config, batch int, x []float64) (*graph.Store, *ELBOProgram) {
	t.Helper()
	s := graph.NewStore(dt, graph.NewRNG(3, "init"))
	m, err := New(s, cfg)
	require.NoError(t, err)
	p, err := m.BuildELBO(s, graph.Train, batch, nil)
	require.NoError(t, err)
	require.NoError(t, p.Feed(graph.FromFloat64s(dt, x, batch, cfg.Input), cfg.Beta))
	return s, p
}

// runELBO runs p once with the noise of seed 5 and returns the loss and every
// parameter's gradient by name.
func runELBO(t *testing.T, s *graph.Store, p *ELBOProgram) (float64, map[string][]float64) {
	t.Helper()
	p.SetNoise(graph.NewRNG(5, "noise"))
	require.NoError(t, p.Run())
	return p.Loss(), modeltest.Grads(s)
}
