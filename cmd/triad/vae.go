package main

import (
	"github.com/triadml/triad/experiments/vae"
)

func init() {
	experiment("vae", "variational autoencoder on MNIST (PyTorch examples/vae defaults), beta-VAE, IWAE log-likelihood", vae.DefaultConfig, vae.Run)
}
