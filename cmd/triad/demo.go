package main

import (
	"os"

	"github.com/triadml/triad/experiments/demo"
)

func init() {
	register("demo", "built-in demo, no dataset: attention seq2seq learns to normalise dates written in many formats and languages", demoMain)
}

// demoMain runs `triad demo`: it trains and evaluates the date demo, logging
// its progress, results and examples to stderr.
func demoMain(args []string) error {
	cfg := demo.DefaultConfig()
	if err := parseFlags("demo", &cfg, &cfg.Common, args); err != nil {
		return err
	}
	ctx, stop := interruptible()
	defer stop()
	_, err := demo.Run(ctx, cfg, os.Stderr)
	return finish(err)
}
