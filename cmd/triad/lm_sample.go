package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/pkg/errors"

	"github.com/triadml/triad/experiments/lm"
	"github.com/triadml/triad/train"
)

// lmSample prints a sample of a trained run to w.
func lmSample(args []string, w io.Writer) error {
	fs := flag.NewFlagSet("triad lm sample", flag.ContinueOnError)
	def := lm.DefaultSampleOptions()
	runPath := fs.String("run", "", "run directory of a triad lm run")
	prime := fs.String("prime", "\n", "text the sample starts from")
	opts := lm.SampleOptions{}
	fs.Float64Var(&opts.Temperature, "temperature", def.Temperature, "softmax temperature (lower is more conservative)")
	fs.IntVar(&opts.N, "n", def.N, "tokens to generate")
	fs.Uint64Var(&opts.Seed, "seed", def.Seed, "sampling seed")
	threads := fs.Int("threads", 0, "CPU threads (0: all)")
	if err := parseSub(fs, args); err != nil {
		return err
	}
	if *runPath == "" {
		return usage(errors.New("--run DIR is required"))
	}
	if err := opts.Validate(); err != nil {
		return usage(err)
	}
	train.SetThreads(*threads)
	m, err := lm.Load(*runPath)
	if err != nil {
		return err
	}
	defer m.Close()
	text, err := m.Sample(*prime, opts)
	if err != nil {
		return err
	}
	fmt.Fprintln(w, text)
	return nil
}
