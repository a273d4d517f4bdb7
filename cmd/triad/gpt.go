package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/triadml/triad/experiments/gpt"
)

func init() {
	experiment("gpt", "a GPT on tiny-shakespeare (char or GPT-2 tokens), from scratch or from GPT-2 weights", gpt.DefaultConfig, gpt.Run)
	register("gpt sample", "generate text from a trained gpt run", func(args []string) error { return gptSample(args, os.Stdout) })
}

// gptSample prints a sample of a trained run to w.
func gptSample(args []string, w io.Writer) error {
	fs := flag.NewFlagSet("triad gpt sample", flag.ContinueOnError)
	def := gpt.DefaultSampleOptions()
	var run runFlags
	run.bind(fs, "run directory of a triad gpt run")
	prompt := fs.String("prompt", "\n", "text the sample continues")
	opts := gpt.SampleOptions{}
	fs.IntVar(&opts.N, "n", def.N, "tokens to generate")
	fs.Float64Var(&opts.Temperature, "temperature", def.Temperature, "softmax temperature (0: the most probable token)")
	fs.IntVar(&opts.TopK, "top-k", def.TopK, "sample among the K most probable tokens (0: all)")
	fs.Float64Var(&opts.TopP, "top-p", def.TopP, "sample among the most probable tokens whose probabilities reach P (0 or 1: all)")
	fs.Uint64Var(&opts.Seed, "seed", def.Seed, "sampling seed")
	if err := parseSub(fs, args); err != nil {
		return err
	}
	if err := opts.Validate(); err != nil {
		return usage(err)
	}
	if err := run.start(); err != nil {
		return err
	}
	m, err := gpt.Load(run.dir)
	if err != nil {
		return err
	}
	defer m.Close()
	text, err := m.Sample(*prompt, opts)
	if err != nil {
		return err
	}
	fmt.Fprintln(w, text)
	return nil
}
