package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/triadml/triad/experiments/classify"
)

func classifyPredictMain(args []string) error { return classifyPredict(args, os.Stdin, os.Stdout) }

// classifyPredict labels every line of in with the class a trained run gives it
// and that class's probability, one "label<TAB>probability<TAB>line" per line;
// an empty line (white space only) gives an empty line. A line of more tokens
// than the run's max_len is labelled from its first max_len, with a note on
// stderr. With weights that are not all finite (a warning says so), a line
// whose probabilities are not numbers gives an empty line.
func classifyPredict(args []string, in io.Reader, out io.Writer) error {
	fs := flag.NewFlagSet("triad classify predict", flag.ContinueOnError)
	var run runFlags
	m, err := openRun(&run, run.bind(fs, "run directory of a triad classify run (for cross-validation, one fold's directory)"), args, classify.Load)
	if err != nil {
		return err
	}
	defer m.Close()
	return eachGroup("classify predict", in, out, 1, func(line int, texts []string) ([]string, error) {
		if strings.TrimSpace(texts[0]) == "" {
			return []string{""}, nil
		}
		p, err := m.Predict(texts)
		if err != nil && run.nonFinite {
			return []string{""}, nil // no class: start has warned that the weights are not numbers
		}
		if err != nil {
			return nil, err
		}
		if p[0].Tokens > m.Config.MaxLen {
			fmt.Fprintf(os.Stderr, "triad classify predict: line %d: %d tokens, cut to the run's %d\n", line, p[0].Tokens, m.Config.MaxLen)
		}
		return []string{fmt.Sprintf("%s\t%.4f\t%s", p[0].Label, p[0].Prob, texts[0])}, nil
	})
}
