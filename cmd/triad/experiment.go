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
	"syscall"
	"time"

	"github.com/triadml/triad/train"
)

var errHelp = errors.New("help")

// parseFlags binds cfg (a struct embedding train.Common) to a flag set named
// name and parses args: --config, or the resumed run's config.json, first, then
// the flags given. --help prints every hyperparameter with its default.
func parseFlags(name string, cfg any, common *train.Common, args []string) error {
	fs := flag.NewFlagSet("triad "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	train.BindFlags(fs, cfg)
	for i, a := range args {
		if (a == "--resume" || a == "-resume") && i+1 < len(args) && !hasFlag(args, "config") {
			args = append([]string{"--config", filepath.Join(args[i+1], "config.json")}, args...)
			break
		}
	}
	err := train.ParseConfig(fs, cfg, args)
	if errors.Is(err, flag.ErrHelp) {
		fs.SetOutput(os.Stdout)
		fmt.Printf("usage: triad %s [flags]\n\n", name)
		fs.PrintDefaults()
		return errHelp
	}
	if err != nil {
		return usage(err)
	}
	if fs.NArg() > 0 {
		return usage(fmt.Errorf("unexpected argument %q", fs.Arg(0)))
	}
	train.SetThreads(common.Threads)
	return nil
}

func hasFlag(args []string, name string) bool {
	for _, a := range args {
		if a == "--"+name || a == "-"+name || len(a) > len(name)+3 && (a[:len(name)+3] == "--"+name+"=") {
			return true
		}
	}
	return false
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
