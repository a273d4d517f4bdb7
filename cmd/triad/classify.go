package main

import (
	"fmt"
	"os"

	"github.com/triadml/triad/experiments/classify"
)

func init() {
	register("classify", "sentence classification (rt-polarity 10-fold CV, SNIPS intents)", classifyMain)
	register("classify predict", "label each line of stdin with a trained classify run's class and its probability", classifyPredictMain)
}

func classifyMain(args []string) error {
	cfg := classify.DefaultConfig()
	if err := parseFlags("classify", &cfg, &cfg.Common, args); err != nil {
		return err
	}
	ctx, stop := interruptible()
	defer stop()
	sum, err := classify.Run(ctx, cfg, os.Stderr)
	if err != nil {
		return finish(err)
	}
	fmt.Fprintln(os.Stderr, "classify:", sum)
	return nil
}
