package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/pkg/errors"

	"github.com/triadml/triad/experiments/summarize"
	"github.com/triadml/triad/train"
)

func summarizeDecodeMain(args []string) error {
	return summarizeDecode(args, os.Stdin, os.Stdout, os.Stderr)
}

// summarizeDecode writes a headline for every line of in, one line out per line
// in, with the weights of a `triad summarize` run (see summarize.Summarizer). A
// line that fails to decode gives an empty headline and a message on errOut,
// and decoding carries on.
func summarizeDecode(args []string, in io.Reader, out, errOut io.Writer) error {
	var run string
	var threads int
	var given summarize.DecodeOptions
	if err := parseSub(summarizeDecodeFlags(&run, &threads, &given), args); err != nil {
		return err
	}
	if run == "" {
		return usage(errors.New("--run DIR is required"))
	}
	train.SetThreads(threads)
	m, err := summarize.Load(run)
	if err != nil {
		return usage(err)
	}
	defer m.Close()
	// the decoding flags given override the run's settings
	opts := m.Options()
	if err := summarizeDecodeFlags(&run, &threads, &opts).Parse(args); err != nil {
		return usage(err)
	}
	if err := opts.Validate(); err != nil {
		return usage(err)
	}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	w := bufio.NewWriter(out)
	defer w.Flush()
	for line := 1; sc.Scan(); line++ {
		heads, err := m.Summarize([]string{sc.Text()}, opts)
		if err != nil {
			fmt.Fprintf(errOut, "summarize decode: line %d: %s\n", line, train.OneLine(err))
			heads = []string{""}
		}
		fmt.Fprintln(w, heads[0])
		if err := w.Flush(); err != nil {
			return errors.Wrap(err, "summarize decode")
		}
	}
	return errors.Wrap(sc.Err(), "summarize decode: reading the input")
}

// summarizeDecodeFlags returns the flags of `triad summarize decode`, bound to
// run, threads and the decoding options o.
func summarizeDecodeFlags(run *string, threads *int, o *summarize.DecodeOptions) *flag.FlagSet {
	fs := flag.NewFlagSet("triad summarize decode", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(run, "run", "", "directory of a triad summarize run")
	fs.IntVar(threads, "threads", 0, "CPU threads (0: all)")
	fs.IntVar(&o.Beam, "beam", o.Beam, "beam size (1: greedy; default: the run's)")
	fs.Float64Var(&o.LengthPenalty, "length-penalty", o.LengthPenalty, "length-penalty exponent of beam search (default: the run's)")
	fs.BoolVar(&o.NoRepeatTrigram, "no-repeat-trigram", o.NoRepeatTrigram, "never repeat a trigram (default: the run's)")
	fs.BoolVar(&o.NoRepeatWords, "no-repeat-words", o.NoRepeatWords, "never write a word twice (default: the run's)")
	fs.BoolVar(&o.NoUnk, "no-unk", o.NoUnk, "never write <unk> (default: the run's)")
	fs.IntVar(&o.MaxDecode, "max-decode", o.MaxDecode, "most tokens of a headline, EOS included (default: the run's)")
	return fs
}
