package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"syscall"
	"time"

	"github.com/triadml/triad/train"
)

var errHelp = train.ErrHelp

// parseFlags parses the flags of `triad name` into cfg (see train.ParseFlags).
func parseFlags(name string, cfg any, common *train.Common, args []string) error {
	return train.ParseFlags("triad "+name, cfg, common, args)
}

// runDir returns and creates the run directory: --resume's, --out, or
// runs/<experiment>/<UTC time>.
func runDir(experiment string, c *train.Common) (string, error) {
	dir := c.Out
	switch {
	case c.Resume != "" && dir == "":
		dir = c.Resume
	case dir == "":
		dir = filepath.Join("runs", experiment, time.Now().UTC().Format("20060102-150405"))
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", usage(err)
	}
	return dir, nil
}

// interruptible returns a context cancelled by Ctrl-C or SIGTERM.
func interruptible() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

// finish turns an interrupted run into a clean exit.
func finish(err error) error {
	if errors.Is(err, train.ErrInterrupted) {
		return nil
	}
	return err
}

// startDist joins the data-parallel group --dist names (nil for none). In a group,
// --threads 0 divides this machine's CPUs among the ranks running on it. An
// experiment that supports --dist calls it after parseFlags and defers endDist:
//
//	comm, err := startDist(&cfg.Common)
//	if err != nil {
//		return err
//	}
//	defer endDist(comm, &err) // err: the function's named result
func startDist(c *train.Common) (train.Comm, error) {
	comm, err := train.OpenDist(c.Dist)
	if err != nil || comm == nil {
		return nil, usage(err)
	}
	if c.Threads == 0 && comm.LocalSize() > 1 {
		c.Threads = max(1, runtime.NumCPU()/comm.LocalSize())
		train.SetThreads(c.Threads)
	}
	return comm, nil
}

// endDist ends this process's part in the group at the end of an experiment:
// on success it leaves the group (MPI_Finalize); on an error it prints the error
// with the rank and aborts the whole job (MPI_Abort, exit status 1, or 2 for a
// usage error), since the other ranks may be waiting for this one in a
// collective call and would otherwise wait forever. A nil comm does nothing.
func endDist(comm train.Comm, errp *error) {
	if comm == nil {
		return
	}
	err := *errp
	if err == nil || errors.Is(err, errHelp) {
		if cerr := comm.Close(); cerr != nil && err == nil {
			*errp = cerr
		}
		return
	}
	fmt.Fprintf(os.Stderr, "triad: rank %d of %d: %s\n", comm.Rank(), comm.Size(), train.OneLine(err))
	code := 1
	if train.IsUsage(err) {
		code = 2
	}
	comm.Abort(code)
}

// runDirDist is runDir in a group: rank 0 chooses and creates the run directory
// and tells the other ranks its name; they create nothing. With a nil comm it is
// runDir.
func runDirDist(comm train.Comm, experiment string, c *train.Common) (string, error) {
	if comm == nil {
		return runDir(experiment, c)
	}
	var name []byte
	if comm.Rank() == 0 {
		dir, err := runDir(experiment, c)
		if err != nil {
			return "", err
		}
		name = []byte(dir)
	}
	n := []float64{float64(len(name))}
	if err := comm.BcastFloat64(n, 0); err != nil {
		return "", err
	}
	if comm.Rank() != 0 {
		name = make([]byte, int(n[0]))
	}
	if err := comm.BcastBytes(name, 0); err != nil {
		return "", err
	}
	return string(name), nil
}

// isRoot reports whether this process writes the run's files: rank 0 of a group,
// or a process alone.
func isRoot(comm train.Comm) bool { return comm == nil || comm.Rank() == 0 }

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
