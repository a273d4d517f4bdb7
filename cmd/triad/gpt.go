package main

import (
	"flag"

	"github.com/triadml/triad/experiments/gpt"
)

func init() {
	experiment("gpt", "a GPT on tiny-shakespeare (char or GPT-2 tokens), from scratch or from GPT-2 weights", gpt.DefaultConfig, gpt.Run)
	sampleCommand("gpt", "generate text from a trained gpt run", "prompt", "text the sample continues", gptSampleFlags, gpt.Load)
}

// gptSampleFlags adds the sampling options of `triad gpt sample` to fs, with
// gpt.DefaultSampleOptions as their defaults.
func gptSampleFlags(fs *flag.FlagSet) *gpt.SampleOptions {
	o := gpt.DefaultSampleOptions()
	fs.IntVar(&o.N, "n", o.N, "tokens to generate")
	fs.Float64Var(&o.Temperature, "temperature", o.Temperature, "softmax temperature (0: the most probable token)")
	fs.IntVar(&o.TopK, "top-k", o.TopK, "sample among the K most probable tokens (0: all)")
	fs.Float64Var(&o.TopP, "top-p", o.TopP, "sample among the most probable tokens whose probabilities reach P (0 or 1: all)")
	fs.Uint64Var(&o.Seed, "seed", o.Seed, "sampling seed")
	return &o
}
