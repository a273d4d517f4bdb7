package main

import (
	"github.com/triadml/triad/experiments/mlp"
)

func init() {
	experiment("mlp", "the template experiment: a multilayer perceptron on MNIST digits", mlp.DefaultConfig, mlp.Run)
}
