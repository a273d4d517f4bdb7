// Package vae is the variational autoencoder experiment: a VAE (models/vae)
// trained on MNIST's pixel intensities with Adam, its test negative ELBO at each
// evaluation, figures of reconstructions, samples and (2-D latent space) the
// learnt manifold, and importance-weighted (IWAE) estimates of the test
// log-likelihood at the end. The defaults are those of PyTorch's
// examples/vae/main.py; beta-VAE, KL warm-up and a Gaussian decoder are options.
//
// From Go:
//
//	cfg := vae.DefaultConfig()
//	cfg.MaxSteps = 100
//	sum, err := vae.Run(ctx, cfg, os.Stderr)     // or RunOn(ctx, cfg, data, log)
//	m, err := vae.Load(sum.Dir)                  // or the run directory
//	defer m.Close()
//	digits, err := m.Sample(16, 1)
//	recon, err := m.Reconstruct(images)
package vae

import (
	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/datasets/batch"
	"github.com/triadml/triad/graph"
	vaemodel "github.com/triadml/triad/models/vae"
	"github.com/triadml/triad/train"
)

// Config holds the hyperparameters of a run (`triad vae`'s flags). The defaults
// are those of PyTorch's examples/vae/main.py: 784-400-20, ReLU, Bernoulli
// decoder on pixel intensities in [0, 1], Adam 1e-3, batch 128, 10 epochs, seed 1.
type Config struct {
	train.Common
	train.Optim    `help.batch:"images per training and evaluation batch" help.lr:"Adam learning rate"`
	Hidden         string  `json:"hidden" help:"encoder hidden layer sizes, comma-separated (the decoder mirrors them; empty: linear)"`
	Latent         int     `json:"latent" help:"latent size (2 also draws the learnt manifold)"`
	Activation     string  `json:"activation" help:"hidden activation: relu, tanh, sigmoid, gelu, leaky_relu, softplus"`
	Likelihood     string  `json:"likelihood" help:"decoder distribution: bernoulli (logits) or gaussian (means)"`
	Sigma          float64 `json:"sigma" help:"gaussian decoder: standard deviation, fixed or initial with --learn-sigma"`
	LearnSigma     bool    `json:"learn_sigma" help:"gaussian decoder: learn a per-pixel log-variance"`
	Beta           float64 `json:"beta" help:"weight of the KL term (1: the ELBO; beta-VAE otherwise)"`
	Warmup         int     `json:"warmup_steps" help:"linear KL warm-up: beta_t = beta min(1, step/warmup_steps) (0: off)"`
	IWAEK          string  `json:"iwae_k" help:"importance samples of the final log-likelihood estimates, comma-separated (empty: none)"`
	IWAEMaxSamples int     `json:"iwae_max_samples" help:"decoder samples per estimate: k uses min(test set, this/k) test images, evenly spaced (0: the whole test set)"`
}

// DefaultConfig returns the defaults of `triad vae`.
func DefaultConfig() Config {
	return Config{
		Common: train.Common{Seed: 1, Epochs: 10, LogEvery: 50},
		Hidden: "400", Latent: 20, Activation: "relu", Likelihood: "bernoulli", Sigma: 1, Beta: 1,
		Optim: train.Optim{Batch: 128, LR: 1e-3}, IWAEK: "1,100,1000", IWAEMaxSamples: 1000000,
	}
}

// Validate checks the settings, the model's included, without data.
func (c Config) Validate() error {
	if err := train.CheckSettings(c); err != nil {
		return err
	}
	if c.Batch <= 0 || c.LR <= 0 {
		return errors.Errorf("batch (%d) and lr (%g) must be positive", c.Batch, c.LR)
	}
	if c.IWAEMaxSamples < 0 || c.ClipNorm < 0 {
		return errors.Errorf("iwae_max_samples %d and clip_norm %g must be non-negative", c.IWAEMaxSamples, c.ClipNorm)
	}
	if _, err := batch.ParseInts("iwae_k", c.IWAEK); err != nil {
		return err
	}
	// the model's own checks, on a throw-away store
	mc, err := c.modelConfig(1)
	if err != nil {
		return err
	}
	_, err = vaemodel.New(graph.NewStore(tensor.Float32, graph.NewRNG(0, "check")), mc)
	return err
}

// modelConfig returns the model's config for images of input pixels.
func (c Config) modelConfig(input int) (vaemodel.Config, error) {
	hidden, err := batch.ParseInts("hidden", c.Hidden)
	if err != nil {
		return vaemodel.Config{}, err
	}
	for _, h := range hidden {
		if h > train.MaxSetting {
			return vaemodel.Config{}, errors.Errorf("hidden: %d is above %d", h, train.MaxSetting)
		}
	}
	return vaemodel.Config{Input: input, Hidden: hidden, Latent: c.Latent, Activation: c.Activation,
		Likelihood: vaemodel.Likelihood(c.Likelihood), Sigma: c.Sigma, LearnSigma: c.LearnSigma,
		Beta: c.Beta, WarmupSteps: c.Warmup}, nil
}
