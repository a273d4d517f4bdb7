package main

import (
	"github.com/triadml/triad/experiments/demo"
)

func init() {
	experiment("demo", "built-in demo, no dataset: attention seq2seq learns to normalise dates written in many formats and languages", demo.DefaultConfig, demo.Run)
}
