package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/triadml/triad/train"
)

var errHelp = train.ErrHelp

// experiment registers the training command of an experiment package: its flags
// are the fields of the package's Config (defaults from DefaultConfig), and it
// calls the package's Run, which logs its progress and its result to stderr.
// The first Ctrl-C or SIGTERM stops the run with a checkpoint of the last
// finished step (the command then exits with status 130, see run); a second one
// exits at once (train.SignalContext). Resuming a finished run trains nothing
// and succeeds.
func experiment[C any, PC interface {
	*C
	Settings() *train.Common
}, S any](name, summary string, defaults func() C, run func(context.Context, C, io.Writer) (S, error)) {
	register(name, summary, func(args []string) error {
		cfg := defaults()
		if err := train.ParseFlags("triad "+name, &cfg, PC(&cfg).Settings(), args); err != nil {
			return err
		}
		ctx, stop := train.SignalContext(context.Background(), os.Stderr)
		defer stop()
		if _, err := run(ctx, cfg, os.Stderr); err != nil && !errors.Is(err, train.ErrFinished) {
			return err
		}
		return nil
	})
}

// parseSub parses the flags of a command that is not an experiment's training
// (bench, decoders): --help prints them and returns errHelp; a bad flag or a
// stray argument is a usage error.
func parseSub(fs *flag.FlagSet, args []string) error {
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Printf("usage: %s [flags]\n\n", fs.Name())
			train.PrintFlags(os.Stdout, fs)
			return errHelp
		}
		return usage(err)
	}
	if fs.NArg() > 0 {
		return usage(fmt.Errorf("unexpected argument %q", fs.Arg(0)))
	}
	return nil
}

// runFlags are the flags every command over a finished run takes.
type runFlags struct {
	dir     string
	threads int
}

// bind adds --run (described by what) and --threads to fs and returns fs.
func (r *runFlags) bind(fs *flag.FlagSet, what string) *flag.FlagSet {
	fs.StringVar(&r.dir, "run", "", what)
	fs.IntVar(&r.threads, "threads", 0, "CPU threads (0: all)")
	return fs
}

// start checks that --run was given and sets the thread count.
func (r *runFlags) start() error {
	if r.dir == "" {
		return usage(errors.New("--run DIR is required"))
	}
	train.SetThreads(r.threads)
	return nil
}
