package main

import (
	"os"

	"github.com/triadml/triad/experiments/lm"
)

func init() {
	experiment("lm", "language modelling on tiny-shakespeare (char or word level)", lm.DefaultConfig, lm.Run)
	register("lm sample", "generate text from a trained lm run", func(args []string) error { return lmSample(args, os.Stdout) })
}
