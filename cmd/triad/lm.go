package main

import (
	"fmt"
	"os"

	"github.com/triadml/triad/experiments/lm"
)

func init() {
	register("lm", "language modelling on tiny-shakespeare (char or word level)", lmMain)
	register("lm sample", "generate text from a trained lm run", func(args []string) error { return lmSample(args, os.Stdout) })
}

func lmMain(args []string) error {
	cfg := lm.DefaultConfig()
	if err := parseFlags("lm", &cfg, &cfg.Common, args); err != nil {
		return err
	}
	ctx, stop := interruptible()
	defer stop()
	sum, err := lm.Run(ctx, cfg, os.Stderr)
	if err != nil {
		return finish(err)
	}
	if sum.Rank == 0 {
		fmt.Fprintln(os.Stderr, "lm:", sum)
	}
	return nil
}
