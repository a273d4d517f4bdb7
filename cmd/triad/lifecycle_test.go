//go:build unix

package main

// The run lifecycle as the command line shows it: exit statuses and the one
// line of an interrupted, refused or locked run.

import (
	"context"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/solvers"
	"github.com/triadml/triad/train"
)

// sigConfig is the config of a command whose training step 2 sends the process
// a SIGINT, as a Ctrl-C would.
type sigConfig struct {
	train.Common
}

func (c *sigConfig) Validate() error { return nil }

// sigTask trains one parameter towards nothing; step 2 sends SIGINT and waits
// until the run's context is cancelled.
type sigTask struct {
	ctx   context.Context
	store *graph.Store
}

func (t *sigTask) StepsPerEpoch() int { return 10 }

func (t *sigTask) TrainStep(step int, _ *rand.Rand) (train.Result, error) {
	if step == 2 {
		if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
			return train.Result{}, err
		}
		<-t.ctx.Done()
	}
	return train.Result{Loss: 1, Items: 1}, nil
}

func (t *sigTask) Evaluate() (map[string]float64, error) {
	return map[string]float64{"val_loss": 1}, nil
}

func init() {
	experiment("__test-sigint", "a run that Ctrl-C stops at step 2", func() sigConfig {
		return sigConfig{train.Common{Seed: 1, Epochs: 1, Threads: 1}}
	}, func(ctx context.Context, cfg sigConfig, log io.Writer) (_ *train.Summary, err error) {
		s, err := train.Open(ctx, "sigint", &cfg, log)
		if err != nil {
			return nil, err
		}
		defer s.Close(&err)
		if err := s.WriteConfig(); err != nil {
			return nil, err
		}
		store := graph.NewStore(tensor.Float64, graph.NewRNG(1, "init"))
		store.Must("w", []int{1}, graph.Ones())
		sgd, err := solvers.NewSGD(solvers.SGDConfig{LR: 0.1})
		if err != nil {
			return nil, err
		}
		loop := s.Loop()
		loop.Store, loop.Solver, loop.Task = store, sgd, &sigTask{ctx: ctx, store: store}
		return loop.Run(ctx)
	})
}

// Ctrl-C stops a run with a checkpoint and exit status 130.
func TestInterruptedCommandExits130(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	var code int
	out := capture(t, &os.Stderr, func() { code = run([]string{"__test-sigint", "--out", dir}) })
	require.Equal(t, 130, code, out)
	ckpt := filepath.Join(dir, "checkpoints", "last.safetensors")
	require.Contains(t, out, "triad __test-sigint: interrupted; checkpoint "+ckpt+"\n")
	_, meta, err := graph.LoadTensors(ckpt)
	require.NoError(t, err)
	require.Equal(t, "3", meta["step"], "the step under way when the signal came is finished")
}

// The lifecycle's refusals exit with status 2 and leave the runs as they were.
func TestRunDirectoryRefusals(t *testing.T) {
	data, root := lmFixture(t), t.TempDir()
	lmArgs := func(args ...string) []string {
		return append([]string{"lm", "--data-dir", data, "--hidden", "8", "--seq-len", "10", "--batch", "4",
			"--eval-every", "4", "--log-every", "2", "--threads", "1"}, args...)
	}
	a := filepath.Join(root, "a")
	require.Equal(t, 0, run(lmArgs("--out", a, "--max-steps", "4")))
	summary := string(runFile(t, a, "summary.json"))
	config := string(runFile(t, a, "config.json"))

	// a finished run resumed: nothing to train, exit 0, nothing rewritten
	require.Equal(t, 0, run([]string{"lm", "--resume", a}))
	require.Equal(t, summary, string(runFile(t, a, "summary.json")))
	require.Equal(t, config, string(runFile(t, a, "config.json")))

	// a new run into a run: refused; --overwrite replaces it
	out := capture(t, &os.Stderr, func() { require.Equal(t, 2, run(lmArgs("--out", a, "--max-steps", "2"))) })
	require.Contains(t, out, "--overwrite")
	require.Equal(t, summary, string(runFile(t, a, "summary.json")))

	// a copy resumed writes the copy, not the run its config.json names
	b := filepath.Join(root, "b")
	require.NoError(t, os.MkdirAll(filepath.Join(b, "checkpoints"), 0o755))
	for _, f := range []string{"config.json", "metrics.jsonl", "summary.json", "vocab.json", "checkpoints/last.safetensors"} {
		require.NoError(t, os.WriteFile(filepath.Join(b, f), runFile(t, a, f), 0o644))
	}
	require.Equal(t, 0, run([]string{"lm", "--resume", b, "--max-steps", "6"}))
	require.Equal(t, summary, string(runFile(t, a, "summary.json")))
	require.NotEqual(t, summary, string(runFile(t, b, "summary.json")))

	// a directory another process writes
	c := filepath.Join(root, "c")
	cfg := sigConfig{train.Common{Epochs: 1, Out: c}}
	s, err := train.Open(context.Background(), "lock", &cfg, io.Discard)
	require.NoError(t, err)
	out = capture(t, &os.Stderr, func() { require.Equal(t, 2, run(lmArgs("--out", c, "--max-steps", "2"))) })
	require.Contains(t, out, "in use")
	var none error
	s.Close(&none)

	// usage errors and a missing dataset leave no directory
	for _, args := range [][]string{{"--max-steps", "-5"}, {"--threads", "-1"}, {"--epochs", "-1"}, {"--log-every", "-1"}} {
		d := filepath.Join(root, "bad")
		require.Equal(t, 2, run(lmArgs(append([]string{"--out", d}, args...)...)), "%v", args)
		require.NoDirExists(t, d)
	}
	d := filepath.Join(root, "nodata")
	require.Equal(t, 2, run([]string{"lm", "--data-dir", filepath.Join(root, "none"), "--out", d}))
	require.NoDirExists(t, d)
}

// runFile returns a file of a run directory.
func runFile(t *testing.T, dir, name string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, name))
	require.NoError(t, err)
	return raw
}
