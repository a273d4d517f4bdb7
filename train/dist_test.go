package train

import (
	"context"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/pkg/errors"
	"github.com/stretchr/testify/require"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/internal/testenv"
	"github.com/triadml/triad/solvers"
)

// shardReg is a Sharded, stateful regression: 64 examples of 3 features plus a
// fourth read from a carried state (one value per slot of the global batch of
// 8, as the columns of a language model's stream, each rank moving its own
// slots on), a linear layer, the mean squared error. Without dropout it is deterministic, so a run of several ranks
// must equal the single-process one up to float rounding.
type shardReg struct {
	s          *graph.Store
	lin        *graph.Linear
	x, y       []float64
	rank, size int
	prog, eval *graph.Program
	state      *tensor.Dense // (8): the carry of each batch slot
	failAt     int           // TrainStep fails at this step (-1: never)
	evals      int
}

const regN, regB = 64, 8

func newShardReg(t *testing.T, dtype tensor.Dtype, seed uint64) *shardReg {
	s := graph.NewStore(dtype, graph.NewRNG(seed, "init"))
	r := &shardReg{s: s, size: 1, failAt: -1, state: graph.NewDense(dtype, regB)}
	rng := graph.NewRNG(7, "data")
	for i := 0; i < regN; i++ {
		a, b, c := rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64()
		r.x = append(r.x, a, b, c)
		r.y = append(r.y, 2*a-b+0.5*c+0.1*rng.NormFloat64())
	}
	var err error
	r.lin, err = graph.NewLinear(s, "fc", 4, 1, true)
	require.NoError(t, err)
	return r
}

func (r *shardReg) build(mode graph.Mode, n int) (*graph.Program, error) {
	b := graph.NewBuilder(r.s, mode)
	x := b.Input("x", r.s.Dtype(), n, 4)
	y := b.Input("y", r.s.Dtype(), n, 1)
	d := b.Check(G.Sub(r.lin.Forward(b, x), y))
	loss := b.Check(G.Mean(b.Check(G.HadamardProd(d, d))))
	b.Output("loss", loss)
	if mode == graph.Eval {
		return b.Compile(nil)
	}
	return b.Compile(loss)
}

func (r *shardReg) SetShard(rank, size int) error {
	if regB%size != 0 {
		return errors.Errorf("batch %d does not split into %d shards", regB, size)
	}
	r.rank, r.size = rank, size
	return nil
}

func (r *shardReg) StepsPerEpoch() int { return regN / regB }

func (r *shardReg) TrainStep(step int, noise *rand.Rand) (Result, error) {
	if step == r.failAt {
		return Result{}, errors.New("injected failure")
	}
	per := regB / r.size
	if r.prog == nil {
		var err error
		if r.prog, err = r.build(graph.Train, per); err != nil {
			return Result{}, err
		}
	}
	epoch, pos := step/r.StepsPerEpoch(), step%r.StepsPerEpoch()
	perm := graph.NewRNG(5, "shuffle/"+strconv.Itoa(epoch)).Perm(regN)
	st := graph.Float64s(r.state)
	var xs, ys []float64
	lo := r.rank * per
	for slot := lo; slot < lo+per; slot++ {
		i := perm[pos*regB+slot]
		xs = append(xs, r.x[3*i:3*i+3]...)
		xs = append(xs, 0.1*st[slot])
		ys = append(ys, r.y[i])
	}
	if err := r.prog.Set("x", graph.FromFloat64s(r.s.Dtype(), xs, per, 4)); err != nil {
		return Result{}, err
	}
	if err := r.prog.Set("y", graph.FromFloat64s(r.s.Dtype(), ys, per, 1)); err != nil {
		return Result{}, err
	}
	if err := r.prog.Run(); err != nil {
		return Result{}, err
	}
	// the carry: own slots move on, the others are zero for the loop to sum
	for slot := range st {
		if slot >= lo && slot < lo+per {
			st[slot] = math.Tanh(st[slot] + ys[slot-lo])
		} else {
			st[slot] = 0
		}
	}
	r.state = graph.FromFloat64s(r.s.Dtype(), st, regB)
	return Result{Loss: r.prog.Loss(), Items: per}, nil
}

func (r *shardReg) TaskState() map[string]*tensor.Dense {
	return map[string]*tensor.Dense{"carry": r.state}
}

func (r *shardReg) SetTaskState(m map[string]*tensor.Dense) error {
	c, ok := m["carry"]
	if !ok {
		return errors.New("no carry")
	}
	r.state = graph.FromFloat64s(r.s.Dtype(), graph.Float64s(c), regB)
	return nil
}

// evalSums returns the squared error and the count over this rank's examples;
// the fourth feature is zero at evaluation.
func (r *shardReg) EvaluateSums() (map[string]float64, error) {
	r.evals++
	per := regN / r.size
	if r.eval == nil {
		var err error
		if r.eval, err = r.build(graph.Eval, per); err != nil {
			return nil, err
		}
	}
	var xs []float64
	for i := r.rank * per; i < (r.rank+1)*per; i++ {
		xs = append(xs, r.x[3*i:3*i+3]...)
		xs = append(xs, 0)
	}
	if err := r.eval.Set("x", graph.FromFloat64s(r.s.Dtype(), xs, per, 4)); err != nil {
		return nil, err
	}
	if err := r.eval.Set("y", graph.FromFloat64s(r.s.Dtype(), r.y[r.rank*per:(r.rank+1)*per], per, 1)); err != nil {
		return nil, err
	}
	if err := r.eval.Run(); err != nil {
		return nil, err
	}
	out, _ := r.eval.Output("loss")
	return map[string]float64{"se": graph.Scalar(out) * float64(per), "n": float64(per)}, nil
}

func (r *shardReg) MetricsFromSums(s map[string]float64) (map[string]float64, error) {
	return map[string]float64{"val_loss": s["se"] / s["n"]}, nil
}

func (r *shardReg) Evaluate() (map[string]float64, error) {
	s, err := r.EvaluateSums()
	if err != nil {
		return nil, err
	}
	return r.MetricsFromSums(s)
}

// wholeEval hides EvaluateSums: rank 0 evaluates alone and broadcasts.
type wholeEval struct{ *shardReg }

func (w wholeEval) EvaluateSums() {}

func (w wholeEval) Evaluate() (map[string]float64, error) {
	rank, size, eval := w.rank, w.size, w.eval
	w.rank, w.size, w.eval = 0, 1, nil
	defer func() { w.rank, w.size, w.eval = rank, size, eval }()
	return w.shardReg.Evaluate()
}

func distLoop(t *testing.T, dir string, c Common, task Task, s *graph.Store, comm Comm) *Loop {
	solver, err := solvers.NewAdam(solvers.DefaultAdamConfig())
	require.NoError(t, err)
	return &Loop{Dir: dir, Common: c, Store: s, Solver: solver, ClipNorm: 1, Task: task,
		Best: "val_loss", ItemName: "examples", Log: discard{}, Comm: comm}
}

// runGroup runs one Loop per rank of a local group; fail calls Abort on an error,
// as a program does.
func runGroup(t *testing.T, n int, mk func(rank int, comm Comm) *Loop, ctxs []context.Context) ([]*Loop, []error) {
	comms := NewLocalComms(n)
	loops := make([]*Loop, n)
	errs := make([]error, n)
	for r := range loops {
		loops[r] = mk(r, comms[r])
	}
	var wg sync.WaitGroup
	for r := range loops {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := context.Background()
			if ctxs != nil {
				ctx = ctxs[r]
			}
			if _, errs[r] = loops[r].Run(ctx); errs[r] != nil && !errors.Is(errs[r], ErrInterrupted) {
				comms[r].Abort(1)
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("the group hangs")
	}
	return loops, errs
}

func readMetrics(t *testing.T, dir string) []Point {
	pts, err := ReadMetrics(dir)
	require.NoError(t, err)
	return pts
}

// requireClose checks a and b agree to a relative tolerance tol (absolute below
// 1).
func requireClose(t *testing.T, what string, a, b, tol float64) {
	t.Helper()
	if math.Abs(a-b) > tol*math.Max(1, math.Abs(b)) {
		t.Fatalf("%s: %v vs %v (tolerance %g)", what, a, b, tol)
	}
}

// TestDataParallelEqualsOneProcess: 2 and 4 ranks with global batch 8 give the
// single process's parameters, task state and metrics. The tolerances are a
// few hundred units in the last place of the dtype after 24 Adam steps: the
// only difference is the order of the additions of the gradient sums.
func TestDataParallelEqualsOneProcess(t *testing.T) {
	for _, tc := range []struct {
		dtype tensor.Dtype
		tol   float64
		ranks []int
	}{{tensor.Float64, 1e-12, []int{2, 4}}, {tensor.Float32, 2e-5, []int{2}}} {
		c := Common{Seed: 2, Epochs: 3, LogEvery: 4, EvalEvery: 8}
		single := t.TempDir()
		one := newShardReg(t, tc.dtype, c.Seed)
		l1 := distLoop(t, single, c, one, one.s, nil)
		_, err := l1.Run(context.Background())
		require.NoError(t, err)
		want := readMetrics(t, single)
		for _, n := range tc.ranks {
			dirs := make([]string, n)
			tasks := make([]*shardReg, n)
			loops, errs := runGroup(t, n, func(r int, comm Comm) *Loop {
				dirs[r] = t.TempDir()
				tasks[r] = newShardReg(t, tc.dtype, c.Seed+uint64(r)) // rank 0's weights are broadcast
				return distLoop(t, dirs[r], c, tasks[r], tasks[r].s, comm)
			}, nil)
			for r, err := range errs {
				require.NoError(t, err, "rank %d", r)
			}
			for r := range loops {
				for name, w := range params(l1.Store) {
					got := params(loops[r].Store)[name]
					for i := range w {
						requireClose(t, tc.dtype.String()+" "+name, got[i], w[i], tc.tol)
					}
				}
			}
			// the ranks' carries add up to the single process's in the checkpoint
			ts, _, err := graph.LoadTensors(filepath.Join(dirs[0], "checkpoints", "last.safetensors"))
			require.NoError(t, err)
			for i, v := range graph.Float64s(one.state) {
				requireClose(t, "state", graph.Float64s(ts["task/carry"])[i], v, tc.tol)
			}
			got := readMetrics(t, dirs[0])
			require.Len(t, got, len(want))
			for i := range want {
				require.Equal(t, want[i].Step, got[i].Step)
				require.Equal(t, want[i].Split, got[i].Split)
				for k, v := range want[i].Metrics {
					requireClose(t, "metric "+k, got[i].Metrics[k], v, tc.tol)
				}
			}
			for r := 1; r < n; r++ {
				entries, err := os.ReadDir(dirs[r])
				require.NoError(t, err)
				require.Empty(t, entries, "rank %d writes nothing", r)
				require.Equal(t, 3, tasks[r].evals, "evaluation is sharded")
			}
			require.FileExists(t, filepath.Join(dirs[0], "checkpoints", "last.safetensors"))
			require.FileExists(t, filepath.Join(dirs[0], "summary.json"))
		}
	}
}

// TestDataParallelResume: two ranks resumed from a checkpoint of two ranks
// continue as the uninterrupted run, and a group of one is the single process
// bit for bit.
func TestDataParallelResume(t *testing.T) {
	c := Common{Seed: 3, Epochs: 3, LogEvery: 4, EvalEvery: 8}
	group := func(c Common, dir string, n int) []*Loop {
		loops, errs := runGroup(t, n, func(r int, comm Comm) *Loop {
			d := dir
			if r > 0 {
				d = t.TempDir()
			}
			task := newShardReg(t, tensor.Float64, c.Seed)
			return distLoop(t, d, c, task, task.s, comm)
		}, nil)
		for _, err := range errs {
			require.NoError(t, err)
		}
		return loops
	}
	full := t.TempDir()
	lf := group(c, full, 2)
	part := t.TempDir()
	cp := c
	cp.MaxSteps = 13
	group(cp, part, 2)
	cr := c
	cr.Resume = part
	lr := group(cr, part, 2)
	require.Equal(t, params(lf[0].Store), params(lr[0].Store))
	testenv.RequireSameFile(t, "metrics.jsonl", full, part)

	single := t.TempDir()
	task := newShardReg(t, tensor.Float64, c.Seed)
	l1 := distLoop(t, single, c, task, task.s, nil)
	_, err := l1.Run(context.Background())
	require.NoError(t, err)
	one := t.TempDir()
	lo := group(c, one, 1)
	require.Equal(t, params(l1.Store), params(lo[0].Store))
	testenv.RequireSameFile(t, "metrics.jsonl", single, one)
}

// TestDataParallelRootEvaluates: a task without EvaluateSums is evaluated by
// rank 0 alone, and every rank sees its metrics.
func TestDataParallelRootEvaluates(t *testing.T) {
	c := Common{Seed: 4, Epochs: 2, EvalEvery: 8}
	tasks := make([]*shardReg, 2)
	dirs := []string{t.TempDir(), t.TempDir()}
	loops, errs := runGroup(t, 2, func(r int, comm Comm) *Loop {
		tasks[r] = newShardReg(t, tensor.Float64, c.Seed)
		return distLoop(t, dirs[r], c, wholeEval{tasks[r]}, tasks[r].s, comm)
	}, nil)
	require.NoError(t, errs[0])
	require.NoError(t, errs[1])
	require.Equal(t, 2, tasks[0].evals)
	require.Equal(t, 0, tasks[1].evals)
	require.Equal(t, loops[0].history[len(loops[0].history)-1], loops[1].history[len(loops[1].history)-1])
}

// TestDataParallelFailureEndsGroup: a step failing on rank 1 ends every rank
// with an error (rank 0 is released by the abort instead of waiting forever);
// rank 0's last checkpoint stays readable.
func TestDataParallelFailureEndsGroup(t *testing.T) {
	c := Common{Seed: 5, Epochs: 5, EvalEvery: 8}
	dir := t.TempDir()
	_, errs := runGroup(t, 2, func(r int, comm Comm) *Loop {
		task := newShardReg(t, tensor.Float64, c.Seed)
		if r == 1 {
			task.failAt = 11
		}
		d := dir
		if r > 0 {
			d = t.TempDir()
		}
		return distLoop(t, d, c, task, task.s, comm)
	}, nil)
	require.ErrorContains(t, errs[1], "injected failure")
	require.ErrorContains(t, errs[0], "aborted")
	_, meta, err := graph.LoadTensors(filepath.Join(dir, "checkpoints", "last.safetensors"))
	require.NoError(t, err)
	require.Equal(t, "8", meta["step"])
}

// TestDataParallelInterruptIsAgreed: Ctrl-C on rank 1 alone stops both ranks
// after the same step, with rank 0's checkpoint written.
func TestDataParallelInterruptIsAgreed(t *testing.T) {
	c := Common{Seed: 6, Epochs: 5, EvalEvery: 100}
	dir := t.TempDir()
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	loops, errs := runGroup(t, 2, func(r int, comm Comm) *Loop {
		task := newShardReg(t, tensor.Float64, c.Seed)
		d := dir
		if r > 0 {
			d = t.TempDir()
		}
		return distLoop(t, d, c, task, task.s, comm)
	}, []context.Context{context.Background(), cancelled})
	require.ErrorIs(t, errs[0], ErrInterrupted)
	require.ErrorIs(t, errs[1], ErrInterrupted)
	require.Equal(t, params(loops[0].Store), params(loops[1].Store))
	_, meta, err := graph.LoadTensors(filepath.Join(dir, "checkpoints", "last.safetensors"))
	require.NoError(t, err)
	require.Equal(t, "1", meta["step"], "the flag raised at step 0's reduction stops before step 1")
}

// TestDataParallelRefusals: a task that cannot be sharded, a batch that does not
// split and ranks with different models are errors, not hangs.
func TestDataParallelRefusals(t *testing.T) {
	c := Common{Seed: 1, Epochs: 1}
	_, errs := runGroup(t, 2, func(r int, comm Comm) *Loop {
		l, _ := newLoop(t, t.TempDir(), c)
		l.Comm = comm
		return l
	}, nil)
	require.ErrorContains(t, errs[0], "does not implement train.Sharded")
	_, errs = runGroup(t, 3, func(r int, comm Comm) *Loop {
		task := newShardReg(t, tensor.Float64, c.Seed)
		return distLoop(t, t.TempDir(), c, task, task.s, comm)
	}, nil)
	require.ErrorContains(t, errs[0], "does not split into 3 shards")
	_, errs = runGroup(t, 2, func(r int, comm Comm) *Loop {
		cr := c
		cr.Epochs += r
		task := newShardReg(t, tensor.Float64, c.Seed)
		return distLoop(t, t.TempDir(), cr, task, task.s, comm)
	}, nil)
	require.ErrorContains(t, errs[0], "another model or schedule")
	require.ErrorContains(t, errs[1], "another model or schedule")
}

func TestOpenDist(t *testing.T) {
	comm, err := OpenDist("")
	require.NoError(t, err)
	require.Nil(t, comm)
	_, err = OpenDist("nccl")
	require.ErrorContains(t, err, "unknown --dist")
}
