package train

import (
	"context"
	"flag"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/internal/testenv"
	"github.com/triadml/triad/solvers"
)

// regression is a toy task: y = x.w + noise learned by a linear layer with
// dropout on its input, 64 examples in batches of 8, reshuffled every epoch.
type regression struct {
	seed   uint64
	x, y   []float64
	prog   *graph.Program
	eval   *graph.Program
	nanAt  int
	calls  int
	hidden *tensor.Dense // a carried state, to exercise StatefulTask
}

const nEx, batch = 64, 8

func newRegression(t *testing.T, s *graph.Store, seed uint64) *regression {
	r := &regression{seed: seed, nanAt: -1, hidden: graph.NewDense(tensor.Float64, 1)}
	rng := graph.NewRNG(99, "data")
	for i := 0; i < nEx; i++ {
		a, b, c := rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64()
		r.x = append(r.x, a, b, c)
		r.y = append(r.y, 2*a-b+0.5*c+0.1*rng.NormFloat64())
	}
	lin, err := graph.NewLinear(s, "fc", 3, 1, true)
	require.NoError(t, err)
	build := func(mode graph.Mode, n int) *graph.Program {
		b := graph.NewBuilder(s, mode)
		x := b.Input("x", tensor.Float64, n, 3)
		y := b.Input("y", tensor.Float64, n, 1)
		pred := lin.Forward(b, graph.Dropout(b, x, 0.1))
		d := b.Check(G.Sub(pred, y))
		loss := b.Check(G.Mean(b.Check(G.HadamardProd(d, d))))
		b.Output("loss", loss)
		if mode == graph.Eval {
			p, err := b.Compile(nil)
			require.NoError(t, err)
			return p
		}
		p, err := b.Compile(loss)
		require.NoError(t, err)
		return p
	}
	r.prog = build(graph.Train, batch)
	r.eval = build(graph.Eval, nEx)
	return r
}

func (r *regression) StepsPerEpoch() int { return nEx / batch }

func (r *regression) TrainStep(step int, noise *rand.Rand) (Result, error) {
	r.calls++
	epoch, pos := step/r.StepsPerEpoch(), step%r.StepsPerEpoch()
	perm := graph.NewRNG(r.seed, "shuffle/"+strconv.Itoa(epoch)).Perm(nEx)
	xs, ys := make([]float64, 0, batch*3), make([]float64, 0, batch)
	for _, i := range perm[pos*batch : (pos+1)*batch] {
		xs = append(xs, r.x[3*i:3*i+3]...)
		ys = append(ys, r.y[i])
	}
	if err := r.prog.Set("x", graph.FromFloat64s(tensor.Float64, xs, batch, 3)); err != nil {
		return Result{}, err
	}
	if err := r.prog.Set("y", graph.FromFloat64s(tensor.Float64, ys, batch, 1)); err != nil {
		return Result{}, err
	}
	r.prog.SetNoise(noise)
	if err := r.prog.Run(); err != nil {
		return Result{}, err
	}
	graph.Slice[float64](r.hidden)[0] += r.prog.Loss()
	loss := r.prog.Loss()
	if step == r.nanAt {
		loss = math.NaN()
	}
	return Result{Loss: loss, Items: batch}, nil
}

func (r *regression) Evaluate() (map[string]float64, error) {
	if err := r.eval.Set("x", graph.FromFloat64s(tensor.Float64, r.x, nEx, 3)); err != nil {
		return nil, err
	}
	if err := r.eval.Set("y", graph.FromFloat64s(tensor.Float64, r.y, nEx, 1)); err != nil {
		return nil, err
	}
	if err := r.eval.Run(); err != nil {
		return nil, err
	}
	out, _ := r.eval.Output("loss")
	return map[string]float64{"val_loss": graph.Scalar(out)}, nil
}

func (r *regression) TaskState() map[string]*tensor.Dense {
	return map[string]*tensor.Dense{"hidden": r.hidden}
}

func (r *regression) SetTaskState(m map[string]*tensor.Dense) error {
	h, ok := m["hidden"]
	if !ok {
		return os.ErrNotExist
	}
	copy(graph.Slice[float64](r.hidden), graph.Slice[float64](h))
	return nil
}

func newLoop(t *testing.T, dir string, c Common) (*Loop, *regression) {
	s := graph.NewStore(tensor.Float64, graph.NewRNG(c.Seed, "init"))
	task := newRegression(t, s, c.Seed)
	solver, err := solvers.NewAdam(solvers.DefaultAdamConfig())
	require.NoError(t, err)
	sched, err := solvers.NewWarmupCosine(0.05, 0.001, 5, 40)
	require.NoError(t, err)
	return &Loop{Dir: dir, Common: c, Store: s, Solver: solver, Schedule: sched, ClipNorm: 1, Task: task,
		Best: "val_loss", ItemName: "examples", Log: discard{}}, task
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

func params(s *graph.Store) map[string][]float64 {
	out := map[string][]float64{}
	for _, p := range s.Params() {
		out[p.Name] = graph.Float64s(p.Value)
	}
	return out
}

func TestSameSeedSameMetricsAndTrainingLowersLoss(t *testing.T) {
	c := Common{Seed: 3, Epochs: 5, LogEvery: 4, EvalEvery: 8}
	d1, d2 := t.TempDir(), t.TempDir()
	l1, _ := newLoop(t, d1, c)
	s1, err := l1.Run(context.Background())
	require.NoError(t, err)
	l2, _ := newLoop(t, d2, c)
	_, err = l2.Run(context.Background())
	require.NoError(t, err)
	testenv.RequireSameFile(t, "metrics.jsonl", d1, d2)
	require.Equal(t, 40, s1.Steps)
	require.Less(t, s1.Final["val_loss"], l1.history[2].Metrics["val_loss"]/2, "the regression is being learned")
	for _, f := range []string{"summary.json", "learning_curve.png", "checkpoints/last.safetensors", "checkpoints/best.safetensors"} {
		require.FileExists(t, filepath.Join(d1, f))
	}
}

func TestResumeIsBitwise(t *testing.T) {
	c := Common{Seed: 4, Epochs: 5, LogEvery: 4, EvalEvery: 8}
	full := t.TempDir()
	lf, _ := newLoop(t, full, c)
	_, err := lf.Run(context.Background())
	require.NoError(t, err)

	part := t.TempDir()
	cp := c
	cp.MaxSteps = 13 // stops between evaluations: the last checkpoint is written at the end
	lp, _ := newLoop(t, part, cp)
	_, err = lp.Run(context.Background())
	require.NoError(t, err)

	cr := c
	cr.Resume = part
	lr, task := newLoop(t, part, cr)
	_, err = lr.Run(context.Background())
	require.NoError(t, err)
	require.Equal(t, 40-13, task.calls, "the resumed run starts at step 13")
	require.Equal(t, params(lf.Store), params(lr.Store))
	testenv.RequireSameFile(t, "metrics.jsonl", full, part)
}

func TestNaNLossStopsNamingStepAndCheckpoint(t *testing.T) {
	l, task := newLoop(t, t.TempDir(), Common{Seed: 1, Epochs: 5, EvalEvery: 8})
	task.nanAt = 11
	_, err := l.Run(context.Background())
	require.ErrorContains(t, err, "step 11: loss is NaN")
	require.ErrorContains(t, err, "last.safetensors (step 8)")
}

func TestCancelSavesAndStops(t *testing.T) {
	dir := t.TempDir()
	l, _ := newLoop(t, dir, Common{Seed: 1, Epochs: 5, EvalEvery: 100})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	sum, err := l.Run(ctx)
	require.ErrorIs(t, err, ErrInterrupted)
	require.True(t, sum.Interrupted)
	_, meta, err := graph.LoadTensors(filepath.Join(dir, "checkpoints", "last.safetensors"))
	require.NoError(t, err)
	require.Equal(t, "0", meta["step"])
}

type exampleConfig struct {
	Common
	Hidden int     `json:"hidden" help:"hidden units"`
	LR     float64 `json:"lr" help:"learning rate"`
	Cell   string  `json:"cell" help:"cell"`
}

func TestFlagsOverrideConfigFile(t *testing.T) {
	cfg := exampleConfig{Hidden: 128, LR: 2e-3, Cell: "lstm"}
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	fs.SetOutput(discard{})
	BindFlags(fs, &cfg)
	path := filepath.Join(t.TempDir(), "run.json")
	require.NoError(t, os.WriteFile(path, []byte(`{"hidden": 256, "lr": 0.01, "max_steps": 7}`), 0o644))
	require.NoError(t, ParseConfig(fs, &cfg, []string{"--config", path, "--lr", "0.5", "--seed", "9"}))
	require.Equal(t, exampleConfig{Common: Common{Seed: 9, MaxSteps: 7}, Hidden: 256, LR: 0.5, Cell: "lstm"}, cfg)
	require.NotNil(t, fs.Lookup("max-steps"))

	require.Error(t, ParseConfig(fs, &cfg, []string{"--hidden", "many"}))
	require.NoError(t, os.WriteFile(path, []byte(`{"hiden": 256}`), 0o644))
	require.ErrorContains(t, ParseConfig(fs, &cfg, []string{"--config", path}), `unknown field "hiden"`)
}
