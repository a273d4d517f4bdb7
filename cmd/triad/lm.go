package main

import (
	"flag"

	"github.com/triadml/triad/experiments/lm"
)

func init() {
	experiment("lm", "language modelling on tiny-shakespeare (char or word level)", lm.DefaultConfig, lm.Run)
	sampleCommand("lm", "generate text from a trained lm run", "prime", "text the sample starts from", lmSampleFlags, lm.Load)
}

// lmSampleFlags adds the sampling options of `triad lm sample` to fs, with
// lm.DefaultSampleOptions as their defaults.
func lmSampleFlags(fs *flag.FlagSet) *lm.SampleOptions {
	o := lm.DefaultSampleOptions()
	fs.Float64Var(&o.Temperature, "temperature", o.Temperature, "softmax temperature (lower is more conservative)")
	fs.IntVar(&o.N, "n", o.N, "tokens to generate")
	fs.Uint64Var(&o.Seed, "seed", o.Seed, "sampling seed")
	return &o
}
