package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/triadml/triad/experiments/summarize"
	"github.com/triadml/triad/train"
)

func summarizeDecodeMain(args []string) error {
	return summarizeDecode(args, os.Stdin, os.Stdout, os.Stderr)
}

// summarizeDecode writes a headline for every line of in, one line out per line
// in, with the weights of a `triad summarize` run (see summarize.Summarizer). A
// line that fails to decode gives an empty headline and a message on errOut,
// and decoding carries on; a line of more words than the run's max_src is cut,
// with a note on errOut.
func summarizeDecode(args []string, in io.Reader, out, errOut io.Writer) error {
	var run runFlags
	var given summarize.DecodeOptions
	m, err := openRun(&run, summarizeDecodeFlags(&run, &given), args, summarize.Load)
	if err != nil {
		return err
	}
	defer m.Close()
	// the decoding flags given override the run's settings
	opts := m.Options()
	if err := summarizeDecodeFlags(&run, &opts).Parse(args); err != nil {
		return usage(err)
	}
	if err := opts.Validate(); err != nil {
		return usage(err)
	}
	return eachGroup("summarize decode", in, out, 1, func(line int, articles []string) ([]string, error) {
		if words, limit := m.SourceWords(articles[0]); words > limit {
			fmt.Fprintf(errOut, "summarize decode: line %d: %d words, cut to the run's %d\n", line, words, limit)
		}
		heads, err := m.Summarize(articles, opts)
		if err != nil {
			fmt.Fprintf(errOut, "summarize decode: line %d: %s\n", line, train.OneLine(err))
			heads = []string{""}
		}
		return heads, nil
	})
}

// summarizeDecodeFlags returns the flags of `triad summarize decode`, bound to
// run and the decoding options o.
func summarizeDecodeFlags(run *runFlags, o *summarize.DecodeOptions) *flag.FlagSet {
	fs := run.bind(flag.NewFlagSet("triad summarize decode", flag.ContinueOnError), "directory of a triad summarize run")
	fs.SetOutput(io.Discard)
	fs.IntVar(&o.Beam, "beam", o.Beam, "beam size (1: greedy; default: the run's)")
	fs.Float64Var(&o.LengthPenalty, "length-penalty", o.LengthPenalty, "length-penalty exponent of beam search (default: the run's)")
	fs.BoolVar(&o.NoRepeatTrigram, "no-repeat-trigram", o.NoRepeatTrigram, "never repeat a trigram (default: the run's)")
	fs.BoolVar(&o.NoRepeatWords, "no-repeat-words", o.NoRepeatWords, "never write a word twice (default: the run's)")
	fs.BoolVar(&o.NoUnk, "no-unk", o.NoUnk, "never write <unk> (default: the run's)")
	fs.IntVar(&o.MaxDecode, "max-decode", o.MaxDecode, "most tokens of a headline, EOS included (default: the run's)")
	return fs
}
