package main

import (
	"github.com/triadml/triad/experiments/summarize"
)

func init() {
	experiment("summarize", "headline generation on the Gigaword sample: pointer-generator or plain attention, ROUGE against a lead baseline", summarize.DefaultConfig, summarize.Run)
	register("summarize decode", "write a headline for each article on stdin with a trained summarize run", summarizeDecodeMain)
}
