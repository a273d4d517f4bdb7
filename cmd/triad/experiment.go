package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
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
	// nonFinite is set by start when the run's weights are not all finite.
	nonFinite bool
}

// bind adds --run (described by what) and --threads to fs and returns fs.
func (r *runFlags) bind(fs *flag.FlagSet, what string) *flag.FlagSet {
	fs.StringVar(&r.dir, "run", "", what)
	fs.IntVar(&r.threads, "threads", 0, "CPU threads (0: all)")
	return fs
}

// start checks that --run was given, sets the thread count and warns on stderr
// when the run's weights are not all finite (see warnNonFinite).
func (r *runFlags) start() error {
	if r.dir == "" {
		return usage(errors.New("--run DIR is required"))
	}
	train.SetThreads(r.threads)
	r.nonFinite = warnNonFinite(os.Stderr, r.dir)
	return nil
}

// warnNonFinite writes one warning line to w when the checkpoint that a command
// over the run in dir loads (checkpoints/best.safetensors, else the parameters
// of last.safetensors) holds NaN or infinite weights, as a diverged run's does:
// the command runs, but what it writes means nothing. A checkpoint it cannot
// read is left for the run's loading to report. It reports whether it warned.
func warnNonFinite(w io.Writer, dir string) bool {
	file, prefix := filepath.Join(dir, "checkpoints", "best.safetensors"), ""
	if _, err := os.Stat(file); err != nil {
		file, prefix = filepath.Join(dir, "checkpoints", "last.safetensors"), "param/"
	}
	tensors, _, err := graph.LoadTensors(file)
	if err != nil {
		return false
	}
	bad, in := 0, 0
	for name, t := range tensors {
		if !strings.HasPrefix(name, prefix) {
			continue
		}
		n := 0
		switch t.Dtype() {
		case tensor.Float32:
			for _, v := range graph.Slice[float32](t) {
				if f := float64(v); math.IsNaN(f) || math.IsInf(f, 0) {
					n++
				}
			}
		case tensor.Float64:
			for _, v := range graph.Slice[float64](t) {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					n++
				}
			}
		}
		if n > 0 {
			bad, in = bad+n, in+1
		}
	}
	if bad > 0 {
		fmt.Fprintf(w, "warning: %s holds %d NaN or infinite weights (in %d tensors): the run diverged, and what it outputs means nothing\n", file, bad, in)
	}
	return bad > 0
}

// sampleOptions are the settings of drawing a sample, which check themselves.
type sampleOptions interface{ Validate() error }

// sampler is a loaded run that continues a text.
type sampler[O sampleOptions] interface {
	Sample(prompt string, opts O) (string, error)
	Close() error
}

// sampleCommand registers `triad <name> sample`, which prints to stdout a
// sample of a trained run of the experiment: its flags are --run, --threads,
// the text the sample starts from (textFlag, a newline by default, described by
// textHelp) and the sampling options that bind adds; the options are checked
// before the run is loaded with load.
func sampleCommand[O sampleOptions, M sampler[O]](name, summary, textFlag, textHelp string,
	bind func(*flag.FlagSet) *O, load func(dir string) (M, error)) {
	register(name+" sample", summary, func(args []string) error {
		fs := flag.NewFlagSet("triad "+name+" sample", flag.ContinueOnError)
		text := fs.String(textFlag, "\n", textHelp)
		opts := bind(fs)
		var run runFlags
		if err := parseSub(run.bind(fs, "run directory of a triad "+name+" run"), args); err != nil {
			return err
		}
		if err := (*opts).Validate(); err != nil {
			return usage(err)
		}
		if err := run.start(); err != nil {
			return err
		}
		m, err := load(run.dir)
		if err != nil {
			return err
		}
		defer m.Close()
		sample, err := m.Sample(*text, *opts)
		if err != nil {
			return err
		}
		fmt.Fprintln(os.Stdout, sample)
		return nil
	})
}

// openRun parses args into fs (see parseSub), checks the run flags (see start)
// and loads the run in --run with load; a run that does not load is a usage
// error.
func openRun[M any](run *runFlags, fs *flag.FlagSet, args []string, load func(dir string) (M, error)) (M, error) {
	var m M
	if err := parseSub(fs, args); err != nil {
		return m, err
	}
	if err := run.start(); err != nil {
		return m, err
	}
	m, err := load(run.dir)
	if err != nil {
		return m, usage(err)
	}
	return m, nil
}
