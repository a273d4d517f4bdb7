//go:build unix

package train

// Faults of the run lifecycle, replayed on a small experiment run as a command
// runs one (ParseFlags, Open, WriteConfig, the loop, Close): resuming a copied,
// finished, mismatched or torn run, refusing to overwrite a run, the lock of the
// run directory, interruption in every phase, stale temporaries, usage errors
// and non-finite metrics.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pkg/errors"
	"github.com/stretchr/testify/require"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/internal/testenv"
	"github.com/triadml/triad/solvers"
)

// faultConfig is the config of the small experiment: the regression of
// loop_test.go with an extra parameter of Hidden values, so that a resume with
// another Hidden does not match the checkpoint.
type faultConfig struct {
	Common
	Hidden int `json:"hidden" help:"size of the extra parameter"`
}

func (c *faultConfig) Validate() error {
	if c.Hidden <= 0 {
		return errors.Errorf("hidden %d: want a positive size", c.Hidden)
	}
	return nil
}

func faultDefaults() faultConfig {
	return faultConfig{Common: Common{Seed: 2, Epochs: 5, LogEvery: 4, EvalEvery: 8, Threads: 1}, Hidden: 2}
}

// faultTask is the regression with hooks after each training step and around
// each evaluation.
type faultTask struct {
	*regression
	store  *graph.Store
	after  func(step int)                                         // after TrainStep of step
	onEval func(m map[string]float64) (map[string]float64, error) // may replace the metrics
	evals  int
}

func (f *faultTask) TrainStep(step int, noise *rand.Rand) (Result, error) {
	res, err := f.regression.TrainStep(step, noise)
	if err == nil && f.after != nil {
		f.after(step)
	}
	return res, err
}

func (f *faultTask) Evaluate() (map[string]float64, error) {
	f.evals++
	m, err := f.regression.Evaluate()
	if err == nil && f.onEval != nil {
		return f.onEval(m)
	}
	return m, err
}

// faultOpts changes what runFault does.
type faultOpts struct {
	ctx     context.Context
	loadErr error            // fails after config.json, as a failed data load
	task    func(*faultTask) // sets the hooks
}

// runFault parses args over faultDefaults and runs the small experiment.
func runFault(t *testing.T, o faultOpts, args ...string) (*Summary, *faultTask, error) {
	t.Helper()
	cfg := faultDefaults()
	if err := ParseFlags("fault", &cfg, &cfg.Common, args); err != nil {
		return nil, nil, err
	}
	return runFaultConfig(t, o, cfg)
}

// runFaultConfig is an experiment's Run: Open, the data, config.json, the
// model and the loop, Close.
func runFaultConfig(t *testing.T, o faultOpts, cfg faultConfig) (sum *Summary, task *faultTask, err error) {
	t.Helper()
	ctx := o.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	s, err := Open(ctx, "fault", &cfg, io.Discard)
	if err != nil {
		return nil, nil, err
	}
	defer s.Close(&err)
	if err := s.WriteConfig(); err != nil {
		return nil, nil, err
	}
	if o.loadErr != nil {
		return nil, nil, o.loadErr
	}
	store := graph.NewStore(tensor.Float64, graph.NewRNG(cfg.Seed, "init"))
	task = &faultTask{regression: newRegression(t, store, cfg.Seed), store: store}
	store.Must("extra", []int{cfg.Hidden}, graph.Zeros())
	if o.task != nil {
		o.task(task)
	}
	solver, err := solvers.NewAdam(solvers.DefaultAdamConfig())
	require.NoError(t, err)
	loop := s.Loop()
	loop.Store, loop.Solver, loop.Task, loop.ClipNorm = store, solver, task, 1
	loop.Best, loop.ItemName = "val_loss", "examples"
	sum, err = loop.Run(ctx)
	return sum, task, err
}

// files returns every file under dir but the lock with its contents.
func files(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	require.NoError(t, filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() || info.Name() == ".lock" {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		raw, err := os.ReadFile(path)
		out[rel] = string(raw)
		return err
	}))
	return out
}

// snapshot returns the checksum of every file under dir but the lock.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for rel, data := range files(t, dir) {
		out[rel] = fmt.Sprintf("%x", sha256.Sum256([]byte(data)))
	}
	return out
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	for rel, data := range files(t, from) {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(to, rel)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(to, rel), []byte(data), 0o644))
	}
}

func checkpointStep(t *testing.T, dir string) string {
	t.Helper()
	_, meta, err := graph.LoadTensors(filepath.Join(dir, "checkpoints", lastName))
	require.NoError(t, err)
	return meta["step"]
}

// fullRun returns the metrics.jsonl of the uninterrupted 40-step run.
func fullRun(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "full")
	_, _, err := runFault(t, faultOpts{}, "--out", dir)
	require.NoError(t, err)
	return testenv.ReadFile(t, filepath.Join(dir, "metrics.jsonl"))
}

func requireOneLine(t *testing.T, err error) {
	t.Helper()
	require.Error(t, err)
	require.NotContains(t, err.Error(), "\n")
}

// --resume DIR writes DIR, never the out recorded in DIR/config.json.
func TestFaultResumeWritesItsOwnDirectory(t *testing.T) {
	want := fullRun(t)
	root := t.TempDir()
	a, b := filepath.Join(root, "a"), filepath.Join(root, "b")
	_, _, err := runFault(t, faultOpts{}, "--out", a, "--max-steps", "13")
	require.NoError(t, err)
	copyDir(t, a, b)
	before := snapshot(t, a)

	_, _, err = runFault(t, faultOpts{}, "--resume", b, "--max-steps", "0")
	require.NoError(t, err)
	require.Equal(t, before, snapshot(t, a), "the copied run is untouched")
	require.Equal(t, want, testenv.ReadFile(t, filepath.Join(b, "metrics.jsonl")))
	require.Equal(t, "40", checkpointStep(t, b))
	var cfg faultConfig
	require.NoError(t, ReadConfig(b, &cfg))
	require.Equal(t, b, cfg.Out, "config.json names the directory it is in")

	// the library: a config read from a run, resumed in its copy
	c := t.TempDir()
	copyDir(t, a, c)
	lib := faultDefaults()
	require.NoError(t, ReadConfig(c, &lib))
	lib.Resume, lib.MaxSteps = c, 0
	_, _, err = runFaultConfig(t, faultOpts{}, lib)
	require.NoError(t, err)
	require.Equal(t, before, snapshot(t, a))
	require.Equal(t, want, testenv.ReadFile(t, filepath.Join(c, "metrics.jsonl")))

	// --out elsewhere than --resume is refused
	_, _, err = runFault(t, faultOpts{}, "--resume", b, "--out", filepath.Join(root, "c"))
	require.True(t, IsUsage(err), "%v", err)
	requireOneLine(t, err)
	require.NoDirExists(t, filepath.Join(root, "c"))
}

// A new run refuses a directory that holds a run, unless --overwrite.
func TestFaultExistingRunRefusedUnlessOverwrite(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	_, _, err := runFault(t, faultOpts{}, "--out", dir, "--max-steps", "9")
	require.NoError(t, err)
	before := snapshot(t, dir)
	_, _, err = runFault(t, faultOpts{}, "--out", dir, "--max-steps", "5")
	require.True(t, IsUsage(err), "%v", err)
	requireOneLine(t, err)
	require.ErrorContains(t, err, "--overwrite")
	require.ErrorContains(t, err, "--resume")
	require.Equal(t, before, snapshot(t, dir), "the refused run wrote nothing")

	for _, kind := range []string{"config.json", "metrics.jsonl", "checkpoints"} {
		other := t.TempDir()
		if kind == "checkpoints" {
			require.NoError(t, os.Mkdir(filepath.Join(other, kind), 0o755))
		} else {
			require.NoError(t, os.WriteFile(filepath.Join(other, kind), []byte("{}\n"), 0o644))
		}
		_, _, err = runFault(t, faultOpts{}, "--out", other, "--max-steps", "2")
		require.True(t, IsUsage(err), "%s: %v", kind, err)
	}

	// --overwrite replaces the run: its checkpoints, metrics and sub-runs go
	require.NoError(t, os.WriteFile(filepath.Join(dir, "checkpoints", "stale.safetensors"), nil, 0o644))
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "fold-01", "checkpoints"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "fold-01", "config.json"), []byte("{}\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine"), 0o644))
	sum, _, err := runFault(t, faultOpts{}, "--out", dir, "--max-steps", "5", "--overwrite")
	require.NoError(t, err)
	require.Equal(t, 5, sum.Steps)
	require.NoFileExists(t, filepath.Join(dir, "checkpoints", "stale.safetensors"))
	require.NoDirExists(t, filepath.Join(dir, "fold-01"))
	require.FileExists(t, filepath.Join(dir, "notes.txt"), "a file that is no part of a run stays")
	require.Equal(t, "5", checkpointStep(t, dir))
	points, err := ReadMetrics(dir)
	require.NoError(t, err)
	require.Equal(t, 5, points[len(points)-1].Step, "metrics.jsonl is the new run's")
	require.NotContains(t, testenv.ReadFile(t, filepath.Join(dir, "config.json")), "overwrite")

	// an empty directory is no run
	empty := t.TempDir()
	_, _, err = runFault(t, faultOpts{}, "--out", empty, "--max-steps", "2")
	require.NoError(t, err)
}

// Resuming a finished run trains nothing and leaves every file as it was.
func TestFaultFinishedRunLeftAsItIs(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	first, _, err := runFault(t, faultOpts{}, "--out", dir)
	require.NoError(t, err)
	before := snapshot(t, dir)
	sum, task, err := runFault(t, faultOpts{}, "--resume", dir)
	require.ErrorIs(t, err, ErrFinished)
	requireOneLine(t, err)
	require.Equal(t, before, snapshot(t, dir))
	require.Zero(t, task.calls)
	require.Zero(t, task.evals)
	require.NotNil(t, sum)
	require.Equal(t, first.Final, sum.Final)
	require.Equal(t, 40, sum.Steps)

	// without summary.json (a crash after the last checkpoint), it is written
	// again from the run's metrics
	require.NoError(t, os.Remove(filepath.Join(dir, "summary.json")))
	sum, _, err = runFault(t, faultOpts{}, "--resume", dir)
	require.ErrorIs(t, err, ErrFinished)
	require.Equal(t, first.Final, sum.Final)
	var saved Summary
	require.NoError(t, json.Unmarshal([]byte(testenv.ReadFile(t, filepath.Join(dir, "summary.json"))), &saved))
	require.Equal(t, first.Final, saved.Final)
	require.Equal(t, first.Best, saved.Best)
	require.Equal(t, first.BestStep, saved.BestStep)
}

// A resume that does not match the checkpoint fails before config.json or
// metrics.jsonl change.
func TestFaultFailedResumeKeepsTheRun(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	_, _, err := runFault(t, faultOpts{}, "--out", dir, "--max-steps", "13")
	require.NoError(t, err)
	before := snapshot(t, dir)
	_, _, err = runFault(t, faultOpts{}, "--resume", dir, "--hidden", "3", "--max-steps", "0")
	require.ErrorContains(t, err, `parameter "extra" has shape [3] in the store but [2] in the file`)
	require.ErrorContains(t, err, filepath.Join(dir, "checkpoints", lastName))
	require.Equal(t, before, snapshot(t, dir))

	_, _, err = runFault(t, faultOpts{}, "--resume", dir, "--max-steps", "0")
	require.NoError(t, err)
	var cfg faultConfig
	require.NoError(t, ReadConfig(dir, &cfg))
	require.Equal(t, 0, cfg.MaxSteps, "config.json is written once the checkpoint is restored")
}

// The run directory is locked while a process writes it.
func TestFaultRunDirectoryLock(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	cfg := faultDefaults()
	cfg.Out = dir
	s, err := Open(context.Background(), "fault", &cfg, io.Discard)
	require.NoError(t, err)
	_, _, err = runFault(t, faultOpts{}, "--out", dir, "--max-steps", "2")
	require.True(t, IsUsage(err), "%v", err)
	requireOneLine(t, err)
	require.ErrorContains(t, err, "in use")
	require.NoError(t, s.WriteConfig())
	var none error
	s.Close(&none)
	require.NoError(t, none)
	_, _, err = runFault(t, faultOpts{}, "--out", dir, "--max-steps", "2", "--overwrite")
	require.NoError(t, err)
}

// A process that dies holding the lock releases it.
func TestFaultLockReleasedOnCrash(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	child := exec.Command(os.Args[0], "-test.run=^TestFaultHelperProcess$")
	child.Env = append(os.Environ(), "TRIAD_FAULT_HELPER=lock", "TRIAD_FAULT_DIR="+dir)
	out, err := child.StdoutPipe()
	require.NoError(t, err)
	child.Stderr = os.Stderr
	require.NoError(t, child.Start())
	t.Cleanup(func() { _ = child.Process.Kill() })
	line, err := bufio.NewReader(out).ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "locked\n", line)
	_, _, err = runFault(t, faultOpts{}, "--out", dir, "--max-steps", "2")
	require.ErrorContains(t, err, "in use")
	require.NoError(t, child.Process.Signal(syscall.SIGKILL))
	_ = child.Wait()
	_, _, err = runFault(t, faultOpts{}, "--out", dir, "--max-steps", "2")
	require.NoError(t, err)
}

// A torn or NUL-filled tail of metrics.jsonl after the checkpoint does not block
// a resume; a bad line before it does, naming the file.
func TestFaultTornMetricsTail(t *testing.T) {
	want := fullRun(t)
	for name, tail := range map[string]string{
		"torn":      `{"step":16,"epoch":2,"split":"train","metrics":{"loss":0.1,"lr":0.0` + "\n" + `{"st`,
		"nul":       strings.Repeat("\x00", 300),
		"nul lines": "\x00\x00\x00\n\x00\x00\n",
		"later":     `{"step":16,"epoch":2,"split":"train","metrics":{"loss":0.1,"lr":0.01}}` + "\n\x00\x00",
	} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "run")
			_, _, err := runFault(t, faultOpts{}, "--out", dir, "--max-steps", "13")
			require.NoError(t, err)
			f, err := os.OpenFile(filepath.Join(dir, "metrics.jsonl"), os.O_APPEND|os.O_WRONLY, 0)
			require.NoError(t, err)
			_, err = f.WriteString(tail)
			require.NoError(t, err)
			require.NoError(t, f.Close())
			_, _, err = runFault(t, faultOpts{}, "--resume", dir, "--max-steps", "0")
			require.NoError(t, err)
			require.Equal(t, want, testenv.ReadFile(t, filepath.Join(dir, "metrics.jsonl")))
		})
	}

	dir := filepath.Join(t.TempDir(), "run")
	_, _, err := runFault(t, faultOpts{}, "--out", dir, "--max-steps", "13")
	require.NoError(t, err)
	path := filepath.Join(dir, "metrics.jsonl")
	lines := strings.SplitAfter(testenv.ReadFile(t, path), "\n")
	lines[1] = "\x00\x00garbage\n"
	require.NoError(t, os.WriteFile(path, []byte(strings.Join(lines, "")), 0o644))
	before := snapshot(t, dir)
	_, _, err = runFault(t, faultOpts{}, "--resume", dir, "--max-steps", "0")
	require.ErrorContains(t, err, path+" line 2")
	requireOneLine(t, err)
	require.Equal(t, before, snapshot(t, dir))
}

// A checkpoint whose step is negative or beyond the run's steps is an error that
// names the file, and truncates nothing.
func TestFaultAbsurdCheckpointStep(t *testing.T) {
	for _, step := range []string{"-3", "1000000000", "41"} {
		t.Run(step, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "run")
			_, _, err := runFault(t, faultOpts{}, "--out", dir, "--max-steps", "13")
			require.NoError(t, err)
			ckpt := filepath.Join(dir, "checkpoints", lastName)
			ts, meta, err := graph.LoadTensors(ckpt)
			require.NoError(t, err)
			meta["step"] = step
			require.NoError(t, graph.SaveTensors(ckpt, ts, meta))
			before := snapshot(t, dir)
			_, _, err = runFault(t, faultOpts{}, "--resume", dir, "--max-steps", "0")
			require.ErrorContains(t, err, ckpt)
			require.ErrorContains(t, err, "step "+step)
			requireOneLine(t, err)
			require.Equal(t, before, snapshot(t, dir))
		})
	}
}

// Temporaries that a killed process left behind are removed when the
// directory's next run starts.
func TestFaultStaleTemporariesRemoved(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	_, _, err := runFault(t, faultOpts{}, "--out", dir, "--max-steps", "13")
	require.NoError(t, err)
	stale := []string{
		filepath.Join(dir, "checkpoints", ".last.safetensors.tmp-123456"),
		filepath.Join(dir, "checkpoints", ".best.safetensors.tmp-9"),
		filepath.Join(dir, ".summary.json.tmp-77"),
	}
	keep := []string{filepath.Join(dir, "checkpoints", "notes.tmp"), filepath.Join(dir, "checkpoints", ".last.safetensors.tmp-x")}
	for _, p := range append(stale, keep...) {
		require.NoError(t, os.WriteFile(p, []byte("partial"), 0o644))
	}
	_, _, err = runFault(t, faultOpts{}, "--resume", dir, "--max-steps", "0")
	require.NoError(t, err)
	for _, p := range stale {
		require.NoFileExists(t, p)
	}
	for _, p := range keep {
		require.FileExists(t, p)
	}
}

// Cancelled during a step, the run stops after that step with its checkpoint
// and starts no evaluation; resumed, it ends as the uninterrupted run.
func TestFaultInterruptDuringStep(t *testing.T) {
	want := fullRun(t)
	for _, at := range []int{10, 15, 39} { // 15 and 39 end on an evaluation (steps 16 and 40)
		t.Run(strconv.Itoa(at), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "run")
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			evalsBefore := -1
			sum, task, err := runFault(t, faultOpts{ctx: ctx, task: func(ft *faultTask) {
				ft.after = func(step int) {
					if step == at {
						evalsBefore = ft.evals
						cancel()
					}
				}
			}}, "--out", dir)
			require.ErrorIs(t, err, ErrInterrupted)
			require.ErrorContains(t, err, filepath.Join(dir, "checkpoints", lastName))
			require.True(t, sum.Interrupted)
			require.Equal(t, evalsBefore, task.evals, "no evaluation after the cancellation")
			require.Equal(t, strconv.Itoa(at+1), checkpointStep(t, dir))
			require.NoFileExists(t, filepath.Join(dir, "summary.json"))

			_, _, err = runFault(t, faultOpts{}, "--resume", dir)
			require.NoError(t, err)
			require.Equal(t, want, testenv.ReadFile(t, filepath.Join(dir, "metrics.jsonl")))
		})
	}
}

// Cancelled during an evaluation (the task returns ErrInterrupted), the run
// stops with a checkpoint of the step before it; resumed, it evaluates that
// step and ends as the uninterrupted run.
func TestFaultInterruptDuringEvaluation(t *testing.T) {
	want := fullRun(t)
	for _, at := range []int{2, 5} { // the evaluations at steps 16 and 40
		t.Run(strconv.Itoa(at), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "run")
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			_, _, err := runFault(t, faultOpts{ctx: ctx, task: func(ft *faultTask) {
				ft.onEval = func(m map[string]float64) (map[string]float64, error) {
					if ft.evals == at {
						cancel()
						return nil, ErrInterrupted
					}
					return m, nil
				}
			}}, "--out", dir)
			require.ErrorIs(t, err, ErrInterrupted)
			require.Equal(t, strconv.Itoa(8*at), checkpointStep(t, dir))

			_, _, err = runFault(t, faultOpts{}, "--resume", dir)
			require.NoError(t, err)
			require.Equal(t, want, testenv.ReadFile(t, filepath.Join(dir, "metrics.jsonl")))
		})
	}
}

// The first SIGINT or SIGTERM cancels the context; the second exits at once
// with 128 plus the signal's number.
func TestFaultSignals(t *testing.T) {
	for sig, code := range map[syscall.Signal]int{syscall.SIGINT: 130, syscall.SIGTERM: 143} {
		t.Run(sig.String(), func(t *testing.T) {
			child := exec.Command(os.Args[0], "-test.run=^TestFaultHelperProcess$")
			child.Env = append(os.Environ(), "TRIAD_FAULT_HELPER=signal")
			out, err := child.StdoutPipe()
			require.NoError(t, err)
			var stderr bytes.Buffer
			child.Stderr = &stderr
			require.NoError(t, child.Start())
			t.Cleanup(func() { _ = child.Process.Kill() })
			r := bufio.NewReader(out)
			line, err := r.ReadString('\n')
			require.NoError(t, err)
			require.Equal(t, "ready\n", line)
			require.NoError(t, child.Process.Signal(sig))
			line, err = r.ReadString('\n')
			require.NoError(t, err)
			require.Equal(t, "cancelled\n", line)
			require.NoError(t, child.Process.Signal(sig))
			err = child.Wait()
			var exit *exec.ExitError
			require.True(t, errors.As(err, &exit), "%v", err)
			require.Equal(t, code, exit.ExitCode(), stderr.String())
			require.Contains(t, stderr.String(), "again to exit now")
		})
	}
}

// TestFaultHelperProcess is the other process of the tests above; it does
// nothing unless TRIAD_FAULT_HELPER says what to do.
func TestFaultHelperProcess(t *testing.T) {
	switch os.Getenv("TRIAD_FAULT_HELPER") {
	case "lock":
		cfg := faultDefaults()
		cfg.Out = os.Getenv("TRIAD_FAULT_DIR")
		if _, err := Open(context.Background(), "fault", &cfg, io.Discard); err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		fmt.Println("locked")
		time.Sleep(10 * time.Second)
		os.Exit(1)
	case "signal":
		ctx, stop := SignalContext(context.Background(), os.Stderr)
		defer stop()
		fmt.Println("ready")
		<-ctx.Done()
		fmt.Println("cancelled")
		time.Sleep(10 * time.Second)
		os.Exit(1)
	}
}

// Training ends with a checkpoint of its last step, whatever the schedule.
func TestFaultCheckpointAtTheEnd(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	_, _, err := runFault(t, faultOpts{}, "--out", dir, "--max-steps", "13", "--eval-every", "100", "--checkpoint-every", "5")
	require.NoError(t, err)
	require.Equal(t, "13", checkpointStep(t, dir))
}

// Negative counts are usage errors, and a run that fails before training
// leaves no run directory behind.
func TestFaultUsageErrorsLeaveNothing(t *testing.T) {
	for _, args := range [][]string{
		{"--max-steps", "-5"}, {"--threads", "-1"}, {"--epochs", "-1"}, {"--eval-every", "-1"},
		{"--log-every", "-2"}, {"--checkpoint-every", "-3"}, {"--epochs", "0", "--max-steps", "0"}, {"--hidden", "0"},
	} {
		dir := filepath.Join(t.TempDir(), "run")
		_, _, err := runFault(t, faultOpts{}, append([]string{"--out", dir}, args...)...)
		require.True(t, IsUsage(err), "%v: %v", args, err)
		requireOneLine(t, err)
		require.NoDirExists(t, dir, "%v", args)
	}
	require.Error(t, (&Common{MaxSteps: -5}).Validate())
	require.NoError(t, (&Common{Epochs: 1}).Validate())

	// a data load that fails after config.json: the directory goes, or is
	// emptied when it was there (empty) before
	loadErr := Usage(errors.New("no dataset"))
	root := t.TempDir()
	dir := filepath.Join(root, "runs", "fault", "run")
	_, _, err := runFault(t, faultOpts{loadErr: loadErr}, "--out", dir)
	require.ErrorIs(t, err, loadErr)
	require.NoDirExists(t, filepath.Join(root, "runs"), "nor the parents it created")
	require.NoError(t, os.MkdirAll(filepath.Join(root, "runs", "other"), 0o755))
	_, _, err = runFault(t, faultOpts{loadErr: loadErr}, "--out", dir)
	require.ErrorIs(t, err, loadErr)
	require.NoDirExists(t, filepath.Join(root, "runs", "fault"))
	require.DirExists(t, filepath.Join(root, "runs", "other"), "a directory it did not create stays")
	empty := t.TempDir()
	_, _, err = runFault(t, faultOpts{loadErr: loadErr}, "--out", empty)
	require.ErrorIs(t, err, loadErr)
	entries, err := os.ReadDir(empty)
	require.NoError(t, err)
	require.Empty(t, entries)

	// a failed resume keeps the run
	_, _, err = runFault(t, faultOpts{}, "--out", dir, "--max-steps", "3")
	require.NoError(t, err)
	_, _, err = runFault(t, faultOpts{loadErr: loadErr}, "--resume", dir)
	require.ErrorIs(t, err, loadErr)
	require.FileExists(t, filepath.Join(dir, "config.json"))
	// so does a run that failed while training
	fail := filepath.Join(t.TempDir(), "fail")
	_, _, err = runFault(t, faultOpts{task: func(ft *faultTask) { ft.nanAt = 3 }}, "--out", fail)
	require.ErrorContains(t, err, "step 3: loss is NaN")
	require.FileExists(t, filepath.Join(fail, "metrics.jsonl"))
}

// Non-finite metrics are written as strings and read back; a diverging run
// stops naming the step and the last good checkpoint.
func TestFaultNonFiniteMetrics(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	sum, _, err := runFault(t, faultOpts{task: func(ft *faultTask) {
		ft.onEval = func(m map[string]float64) (map[string]float64, error) {
			m["val_loss"], m["val_up"], m["val_down"] = math.NaN(), math.Inf(1), math.Inf(-1)
			return m, nil
		}
	}}, "--out", dir, "--max-steps", "16")
	require.NoError(t, err)
	require.True(t, math.IsNaN(sum.Final["val_loss"]))
	metrics := testenv.ReadFile(t, filepath.Join(dir, "metrics.jsonl"))
	require.Contains(t, metrics, `"val_down":"-Inf","val_loss":"NaN","val_up":"+Inf"`)
	points, err := ReadMetrics(dir)
	require.NoError(t, err)
	last := points[len(points)-1].Metrics
	require.True(t, math.IsNaN(last["val_loss"]))
	require.True(t, math.IsInf(last["val_up"], 1))
	require.True(t, math.IsInf(last["val_down"], -1))
	saved, err := decodeSummary([]byte(testenv.ReadFile(t, filepath.Join(dir, "summary.json"))))
	require.NoError(t, err)
	require.True(t, math.IsNaN(saved.Final["val_loss"]))
	require.Equal(t, -1, saved.BestStep, "a NaN is never the best")

	// the loss, then the gradient norm
	_, _, err = runFault(t, faultOpts{task: func(ft *faultTask) { ft.nanAt = 11 }}, "--out", filepath.Join(t.TempDir(), "loss"))
	require.ErrorContains(t, err, "step 11: loss is NaN; stopped; last good checkpoint: ")
	require.ErrorContains(t, err, "last.safetensors (step 8)")
	requireOneLine(t, err)
	_, _, err = runFault(t, faultOpts{task: func(ft *faultTask) {
		ft.after = func(step int) {
			if step == 11 {
				p, _ := ft.store.Get("fc.weight")
				graph.Slice[float64](p.Grad)[0] = math.Inf(1)
			}
		}
	}}, "--out", filepath.Join(t.TempDir(), "grad"))
	require.ErrorContains(t, err, "step 11: gradient norm is +Inf; stopped; last good checkpoint: ")
	require.ErrorContains(t, err, "last.safetensors (step 8)")
}

// WriteJSON writes any value with non-finite floats, wherever they are (an
// experiment's summary embedding Summary included), as strings, and puts the
// values back; without them it writes what encoding/json writes.
func TestFaultNonFiniteJSON(t *testing.T) {
	type inner struct {
		X float32 `json:"x"`
	}
	type report struct {
		Summary
		ValLoss float64            `json:"val_loss"`
		Curve   []float64          `json:"curve"`
		Any     map[string]any     `json:"any"`
		Ptr     *inner             `json:"ptr"`
		Iface   any                `json:"iface"`
		Per     map[string]float64 `json:"per,omitempty"`
		Note    string             `json:"note"`
	}
	nan, inf := math.NaN(), math.Inf(1)
	r := report{Summary: Summary{Steps: 3, Final: map[string]float64{"val_loss": nan, "acc": 0.5}, Seconds: 1.25},
		ValLoss: -inf, Curve: []float64{1, nan, 2}, Any: map[string]any{"a": nan, "b": []any{inf, 1.5}},
		Ptr: &inner{X: float32(nan)}, Iface: inf, Note: `"NaN" 1e-300 stays`}
	path := filepath.Join(t.TempDir(), "summary.json")
	require.NoError(t, WriteJSON(path, &r))
	var back map[string]any
	require.NoError(t, json.Unmarshal([]byte(testenv.ReadFile(t, path)), &back))
	require.Equal(t, map[string]any{"val_loss": "NaN", "acc": 0.5}, back["final"])
	require.Equal(t, "-Inf", back["val_loss"])
	require.Equal(t, []any{1.0, "NaN", 2.0}, back["curve"])
	require.Equal(t, map[string]any{"a": "NaN", "b": []any{"+Inf", 1.5}}, back["any"])
	require.Equal(t, map[string]any{"x": "NaN"}, back["ptr"])
	require.Equal(t, "+Inf", back["iface"])
	require.Equal(t, `"NaN" 1e-300 stays`, back["note"])
	require.True(t, math.IsNaN(r.Final["val_loss"]) && math.IsInf(r.ValLoss, -1) && math.IsNaN(r.Curve[1]), "the values are put back")
	require.True(t, math.IsNaN(r.Any["a"].(float64)) && math.IsNaN(float64(r.Ptr.X)) && math.IsInf(r.Iface.(float64), 1))
	sum, err := decodeSummary([]byte(testenv.ReadFile(t, path)))
	require.NoError(t, err)
	require.True(t, math.IsNaN(sum.Final["val_loss"]))
	require.Equal(t, 0.5, sum.Final["acc"])

	// finite values: exactly encoding/json's bytes
	rng := graph.NewRNG(1, "values")
	for i := 0; i < 100; i++ {
		r := report{Summary: Summary{Steps: i, Final: map[string]float64{}}, Curve: []float64{rng.NormFloat64()}}
		for j := 0; j < 5; j++ {
			r.Final["k"+strconv.Itoa(j)] = rng.NormFloat64() * math.Pow(10, float64(rng.IntN(40)-20))
		}
		want, err := json.MarshalIndent(r, "", "  ")
		require.NoError(t, err)
		require.NoError(t, WriteJSON(path, r))
		require.Equal(t, string(want)+"\n", testenv.ReadFile(t, path))
	}
}
