package main

import (
	"os"

	"github.com/triadml/triad/experiments/mlp"
)

func init() {
	register("mlp", "the template experiment: a multilayer perceptron on MNIST digits", func(args []string) error {
		cfg := mlp.DefaultConfig()
		if err := parseFlags("mlp", &cfg, &cfg.Common, args); err != nil {
			return err
		}
		ctx, stop := interruptible()
		defer stop()
		_, err := mlp.Run(ctx, cfg, os.Stderr)
		return finish(err)
	})
}
