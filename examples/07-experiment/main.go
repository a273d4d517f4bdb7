// Command 07-experiment drives an experiment from Go, as a program or a
// notebook would: experiments/demo, a recurrent encoder-decoder with
// attention that learns to write dates in ISO 8601 ("saturday, 28 nov. 2026"
// becomes 2026-11-28). It takes the experiment's DefaultConfig, shortens it,
// runs it (demo.Run writes a run directory), loads the finished run
// (demo.Load) and normalises new dates with it. The data are generated, so it
// needs no download.
//
//	go run ./examples/07-experiment [-out DIR] [-short]
package main

import (
	"context"
	"io"
	"os"
	"path/filepath"

	"github.com/triadml/triad/examples/notebook"
	"github.com/triadml/triad/experiments/demo"
)

func main() {
	notebook.Main("examples/07-experiment/out", run)
}

// result is what the test checks.
type result struct {
	dir        string
	steps      int
	exact      float64
	normalised []string
}

// dates are written by hand, in formats the training data mix.
var dates = []string{"monday, 3 march 2025", "17/08/1999", "Dec 24, 2030", "1. Januar 2001"}

func run(out string, short bool) (*result, error) {
	nb, err := notebook.New(out, "An experiment from Go: train, load, predict", short, os.Stdout)
	if err != nil {
		return nil, err
	}
	nb.Text("Every experiment of triad is a Go package with the same four parts: a Config (every hyperparameter, with its defaults in DefaultConfig), Run (trains and writes a run directory), Load (reads a finished run back) and the loaded model's own methods. The command line `triad demo` is a thin layer over the same calls. Here we run experiments/demo briefly.")
	cfg := demo.DefaultConfig()
	cfg.Out, cfg.Overwrite = filepath.Join(out, "run"), true
	cfg.Epochs, cfg.EvalEvery, cfg.LogEvery = 3, 100, 25
	cfg.EvalSize, cfg.BeamEval, cfg.Examples = 200, 20, 4
	if short {
		cfg.Epochs, cfg.EvalEvery, cfg.LogEvery = 0, 20, 5
		cfg.MaxSteps = 40
		cfg.EvalSize, cfg.BeamEval, cfg.Examples = 64, 4, 2
	}
	nb.Printf("model %s (%s cell, %s attention), batch %d, lr %g, %d steps\n",
		cfg.Model, cfg.Cell, cfg.Attention, cfg.Batch, cfg.LR, cfg.TotalSteps(demo.StepsPerEpoch))
	sum, err := demo.Run(context.Background(), cfg, io.Discard)
	if err != nil {
		return nil, err
	}
	res := &result{dir: sum.Dir, steps: sum.Steps}
	if sum.Results != nil {
		res.exact = sum.Results.ExactMatch
	}
	nb.Printf("%d steps in %.0f s; exact match on %d held-out dates: %.1f%%\nrun directory: %s\n", sum.Steps, sum.Seconds, cfg.EvalSize, 100*res.exact, sum.Dir)
	nb.Text("The run directory holds what a run always writes; the learning curve, one panel per kind of metric:")
	nb.Attach(filepath.Join("run", "learning_curve.png"), "learning curve of the run")
	if sum.Results != nil && len(sum.Results.Heatmaps) > 0 {
		nb.Text("and the attention of the decoder over the source characters for a held-out date: each row is an output character, each column a source character, darker is more weight.")
		nb.Attach(filepath.Join("run", sum.Results.Heatmaps[0]), "attention while normalising a date")
	}

	m, err := demo.Load(sum.Dir)
	if err != nil {
		return nil, err
	}
	defer m.Close()
	if res.normalised, err = m.Normalize(dates, 1); err != nil {
		return nil, err
	}
	nb.Text("demo.Load reads the run back (its config.json and best checkpoint), and the model normalises dates it has never seen:")
	var lines string
	for i, d := range dates {
		lines += d + "  ->  " + res.normalised[i] + "\n"
	}
	nb.Printf("%s", lines)
	nb.Text("After a short run the model has learnt the shape of the answer before the content; `triad demo` with the defaults (800 steps) gets nearly every date right.")
	return res, nb.Close()
}
