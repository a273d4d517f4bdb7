package train

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// ErrHelp is returned by ParseFlags when --help was asked for and printed.
var ErrHelp = errors.New("help")

// UsageError marks an error the user can fix: a bad flag, config or dataset.
// Commands exit with status 2 on it.
type UsageError struct{ Err error }

// Error returns the wrapped error's message.
func (e UsageError) Error() string { return e.Err.Error() }

// Unwrap returns the wrapped error.
func (e UsageError) Unwrap() error { return e.Err }

// Usage wraps err as a UsageError (nil stays nil).
func Usage(err error) error {
	if err == nil {
		return nil
	}
	return UsageError{err}
}

// IsUsage reports whether err is, or wraps, a UsageError.
func IsUsage(err error) bool {
	var ue UsageError
	return errors.As(err, &ue)
}

// OneLine returns err's message on one line.
func OneLine(err error) string { return strings.ReplaceAll(err.Error(), "\n", " ") }

// ParseFlags binds cfg (a pointer to a struct embedding Common, whose Common is
// common) to the flags of the command named name and parses args: --config, or
// the resumed run's config.json, first, then the flags given. --help prints every
// hyperparameter with its default to stdout and returns ErrHelp. It sets the
// process's thread count from common.Threads.
func ParseFlags(name string, cfg any, common *Common, args []string) error {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	BindFlags(fs, cfg)
	for i, a := range args {
		if (a == "--resume" || a == "-resume") && i+1 < len(args) && !hasFlag(args, "config") {
			args = append([]string{"--config", filepath.Join(args[i+1], "config.json")}, args...)
			break
		}
	}
	err := ParseConfig(fs, cfg, args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Printf("usage: %s [flags]\n\n", name)
		PrintFlags(os.Stdout, fs)
		return ErrHelp
	}
	if err != nil {
		return Usage(err)
	}
	if fs.NArg() > 0 {
		return Usage(fmt.Errorf("unexpected argument %q", fs.Arg(0)))
	}
	SetThreads(common.Threads)
	return nil
}

func hasFlag(args []string, name string) bool {
	for _, a := range args {
		if a == "--"+name || a == "-"+name || strings.HasPrefix(a, "--"+name+"=") || strings.HasPrefix(a, "-"+name+"=") {
			return true
		}
	}
	return false
}

// Session is one process's part in a run: the run directory, the data-parallel
// group of --dist, the log. Every experiment opens one at the start of its Run
// and closes it at the end, so that what a run does around its training loop is
// written once:
//
//	s, err := train.Open(ctx, "lm", &cfg, log)
//	if err != nil {
//		return nil, err
//	}
//	defer s.Close(&err) // err: Run's named result
type Session struct {
	Experiment string
	// Dir is the run directory: --resume's, --out, or runs/<experiment>/<UTC time>.
	Dir string
	// Comm is the data-parallel group (nil for a process alone).
	Comm Comm
	// Log receives the readable log (io.Discard on ranks other than 0).
	Log io.Writer
	// Common is the run's common settings, Threads resolved for the group.
	Common *Common

	cfg Config
}

// Config is what a run needs of an experiment's config: its common settings
// (Settings comes with an embedded Common) and a check of its own settings.
type Config interface {
	Settings() *Common
	Validate() error
}

// Open starts a run of experiment with cfg (a pointer to the experiment's
// config): it checks cfg (a failure is a usage error), joins the group --dist
// names (in a group, Threads 0 divides this machine's CPUs among the ranks on
// it), then chooses and creates the run directory (rank 0 creates it and tells
// the others its name). log nil means os.Stderr.
func Open(ctx context.Context, experiment string, cfg Config, log io.Writer) (*Session, error) {
	if err := cfg.Validate(); err != nil {
		return nil, Usage(err)
	}
	if log == nil {
		log = os.Stderr
	}
	c := cfg.Settings()
	s := &Session{Experiment: experiment, Log: log, Common: c, cfg: cfg}
	comm, err := OpenDist(c.Dist)
	if err != nil {
		return nil, Usage(err)
	}
	s.Comm = comm
	if comm != nil {
		if c.Threads == 0 && comm.LocalSize() > 1 {
			c.Threads = max(1, runtime.NumCPU()/comm.LocalSize())
		}
		if comm.Rank() != 0 {
			s.Log = io.Discard
		}
	}
	SetThreads(c.Threads)
	if s.Dir, err = s.makeDir(); err != nil {
		s.Close(&err)
		return nil, err
	}
	return s, nil
}

// Root reports whether this process writes the run's files: rank 0 of a group,
// or a process alone.
func (s *Session) Root() bool { return s.Comm == nil || s.Comm.Rank() == 0 }

// WriteConfig writes config.json (the run's config and this process's
// environment) on the root.
func (s *Session) WriteConfig() error {
	if !s.Root() {
		return nil
	}
	return WriteConfig(s.Dir, s.cfg, CurrentEnv(s.Common.Threads, os.Args))
}

// Logf writes one line to the log.
func (s *Session) Logf(format string, args ...any) {
	fmt.Fprintf(s.Log, format+"\n", args...)
}

// Loop returns a training loop over this session's run directory, settings, group
// and log; the caller sets the rest (store, solver, task, schedule, best metric).
func (s *Session) Loop() *Loop {
	return &Loop{Dir: s.Dir, Common: *s.Common, Comm: s.Comm, Log: s.Log}
}

// Path returns the path of a file of the run directory.
func (s *Session) Path(name ...string) string {
	return filepath.Join(append([]string{s.Dir}, name...)...)
}

// Close ends this process's part in the group: on success it leaves the group; on
// an error it prints the error with the rank and aborts the whole job (exit status
// 1, or 2 for a usage error), since the other ranks may be waiting for this one in
// a collective call and would otherwise wait forever. errp points at the run's
// result; a session alone does nothing.
func (s *Session) Close(errp *error) {
	if s.Comm == nil {
		return
	}
	err := *errp
	if err == nil || errors.Is(err, ErrInterrupted) {
		if cerr := s.Comm.Close(); cerr != nil && err == nil {
			*errp = cerr
		}
		return
	}
	fmt.Fprintf(os.Stderr, "triad: rank %d of %d: %s\n", s.Comm.Rank(), s.Comm.Size(), OneLine(err))
	code := 1
	if IsUsage(err) {
		code = 2
	}
	s.Comm.Abort(code)
}

// makeDir creates the run directory on the root and shares its name.
func (s *Session) makeDir() (string, error) {
	var name []byte
	if s.Root() {
		dir := s.Common.Out
		switch {
		case s.Common.Resume != "" && dir == "":
			dir = s.Common.Resume
		case dir == "":
			dir = filepath.Join("runs", s.Experiment, time.Now().UTC().Format("20060102-150405"))
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return "", Usage(err)
		}
		name = []byte(dir)
	}
	if s.Comm == nil {
		return string(name), nil
	}
	n := []float64{float64(len(name))}
	if err := s.Comm.BcastFloat64(n, 0); err != nil {
		return "", err
	}
	if s.Comm.Rank() != 0 {
		name = make([]byte, int(n[0]))
	}
	if err := s.Comm.BcastBytes(name, 0); err != nil {
		return "", err
	}
	return string(name), nil
}
