package main

import (
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"

	"github.com/pkg/errors"

	"github.com/triadml/triad/experiments/translate"
	"github.com/triadml/triad/train"
)

// translateDecode translates every line of in with a finished run and writes
// one translation per line to out. An empty line gives an empty translation; a
// line longer than the model's longest source is cut (with a note on errw); a
// line that fails gives an empty output line and one error line on errw, and
// decoding carries on.
func translateDecode(args []string, in io.Reader, out, errw io.Writer) error {
	fs := flag.NewFlagSet("triad translate decode", flag.ContinueOnError)
	var run runFlags
	run.bind(fs, "run directory of a triad translate run (required)")
	beam := fs.Int("beam", 1, "beam size (1: greedy)")
	lp := fs.Float64("length-penalty", -1, "length-penalty exponent of beam search (negative: the run's)")
	pngDir := fs.String("attention-png", "", "write each sentence's attention heatmap to DIR/line-NNNNN.png")
	batchSize := fs.Int("batch", 32, "most lines translated together (greedy or beam) when the input is ahead")
	if err := parseSub(fs, args); err != nil {
		return err
	}
	if err := run.start(); err != nil {
		return err
	}
	if *beam < 1 || *batchSize < 1 {
		return usage(errors.New("--beam and --batch must be at least 1"))
	}
	if math.IsNaN(*lp) || math.IsInf(*lp, 0) {
		return usage(errors.Errorf("--length-penalty %g: want a finite number", *lp))
	}
	tr, err := translate.Load(run.dir)
	if err != nil {
		return usage(err)
	}
	defer tr.Close()
	if *pngDir != "" {
		if err := os.MkdirAll(*pngDir, 0o755); err != nil {
			return usage(err)
		}
	}
	opts := tr.DecodeOptions()
	opts.Beam, opts.Batch = *beam, *batchSize
	if *lp >= 0 {
		opts.LengthPenalty = *lp
	}
	note := func(line int, msg string) { fmt.Fprintf(errw, "triad translate decode: line %d: %s\n", line, msg) }
	return eachGroup("translate decode", in, out, *batchSize, func(first int, lines []string) ([]string, error) {
		texts := make([]string, len(lines))
		for i, t := range tr.Decode(lines, opts) {
			line := first + i
			texts[i] = t.Text
			if t.SourceLen > len(t.Source) {
				note(line, fmt.Sprintf("%d tokens, cut to the model's %d", t.SourceLen, len(t.Source)))
			}
			if t.Err != nil {
				note(line, train.OneLine(t.Err))
				continue
			}
			if *pngDir != "" && len(t.Source) > 0 {
				if err := t.Heatmap(filepath.Join(*pngDir, fmt.Sprintf("line-%05d.png", line)), fmt.Sprintf("line %d", line)); err != nil {
					note(line, train.OneLine(err))
				}
			}
		}
		return texts, nil
	})
}
