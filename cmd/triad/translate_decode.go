package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/pkg/errors"

	"github.com/triadml/triad/experiments/translate"
	"github.com/triadml/triad/train"
)

// trMaxLineBytes bounds the length of an input line of `translate decode`.
const trMaxLineBytes = 16 << 20

// translateDecode translates every line of in with a finished run and writes
// one translation per line to out. An empty line gives an empty translation; a
// line longer than the model's longest source is cut (with a note on errw); a
// line that fails gives an empty output line and one error line on errw, and
// decoding carries on.
func translateDecode(args []string, in io.Reader, out, errw io.Writer) error {
	fs := flag.NewFlagSet("triad translate decode", flag.ContinueOnError)
	runPath := fs.String("run", "", "run directory of a triad translate run (required)")
	beam := fs.Int("beam", 1, "beam size (1: greedy)")
	lp := fs.Float64("length-penalty", -1, "length-penalty exponent of beam search (negative: the run's)")
	pngDir := fs.String("attention-png", "", "write each sentence's attention heatmap to DIR/line-NNNNN.png")
	batchSize := fs.Int("batch", 32, "greedy decoding: most lines translated together when the input is ahead")
	threads := fs.Int("threads", 0, "CPU threads (0: all)")
	if err := parseSub(fs, args); err != nil {
		return err
	}
	switch {
	case *runPath == "":
		return usage(errors.New("--run DIR is required"))
	case *beam < 1 || *batchSize < 1:
		return usage(errors.New("--beam and --batch must be at least 1"))
	}
	train.SetThreads(*threads)
	tr, err := translate.Load(*runPath)
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
	if *beam > 1 {
		*batchSize = 1
	}
	note := func(line int, msg string) { fmt.Fprintf(errw, "triad translate decode: line %d: %s\n", line, msg) }
	return eachGroup(in, out, *batchSize, func(first int, lines []string) []string {
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
		return texts
	})
}

// eachGroup reads the lines of in (a final "\r" dropped) and writes do's
// results to out, one line each, flushed after every group: a group is a line
// and whatever else is already waiting, up to size lines, so that lines typed
// one by one are answered at once and a piped file is processed in batches.
// do gets the number of the group's first line (from 1).
func eachGroup(in io.Reader, out io.Writer, size int, do func(first int, lines []string) []string) error {
	type line struct {
		text string
		err  error
	}
	lines := make(chan line, size)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(in)
		sc.Buffer(make([]byte, 64*1024), trMaxLineBytes)
		for sc.Scan() {
			lines <- line{text: sc.Text()}
		}
		if err := sc.Err(); err != nil {
			if errors.Is(err, bufio.ErrTooLong) {
				err = errors.Errorf("a line is longer than %d bytes", trMaxLineBytes)
			}
			lines <- line{err: err}
		}
	}()
	w := bufio.NewWriter(out)
	defer w.Flush()
	n := 0
	for first := range lines {
		group := []line{first}
	drain: // take whatever else is already waiting, to translate it together
		for len(group) < size && group[len(group)-1].err == nil {
			select {
			case l, ok := <-lines:
				if !ok {
					break drain
				}
				group = append(group, l)
			default:
				break drain
			}
		}
		var texts []string
		var readErr error
		for _, l := range group {
			if l.err != nil {
				readErr = l.err
				break
			}
			texts = append(texts, strings.TrimSuffix(l.text, "\r"))
		}
		for _, t := range do(n+1, texts) {
			fmt.Fprintln(w, t)
		}
		n += len(texts)
		if err := w.Flush(); err != nil {
			return errors.Wrap(err, "translate decode: writing")
		}
		if readErr != nil {
			return errors.Wrapf(readErr, "translate decode: reading line %d", n+1)
		}
	}
	return nil
}
