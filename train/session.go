package train

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/pkg/errors"
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
// hyperparameter with its default to stdout and returns ErrHelp. A config file
// never sets resume or overwrite, and --out naming another directory than
// --resume is a usage error (a resumed run writes its own directory), as is a
// setting CheckSettings refuses. It sets the process's thread count from
// common.Threads.
func ParseFlags(name string, cfg any, common *Common, args []string) error {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	BindFlags(fs, cfg)
	for i, a := range args {
		if (a == "--resume" || a == "-resume") && i+1 < len(args) && !hasFlag(args, "config") {
			config := filepath.Join(args[i+1], "config.json")
			if _, err := os.Stat(config); err != nil {
				return Usage(fmt.Errorf("--resume %s: not a run directory (no config.json)", args[i+1]))
			}
			args = append([]string{"--config", config}, args...)
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
	if err := CheckSettings(cfg); err != nil {
		return Usage(err)
	}
	if common.Resume != "" && hasFlag(args, "out") && filepath.Clean(common.Out) != filepath.Clean(common.Resume) {
		return Usage(fmt.Errorf("--out %s and --resume %s: a resumed run writes its own directory (leave out --out)", common.Out, common.Resume))
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
//
// The lifecycle of the run directory, on the root:
//
//   - --resume DIR runs in DIR, whatever config.json says; a new run refuses a
//     directory that holds a run unless --overwrite (see Common).
//   - The directory is locked (an exclusive flock on DIR/.lock, which holds the
//     process id) from Open to Close; a second process gets a usage error. The
//     kernel releases the lock when the process ends, a crash included.
//   - Temporaries of atomic writes that a killed process left (.NAME.tmp-N in
//     DIR and DIR/checkpoints) are removed.
//   - WriteConfig of a resumed run waits until the loop has restored the
//     checkpoint, so a resume that does not match it leaves config.json as it
//     was.
//   - A run that fails before its loop starts training (bad data, a usage
//     error) leaves no directory behind: Close removes the directory Open
//     created, or empties the one that was empty.
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

	cfg           Config
	lock          *os.File // the run directory's lock, on the root
	made          string   // the top directory Open created (Dir or a parent), if any
	fresh         bool     // the run directory held nothing when Open took it
	started       bool     // a loop of the session started training
	configPending bool     // WriteConfig waits for the loop's restore
	closed        bool
}

// Config is what a run needs of an experiment's config: its common settings
// (Settings comes with an embedded Common) and a check of its own settings.
type Config interface {
	Settings() *Common
	Validate() error
}

// Open starts a run of experiment with cfg (a pointer to the experiment's
// config): it checks cfg (CheckSettings, Common.Validate and cfg's own Validate;
// a failure is a usage error), joins the group --dist names (in a group,
// Threads 0 divides this machine's CPUs among the ranks on it), then chooses, creates and locks the run
// directory (rank 0 does, and tells the others its name). When resuming, Out is
// set to Resume; Overwrite is consumed (set back to false). log nil means
// os.Stderr.
func Open(ctx context.Context, experiment string, cfg Config, log io.Writer) (*Session, error) {
	c := cfg.Settings()
	if err := CheckSettings(cfg); err != nil {
		return nil, Usage(err)
	}
	if err := c.Validate(); err != nil {
		return nil, Usage(err)
	}
	if err := cfg.Validate(); err != nil {
		return nil, Usage(err)
	}
	if log == nil {
		log = os.Stderr
	}
	overwrite := c.Overwrite
	c.Overwrite = false
	if c.Resume != "" {
		c.Out = c.Resume
	}
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
	if s.Dir, err = s.makeDir(overwrite); err != nil {
		s.Close(&err)
		return nil, err
	}
	if s.Root() && Revision() == "unknown" {
		s.Logf("warning: the source revision of this binary is unknown (build it with make build, or inside the git checkout); config.json will say so")
	}
	return s, nil
}

// Root reports whether this process writes the run's files: rank 0 of a group,
// or a process alone.
func (s *Session) Root() bool { return s.Comm == nil || s.Comm.Rank() == 0 }

// WriteConfig writes config.json (the run's config and this process's
// environment) on the root. For a resumed run it only asks for it: the loop
// writes it once it has restored the checkpoint (or Close, on success, when no
// loop ran), so that a resume the checkpoint refuses leaves config.json as it
// was, and a finished run is left as it is.
func (s *Session) WriteConfig() error {
	if !s.Root() {
		return nil
	}
	if s.Common.Resume != "" && !s.started {
		s.configPending = true
		return nil
	}
	return s.writeConfig()
}

func (s *Session) writeConfig() error {
	s.configPending = false
	return WriteConfig(s.Dir, s.cfg, CurrentEnv(s.Common.Threads, os.Args))
}

// begin is what a loop of the session does when it starts training (for a
// resumed run, after the restore): the session has trained, and config.json is
// written if it was asked for.
func (s *Session) begin() error {
	s.started = true
	if s.configPending {
		return s.writeConfig()
	}
	return nil
}

// Logf writes one line to the log.
func (s *Session) Logf(format string, args ...any) {
	fmt.Fprintf(s.Log, format+"\n", args...)
}

// Loop returns a training loop over this session's run directory, settings, group
// and log; the caller sets the rest (store, solver, task, schedule, best metric).
func (s *Session) Loop() *Loop {
	return &Loop{Dir: s.Dir, Common: *s.Common, Comm: s.Comm, Log: s.Log, begin: s.begin}
}

// Path returns the path of a file of the run directory.
func (s *Session) Path(name ...string) string {
	return filepath.Join(append([]string{s.Dir}, name...)...)
}

// Close ends the run: errp points at the run's result, which Close may change.
//
// On success a config.json still asked for is written. An interruption becomes
// an *InterruptedError naming the last checkpoint. Any other error before a loop
// started training removes what the run wrote: the run directory when Open
// created it, its contents when it was empty. The lock is released.
//
// In a group, on success (or an interruption, or a finished run) it leaves the
// group; on an error it prints the error with the rank and aborts the whole job
// (exit status 1, or 2 for a usage error), since the other ranks may be waiting
// for this one in a collective call and would otherwise wait forever.
func (s *Session) Close(errp *error) {
	if s.closed {
		return
	}
	s.closed = true
	err := *errp
	failed := false
	switch {
	case err == nil:
		if s.configPending {
			if werr := s.writeConfig(); werr != nil {
				*errp, err, failed = werr, werr, true
			}
		}
	case errors.Is(err, ErrInterrupted):
		var ie *InterruptedError
		if !errors.As(err, &ie) {
			ie = &InterruptedError{Step: -1}
			if s.Root() {
				if p := s.Path("checkpoints", lastName); fileExists(p) {
					ie.Checkpoint = p
				}
			}
			*errp = ie
		}
	case errors.Is(err, ErrFinished):
	default:
		failed = true
		if s.lock != nil && !s.started {
			s.removeUntrained()
		}
	}
	if s.lock != nil {
		_ = unlockDir(s.lock)
		s.lock = nil
	}
	if s.Comm == nil {
		return
	}
	if !failed {
		if cerr := s.Comm.Close(); cerr != nil && *errp == nil {
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

// removeUntrained removes what a run that never trained wrote: the directory if
// Open created it, else its contents if it was empty.
func (s *Session) removeUntrained() {
	switch {
	case s.made != "":
		_ = os.RemoveAll(s.Dir)
		for dir := filepath.Dir(s.Dir); isUnder(dir, s.made); dir = filepath.Dir(dir) {
			if os.Remove(dir) != nil { // not empty: another run's
				break
			}
		}
	case s.fresh:
		entries, err := os.ReadDir(s.Dir)
		if err != nil {
			return
		}
		for _, e := range entries {
			_ = os.RemoveAll(filepath.Join(s.Dir, e.Name()))
		}
	}
}

// makeDir chooses, creates and locks the run directory on the root and shares
// its name.
func (s *Session) makeDir(overwrite bool) (string, error) {
	var name []byte
	if s.Root() {
		dir, err := s.takeDir(overwrite)
		if err != nil {
			return "", err
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

// takeDir is makeDir's part on the root: the directory of --resume, which must
// exist, or a new run's, created if need be, refused when it holds a run unless
// overwrite; then locked and rid of stale temporaries.
func (s *Session) takeDir(overwrite bool) (string, error) {
	c := s.Common
	dir := c.Out
	if c.Resume != "" {
		fi, err := os.Stat(dir)
		if err != nil || !fi.IsDir() {
			return "", Usage(errors.Errorf("--resume %s: no run directory there", dir))
		}
	} else if dir == "" {
		dir = filepath.Join("runs", s.Experiment, time.Now().UTC().Format("20060102-150405"))
	}
	made := topMissing(dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", Usage(err)
	}
	lock, err := lockDir(dir)
	if err != nil {
		return "", err
	}
	s.made = made
	s.lock = lock
	if c.Resume == "" {
		if what := holdsRun(dir); what != "" {
			if !overwrite {
				return "", Usage(errors.Errorf("%s already holds a run (%s): continue it with --resume %s, or replace it with --overwrite", dir, what, dir))
			}
			if err := removeRun(dir); err != nil {
				return "", err
			}
		}
		s.fresh = onlyLock(dir)
	}
	if err := removeStaleTemps(dir); err != nil {
		return "", err
	}
	return dir, nil
}

// topMissing returns the highest directory of the path dir (dir itself or a
// parent) that does not exist, or "" when dir exists.
func topMissing(dir string) string {
	top := ""
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		if _, err := os.Lstat(d); err == nil || !errors.Is(err, os.ErrNotExist) {
			return top
		}
		top = d
		if filepath.Dir(d) == d {
			return top
		}
	}
}

// isUnder reports whether dir is top or inside it.
func isUnder(dir, top string) bool {
	rel, err := filepath.Rel(top, dir)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// lockPath is the lock file of a run directory.
func lockPath(dir string) string { return filepath.Join(dir, ".lock") }

// holdsRun names what makes dir a run directory (config.json, metrics.jsonl or
// checkpoints), or returns "" when it is none.
func holdsRun(dir string) string {
	for _, name := range []string{"config.json", "metrics.jsonl", "checkpoints"} {
		if _, err := os.Lstat(filepath.Join(dir, name)); err == nil {
			return name
		}
	}
	return ""
}

// removeRun deletes the files of the run in dir that --overwrite replaces: the
// lifecycle's own files, checkpoints/, TensorBoard events files, and sub-runs
// (directories that hold a run, as cross-validation folds do).
func removeRun(dir string) error {
	for _, name := range []string{"config.json", "metrics.jsonl", "summary.json", "learning_curve.png", "checkpoints"} {
		if err := os.RemoveAll(filepath.Join(dir, name)); err != nil {
			return errors.Wrap(err, "--overwrite")
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return errors.Wrap(err, "--overwrite")
	}
	for _, e := range entries {
		sub := filepath.Join(dir, e.Name())
		if !e.IsDir() && strings.HasPrefix(e.Name(), eventsPrefix) {
			if err := os.Remove(sub); err != nil {
				return errors.Wrap(err, "--overwrite")
			}
			continue
		}
		if e.IsDir() && holdsRun(sub) != "" {
			if err := os.RemoveAll(sub); err != nil {
				return errors.Wrap(err, "--overwrite")
			}
		}
	}
	return nil
}

// onlyLock reports whether dir holds nothing but its lock file.
func onlyLock(dir string) bool {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	for _, e := range entries {
		if e.Name() != filepath.Base(lockPath(dir)) {
			return false
		}
	}
	return true
}

// removeStaleTemps removes, in dir and dir/checkpoints, the temporary files of
// atomic writes (.NAME.tmp-DIGITS, see atomicfile.TempPrefix) that a process
// killed while writing left behind.
func removeStaleTemps(dir string) error {
	for _, d := range []string{dir, filepath.Join(dir, "checkpoints")} {
		entries, err := os.ReadDir(d)
		if err != nil {
			continue
		}
		for _, e := range entries {
			if e.Type().IsRegular() && isTemp(e.Name()) {
				if err := os.Remove(filepath.Join(d, e.Name())); err != nil && !errors.Is(err, os.ErrNotExist) {
					return errors.Wrap(err, "removing a stale temporary file")
				}
			}
		}
	}
	return nil
}

// isTemp reports whether name is that of an atomic write's temporary file.
func isTemp(name string) bool {
	i := strings.LastIndex(name, ".tmp-")
	if !strings.HasPrefix(name, ".") || i <= 1 {
		return false
	}
	digits := name[i+len(".tmp-"):]
	if digits == "" {
		return false
	}
	for _, r := range digits {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
