package main

import (
	"fmt"
	"os"

	"github.com/triadml/triad/experiments/translate"
)

func init() {
	register("translate", "machine translation on Multi30k (German -> English): GRU with attention or Transformer, BLEU", translateMain)
	register("translate decode", "translate stdin line by line with a finished translate run", func(args []string) error {
		return translateDecode(args, os.Stdin, os.Stdout, os.Stderr)
	})
}

// translateMain trains and evaluates a translation model (see package
// translate).
func translateMain(args []string) error {
	cfg := translate.DefaultConfig()
	if err := parseFlags("translate", &cfg, &cfg.Common, args); err != nil {
		return err
	}
	ctx, stop := interruptible()
	defer stop()
	sum, err := translate.Run(ctx, cfg, os.Stderr)
	if err != nil {
		return finish(err)
	}
	fmt.Fprintln(os.Stderr, sum)
	return nil
}
