package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/triadml/triad/experiments/gpt"
)

func init() {
	experiment("gpt", "a GPT on tiny-shakespeare (char or GPT-2 tokens), from scratch or from GPT-2 weights", gpt.DefaultConfig, gpt.Run)
	sampleCommand("gpt", "generate text from a trained gpt run", "prompt", "text the sample continues", gptSampleFlags, gpt.Load)
	register("gpt eval", "the loss of a trained gpt run over every token of its validation part, or of a text file", gptEval)
}

// gptEval prints the mean loss of a run over its whole validation part, or
// over the text of --text.
func gptEval(args []string) error {
	fs := flag.NewFlagSet("triad gpt eval", flag.ContinueOnError)
	text := fs.String("text", "", "text file to score (default: the run's validation part)")
	var run runFlags
	m, err := openRun(&run, run.bind(fs, "run directory of a triad gpt run"), args, gpt.Load)
	if err != nil {
		return err
	}
	defer m.Close()
	var loss gpt.SplitLoss
	if *text == "" {
		loss, err = m.ValidationLoss()
	} else {
		var raw []byte
		if raw, err = os.ReadFile(*text); err != nil {
			return usage(err)
		}
		loss, err = m.Loss(string(raw))
	}
	if err != nil {
		return err
	}
	fmt.Println(loss)
	return nil
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
