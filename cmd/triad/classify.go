package main

import (
	"github.com/triadml/triad/experiments/classify"
)

func init() {
	experiment("classify", "sentence classification (rt-polarity 10-fold CV, SNIPS intents)", classify.DefaultConfig, classify.Run)
	register("classify predict", "label each line of stdin with a trained classify run's class and its probability", classifyPredictMain)
}
