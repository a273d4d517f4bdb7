package main

import (
	"os"

	"github.com/triadml/triad/experiments/vae"
)

func init() {
	register("vae", "variational autoencoder on MNIST (PyTorch examples/vae defaults), beta-VAE, IWAE log-likelihood", vaeMain)
}

// vaeMain trains a VAE on MNIST; the log goes to stderr, the results to the run
// directory.
func vaeMain(args []string) error {
	cfg := vae.DefaultConfig()
	if err := parseFlags("vae", &cfg, &cfg.Common, args); err != nil {
		return err
	}
	ctx, stop := interruptible()
	defer stop()
	_, err := vae.Run(ctx, cfg, os.Stderr)
	return finish(err)
}
