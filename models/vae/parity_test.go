package vae

import (
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/models/internal/modeltest"
)

// TestPyTorchParity loads the fixtures of scripts/fixtures_vae.py (PyTorch 1.13,
// float64: the network of pytorch/examples vae/main.py at sizes 12-7-3, batch 5,
// and a Gaussian-decoder variant with a learnt variance and beta 0.5) into a VAE
// with the same parameter names, feeds the same x, eps and beta, and compares
// the loss, its two terms and every parameter gradient.
func TestPyTorchParity(t *testing.T) {
	const tol = 1e-10 // relative; float64 rounding differences are about 1e-15
	for _, name := range []string{"bernoulli", "gaussian"} {
		t.Run(name, func(t *testing.T) {
			ts, meta, err := graph.LoadTensors("testdata/parity_" + name + ".safetensors")
			require.NoError(t, err)
			require.Equal(t, name, meta["likelihood"])
			x, eps := ts["x"], ts["eps"]
			batch, input, latent := x.Shape()[0], x.Shape()[1], eps.Shape()[1]
			hidden := ts["fc1.weight"].Shape()[0]
			cfg := Config{Input: input, Hidden: []int{hidden}, Latent: latent, Activation: "relu", Likelihood: Likelihood(name), LearnSigma: name == "gaussian", Beta: graph.Scalar(ts["beta"])}
			s := graph.NewStore(tensor.Float64, graph.NewRNG(1, "init"))
			m, err := New(s, cfg)
			require.NoError(t, err)
			params := map[string]*tensor.Dense{}
			for k, v := range ts {
				if strings.HasPrefix(k, "fc") || k == "dec_logvar" {
					params[k] = v
				}
			}
			require.NoError(t, graph.AssignStore(s, params), "the fixture's state_dict must load by name")
			fixed := graph.Slice[float64](eps)
			p, err := m.BuildELBO(s, graph.Train, batch, func(_ uint64, _ int, d *tensor.Dense) { require.NoError(t, graph.SetFloat64s(d, fixed)) })
			require.NoError(t, err)
			p.SetNoise(graph.NewRNG(0, "unused"))
			require.NoError(t, p.Feed(x, cfg.Beta))
			require.NoError(t, p.Run())
			loss, recon, kl := p.Values()
			requireRel(t, graph.Scalar(ts["loss"]), loss, tol, "loss")
			requireRel(t, graph.Scalar(ts["recon"]), recon, tol, "recon")
			requireRel(t, graph.Scalar(ts["kl"]), kl, tol, "kl")
			for _, prm := range s.Params() {
				want, ok := ts["grad."+prm.Name]
				require.True(t, ok, "fixture lacks the gradient of %s", prm.Name)
				modeltest.RequireScaled(t, graph.Float64s(want), graph.Float64s(prm.Grad), tol, "gradient of %s", prm.Name)
			}
		})
	}
}

func requireRel(t *testing.T, want, got, tol float64, what string) {
	t.Helper()
	require.InDelta(t, want, got, tol*math.Max(1, math.Abs(want)), what)
}
