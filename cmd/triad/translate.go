package main

import (
	"os"

	"github.com/triadml/triad/experiments/translate"
)

func init() {
	experiment("translate", "machine translation on Multi30k (German -> English): GRU with attention or Transformer, BLEU", translate.DefaultConfig, translate.Run)
	register("translate decode", "translate stdin line by line with a finished translate run", func(args []string) error {
		return translateDecode(args, os.Stdin, os.Stdout, os.Stderr)
	})
}
