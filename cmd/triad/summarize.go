package main

import (
	"fmt"
	"os"

	"github.com/triadml/triad/experiments/summarize"
)

func init() {
	register("summarize", "headline generation on the Gigaword sample: pointer-generator or plain attention, ROUGE against a lead baseline", summarizeMain)
	register("summarize decode", "write a headline for each article on stdin with a trained summarize run", summarizeDecodeMain)
}

func summarizeMain(args []string) error {
	cfg := summarize.DefaultConfig()
	if err := parseFlags("summarize", &cfg, &cfg.Common, args); err != nil {
		return err
	}
	ctx, stop := interruptible()
	defer stop()
	sum, err := summarize.Run(ctx, cfg, os.Stderr)
	if err != nil {
		return finish(err)
	}
	fmt.Fprintln(os.Stderr, sum)
	return nil
}
