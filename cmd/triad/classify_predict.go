package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/pkg/errors"

	"github.com/triadml/triad/experiments/classify"
	"github.com/triadml/triad/train"
)

func classifyPredictMain(args []string) error { return classifyPredict(args, os.Stdin, os.Stdout) }

// classifyPredict labels every line of in with the class a trained run gives it
// and that class's probability, one "label<TAB>probability<TAB>line" per line.
func classifyPredict(args []string, in io.Reader, out io.Writer) error {
	fs := flag.NewFlagSet("triad classify predict", flag.ContinueOnError)
	runPath := fs.String("run", "", "run directory of a triad classify run (for cross-validation, one fold's directory)")
	threads := fs.Int("threads", 0, "CPU threads (0: all)")
	if err := parseSub(fs, args); err != nil {
		return err
	}
	if *runPath == "" {
		return usage(errors.New("--run DIR is required"))
	}
	train.SetThreads(*threads)
	m, err := classify.Load(*runPath)
	if err != nil {
		return usage(err)
	}
	defer m.Close()
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	w := bufio.NewWriter(out)
	defer w.Flush()
	for sc.Scan() {
		p, err := m.Predict([]string{sc.Text()})
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "%s\t%.4f\t%s\n", p[0].Label, p[0].Prob, sc.Text())
		if err := w.Flush(); err != nil { // a line out as soon as its line in, for pipes
			return errors.Wrap(err, "classify predict")
		}
	}
	return errors.Wrap(sc.Err(), "classify predict: reading the input")
}
