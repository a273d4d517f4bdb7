package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/triadml/triad/experiments/lm"
)

// lmSample prints a sample of a trained run to w.
func lmSample(args []string, w io.Writer) error {
	fs := flag.NewFlagSet("triad lm sample", flag.ContinueOnError)
	def := lm.DefaultSampleOptions()
	var run runFlags
	run.bind(fs, "run directory of a triad lm run")
	prime := fs.String("prime", "\n", "text the sample starts from")
	opts := lm.SampleOptions{}
	fs.Float64Var(&opts.Temperature, "temperature", def.Temperature, "softmax temperature (lower is more conservative)")
	fs.IntVar(&opts.N, "n", def.N, "tokens to generate")
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
	m, err := lm.Load(run.dir)
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
