package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/triadml/triad/experiments/classify"
)

func classifyPredictMain(args []string) error { return classifyPredict(args, os.Stdin, os.Stdout) }

// classifyPredict labels every line of in with the class a trained run gives it
// and that class's probability, one "label<TAB>probability<TAB>line" per line.
func classifyPredict(args []string, in io.Reader, out io.Writer) error {
	fs := flag.NewFlagSet("triad classify predict", flag.ContinueOnError)
	var run runFlags
	if err := parseSub(run.bind(fs, "run directory of a triad classify run (for cross-validation, one fold's directory)"), args); err != nil {
		return err
	}
	if err := run.start(); err != nil {
		return err
	}
	m, err := classify.Load(run.dir)
	if err != nil {
		return usage(err)
	}
	defer m.Close()
	return eachGroup("classify predict", in, out, 1, func(_ int, texts []string) ([]string, error) {
		p, err := m.Predict(texts)
		if err != nil {
			return nil, err
		}
		return []string{fmt.Sprintf("%s\t%.4f\t%s", p[0].Label, p[0].Prob, texts[0])}, nil
	})
}
