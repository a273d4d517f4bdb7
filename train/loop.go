package train

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/internal/atomicfile"
	"github.com/triadml/triad/solvers"
)

// Task is what an experiment gives the loop.
type Task interface {
	// StepsPerEpoch returns the number of training steps in one epoch.
	StepsPerEpoch() int
	// TrainStep runs the forward and backward passes of the given global step
	// (counted from 0), adding gradients into the parameters. Its batch must be a
	// function of the step (e.g. position step%StepsPerEpoch in the permutation
	// drawn for epoch step/StepsPerEpoch), and its random inputs must come from
	// noise, so that a resumed run repeats the uninterrupted one.
	TrainStep(step int, noise *rand.Rand) (Result, error)
	// Evaluate returns the validation metrics, e.g. {"val_loss": 1.5}.
	Evaluate() (map[string]float64, error)
}

// StatefulTask is a Task that carries state between steps beyond the parameters,
// such as the recurrent state of truncated back-propagation through time; the loop
// saves it with each checkpoint.
type StatefulTask interface {
	Task
	TaskState() map[string]*tensor.Dense
	SetTaskState(map[string]*tensor.Dense) error
}

// Result is one training step's outcome.
type Result struct {
	Loss  float64 // mean loss of the step's batch
	Items int     // tokens or examples in the batch, for throughput
}

// ErrInterrupted is returned by Run when its context is cancelled (Ctrl-C); the
// last checkpoint has been written.
var ErrInterrupted = errors.New("interrupted")

// Loop runs training. Fields left zero take the defaults documented on them.
type Loop struct {
	Dir      string // run directory
	Common   Common
	Store    *graph.Store
	Solver   solvers.Solver
	Schedule solvers.Schedule // learning rate per step; nil keeps the solver's
	Plateau  *solvers.Plateau // optional: observes the Best metric at each evaluation
	// ClipNorm clips gradients to this global L2 norm (0: off); ClipValue clips
	// each component to [-ClipValue, ClipValue] (0: off).
	ClipNorm, ClipValue float64
	Task                Task
	// Best names the metric that selects best.safetensors; BestMax says whether
	// larger is better.
	Best    string
	BestMax bool
	// ItemName names what Result.Items counts ("tokens", "examples").
	ItemName string
	// Log receives the readable log lines (default os.Stderr; io.Discard on ranks
	// other than 0).
	Log io.Writer
	// Callbacks observe the run (steps, metrics points, checkpoints), on every
	// rank of a group; the root's metrics.jsonl is written by a callback that
	// comes first.
	Callbacks []Callback
	// Comm, when set, trains data-parallel in its group (see Comm); nil trains in
	// this process alone.
	Comm Comm

	history []Point
}

// Point is one line of metrics.jsonl.
type Point struct {
	Step    int                `json:"step"`
	Epoch   float64            `json:"epoch"`
	Split   string             `json:"split"`
	Metrics map[string]float64 `json:"metrics"`
}

// Summary is what summary.json holds.
type Summary struct {
	Steps         int                `json:"steps"`
	Epochs        float64            `json:"epochs"`
	Final         map[string]float64 `json:"final"`
	Best          map[string]float64 `json:"best,omitempty"`
	BestStep      int                `json:"best_step"`
	Seconds       float64            `json:"seconds"`
	ItemsPerSec   float64            `json:"items_per_second"`
	ItemName      string             `json:"item_name"`
	Threads       int                `json:"threads"`
	Checkpoint    string             `json:"checkpoint"`
	Interrupted   bool               `json:"interrupted,omitempty"`
	TrainLossLast float64            `json:"train_loss_last"`
	Ranks         int                `json:"ranks,omitempty"` // processes of a data-parallel run
}

const (
	lastName = "last.safetensors"
	bestName = "best.safetensors"
)

// Run trains until the epochs or MaxSteps are done, ctx is cancelled, or a step
// fails. A loss that is not finite stops the run with an error naming the step and
// the last good checkpoint.
func (l *Loop) Run(ctx context.Context) (*Summary, error) {
	if l.Log == nil {
		l.Log = os.Stderr
	}
	if l.ItemName == "" {
		l.ItemName = "items"
	}
	var d *distRun // the data-parallel group, if any; only its rank 0 writes files
	if l.Comm != nil {
		var err error
		if d, err = l.startDist(); err != nil {
			return nil, err
		}
		if d.rank != 0 {
			l.Log = io.Discard
		}
	}
	root := d == nil || d.rank == 0
	c := l.Common
	if c.LogEvery <= 0 {
		c.LogEvery = 50
	}
	spe := l.Task.StepsPerEpoch()
	if spe <= 0 {
		return nil, errors.New("train: the task has no training steps")
	}
	total := c.TotalSteps(spe)
	if total <= 0 {
		return nil, errors.New("train: nothing to do (epochs and max-steps are 0)")
	}
	evalEvery := c.EvalEvery
	if evalEvery <= 0 {
		evalEvery = spe
	}
	ckptDir := filepath.Join(l.Dir, "checkpoints")
	if root {
		if err := os.MkdirAll(ckptDir, 0o755); err != nil {
			return nil, errors.Wrap(err, "train")
		}
	}
	metricsPath := filepath.Join(l.Dir, "metrics.jsonl")

	start, best, bestStep := 0, math.NaN(), -1
	var win window
	if c.Resume != "" {
		var err error
		if start, best, bestStep, win, err = l.restore(filepath.Join(c.Resume, "checkpoints", lastName)); err != nil {
			return nil, err
		}
		if root {
			if err := l.truncateMetrics(metricsPath, start, c.LogEvery, evalEvery); err != nil {
				return nil, err
			}
		}
		fmt.Fprintf(l.Log, "resumed %s at step %d\n", c.Resume, start)
	} else if root {
		if err := os.WriteFile(metricsPath, nil, 0o644); err != nil {
			return nil, errors.Wrap(err, "train")
		}
	}
	callbacks := l.Callbacks
	if root {
		mw, err := openMetricsWriter(metricsPath)
		if err != nil {
			return nil, err
		}
		defer mw.close()
		callbacks = append([]Callback{mw}, callbacks...)
	}
	if d != nil {
		if err := d.bcastParams(); err != nil {
			return nil, err
		}
	}
	emit := func(p Point) error {
		l.history = append(l.history, p)
		for _, cb := range callbacks {
			if err := cb.OnPoint(p); err != nil {
				return err
			}
		}
		return nil
	}
	checkpointed := func(kind, path string, step int) error {
		for _, cb := range callbacks {
			if err := cb.OnCheckpoint(kind, path, step); err != nil {
				return err
			}
		}
		return nil
	}

	progress := newProgress(l.Log, total, start)
	defer progress.finish()
	lastPath := filepath.Join(ckptDir, lastName)
	lastGood := "none yet"
	if start > 0 {
		lastGood = fmt.Sprintf("%s (step %d)", lastPath, start)
	}
	var (
		sum       = &Summary{ItemName: l.ItemName, Threads: threads(c.Threads), BestStep: bestStep}
		t0        = time.Now()
		items     int
		winStart  = time.Now()
		winItems  int
		lastEval  map[string]float64
		lastTrain float64
	)
	if d != nil {
		sum.Ranks = d.size
	}
	saveLast := func(step int) error {
		var state map[string]*tensor.Dense // nil: the task's own
		if d != nil {
			var err error
			if state, err = d.gatherState(); err != nil {
				return err
			}
		}
		if root {
			if err := l.save(lastPath, step, best, bestStep, win, state); err != nil {
				return err
			}
		}
		lastGood = fmt.Sprintf("%s (step %d)", lastPath, step)
		return checkpointed("last", lastPath, step)
	}
	step := start
	for ; step < total; step++ {
		stop := ctx.Err() != nil
		if d != nil {
			stop = d.stop // agreed by every rank at the last step's reduction
		}
		if stop {
			if err := saveLast(step); err != nil {
				return nil, err
			}
			progress.finish()
			fmt.Fprintf(l.Log, "interrupted at step %d; checkpoint %s\n", step, lastPath)
			sum.Interrupted = true
			return sum, ErrInterrupted
		}
		lr := l.Solver.LR()
		if l.Schedule != nil {
			lr = l.Schedule.LR(step)
			if l.Plateau != nil {
				lr = math.Min(lr, l.Plateau.LR())
			}
			l.Solver.SetLR(lr)
		} else if l.Plateau != nil {
			lr = l.Plateau.LR()
			l.Solver.SetLR(lr)
		}
		noise := graph.NewRNG(c.Seed, "noise/"+strconv.Itoa(step))
		if d != nil {
			noise = d.noise(c.Seed, step)
		}
		res, err := l.Task.TrainStep(step, noise)
		if err != nil {
			return nil, errors.Wrapf(err, "train: step %d", step)
		}
		if d != nil {
			if res, err = d.reduce(res, ctx.Err() != nil); err != nil {
				return nil, errors.Wrapf(err, "train: step %d", step)
			}
		}
		if math.IsNaN(res.Loss) || math.IsInf(res.Loss, 0) {
			l.Store.ZeroGrads()
			return nil, errors.Errorf("train: step %d: loss is %v; stopped; last good checkpoint: %s", step, res.Loss, lastGood)
		}
		if l.ClipValue > 0 {
			if err := solvers.ClipGradValue(l.Store.Params(), l.ClipValue); err != nil {
				return nil, errors.Wrapf(err, "train: step %d", step)
			}
		}
		if l.ClipNorm > 0 {
			norm, err := solvers.ClipGradNorm(l.Store.Params(), l.ClipNorm, 2)
			if err != nil {
				return nil, errors.Wrapf(err, "train: step %d", step)
			}
			if math.IsNaN(norm) || math.IsInf(norm, 0) {
				l.Store.ZeroGrads()
				return nil, errors.Errorf("train: step %d: gradient norm is %v; stopped; last good checkpoint: %s", step, norm, lastGood)
			}
		}
		if err := l.Solver.Step(l.Store.Params()); err != nil {
			return nil, errors.Wrapf(err, "train: step %d", step)
		}
		items += res.Items
		win.loss += res.Loss
		win.steps++
		winItems += res.Items
		lastTrain = res.Loss
		done := step + 1
		for _, cb := range callbacks {
			if err := cb.OnStep(done, res.Loss, lr); err != nil {
				return nil, err
			}
		}
		epoch := float64(done) / float64(spe)
		progress.update(done, res.Loss)
		if done%c.LogEvery == 0 || done == total {
			mean := win.loss / float64(win.steps)
			if err := emit(Point{Step: done, Epoch: epoch, Split: "train", Metrics: map[string]float64{"loss": mean, "lr": lr}}); err != nil {
				return nil, err
			}
			rate := float64(winItems) / time.Since(winStart).Seconds()
			progress.log(fmt.Sprintf("step %d/%d epoch %.2f loss %.4f lr %.3g %.0f %s/s", done, total, epoch, mean, lr, rate, l.ItemName))
			if done%c.LogEvery == 0 { // a run stopped off the schedule keeps its window for --resume
				win, winItems, winStart = window{}, 0, time.Now()
			}
		}
		if done%evalEvery == 0 || done == total {
			m, err := l.evaluate(d)
			if err != nil {
				return nil, errors.Wrapf(err, "train: evaluation at step %d", done)
			}
			lastEval = m
			if err := emit(Point{Step: done, Epoch: epoch, Split: "val", Metrics: m}); err != nil {
				return nil, err
			}
			progress.log(fmt.Sprintf("step %d eval %s", done, formatMetrics(m)))
			if v, ok := m[l.Best]; ok && l.Best != "" {
				if math.IsNaN(best) || (l.BestMax && v > best) || (!l.BestMax && v < best) {
					best, bestStep = v, done
					if root {
						bestPath := filepath.Join(ckptDir, bestName)
						if err := graph.SaveStore(bestPath, l.Store, map[string]string{"step": strconv.Itoa(done), l.Best: strconv.FormatFloat(v, 'g', -1, 64)}); err != nil {
							return nil, err
						}
						if err := checkpointed("best", bestPath, done); err != nil {
							return nil, err
						}
					}
				}
				if l.Plateau != nil {
					l.Plateau.Observe(v)
				}
			}
			if c.CheckpointEvery <= 0 {
				if err := saveLast(done); err != nil {
					return nil, err
				}
			}
			if root {
				if err := l.plot(); err != nil {
					fmt.Fprintf(l.Log, "warning: learning curve: %v\n", err)
				}
			}
		}
		if c.CheckpointEvery > 0 && done%c.CheckpointEvery == 0 {
			if err := saveLast(done); err != nil {
				return nil, err
			}
		}
	}
	if d != nil {
		if err := d.checkSame(); err != nil {
			return nil, err
		}
	}
	if err := saveLast(step); err != nil {
		return nil, err
	}
	progress.finish()
	sum.Steps = step
	sum.Epochs = float64(step) / float64(spe)
	sum.Final = lastEval
	sum.BestStep = bestStep
	if l.Best != "" && !math.IsNaN(best) {
		sum.Best = map[string]float64{l.Best: best}
	}
	sum.Seconds = time.Since(t0).Seconds()
	sum.ItemsPerSec = float64(items) / sum.Seconds
	sum.Checkpoint = lastPath
	sum.TrainLossLast = lastTrain
	if !root {
		return sum, nil
	}
	if err := WriteJSON(filepath.Join(l.Dir, "summary.json"), sum); err != nil {
		return nil, err
	}
	return sum, nil
}

func formatMetrics(m map[string]float64) string {
	keys := sortedKeys(m)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %.4f", k, m[k])
	}
	return strings.Join(parts, " ")
}

// save writes the parameters, the solver state, the task state (state, or the
// task's own when nil) and the loop's counters to one safetensors file,
// atomically, so a checkpoint is never half written and never mixes two steps.
func (l *Loop) save(path string, step int, best float64, bestStep int, win window, state map[string]*tensor.Dense) error {
	ts := map[string]*tensor.Dense{}
	for _, p := range l.Store.Params() {
		ts["param/"+p.Name] = p.Value
	}
	for k, v := range l.Solver.State() {
		ts["solver/"+k] = v
	}
	if st, ok := l.Task.(StatefulTask); ok && state == nil {
		state = st.TaskState()
	}
	for k, v := range state {
		ts["task/"+k] = v
	}
	meta := map[string]string{
		"step":      strconv.Itoa(step),
		"best":      strconv.FormatFloat(best, 'g', -1, 64),
		"best_step": strconv.Itoa(bestStep),
		"win_loss":  strconv.FormatFloat(win.loss, 'g', -1, 64),
		"win_steps": strconv.Itoa(win.steps),
	}
	if l.Plateau != nil {
		raw, err := json.Marshal(l.Plateau.State())
		if err != nil {
			return errors.Wrap(err, "train: plateau state")
		}
		meta["plateau"] = string(raw)
	}
	return graph.SaveTensors(path, ts, meta)
}

// window accumulates the training loss between two log lines; it is saved with
// the checkpoint so that a resumed run logs the same means.
type window struct {
	loss  float64
	steps int
}

func (l *Loop) restore(path string) (step int, best float64, bestStep int, win window, err error) {
	step, best, bestStep, win, err = l.restoreState(path)
	if err != nil {
		err = errors.Wrapf(err, "train: resume %s", path)
	}
	return
}

func (l *Loop) restoreState(path string) (step int, best float64, bestStep int, win window, err error) {
	fail := func(e error) (int, float64, int, window, error) { return 0, 0, 0, window{}, e }
	ts, meta, err := graph.LoadTensors(path)
	if err != nil {
		return fail(err)
	}
	groups := map[string]map[string]*tensor.Dense{"param/": {}, "solver/": {}, "task/": {}}
	for k, v := range ts {
		matched := false
		for prefix, g := range groups {
			if strings.HasPrefix(k, prefix) {
				g[strings.TrimPrefix(k, prefix)] = v
				matched = true
			}
		}
		if !matched {
			return fail(errors.Errorf("unexpected tensor %q", k))
		}
	}
	if err := graph.AssignStore(l.Store, groups["param/"]); err != nil {
		return fail(err)
	}
	if err := l.Solver.LoadState(groups["solver/"]); err != nil {
		return fail(err)
	}
	if st, ok := l.Task.(StatefulTask); ok {
		if err := st.SetTaskState(groups["task/"]); err != nil {
			return fail(err)
		}
	}
	ints := map[string]*int{"step": &step, "best_step": &bestStep, "win_steps": &win.steps}
	for _, k := range sortedKeys(ints) {
		if *ints[k], err = strconv.Atoi(meta[k]); err != nil {
			return fail(errors.Errorf("bad %s %q in the metadata", k, meta[k]))
		}
	}
	floats := map[string]*float64{"best": &best, "win_loss": &win.loss}
	for _, k := range sortedKeys(floats) {
		if *floats[k], err = strconv.ParseFloat(meta[k], 64); err != nil {
			return fail(errors.Errorf("bad %s %q in the metadata", k, meta[k]))
		}
	}
	if l.Plateau != nil && meta["plateau"] != "" {
		var ps solvers.PlateauState
		if err := json.Unmarshal([]byte(meta["plateau"]), &ps); err != nil {
			return fail(err)
		}
		if err := l.Plateau.LoadState(ps); err != nil {
			return fail(err)
		}
	}
	return step, best, bestStep, win, nil
}

// truncateMetrics keeps the metrics lines of steps up to step, dropping those a
// run wrote after its last checkpoint and the extra lines a run stopped early
// (--max-steps, Ctrl-C) wrote at its last step off the logging schedule, so that a
// resumed run's metrics.jsonl reads as the uninterrupted run's.
func (l *Loop) truncateMetrics(path string, step, logEvery, evalEvery int) error {
	raw, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return errors.Wrap(err, "train: resume")
	}
	var kept bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var p Point
		if err := json.Unmarshal(sc.Bytes(), &p); err != nil {
			return errors.Errorf("train: resume: %s: corrupt line %q", path, sc.Text())
		}
		onSchedule := (p.Split == "train" && p.Step%logEvery == 0) || (p.Split != "train" && p.Step%evalEvery == 0)
		if p.Step < step || (p.Step == step && onSchedule) {
			kept.Write(sc.Bytes())
			kept.WriteByte('\n')
			l.history = append(l.history, p)
		}
	}
	return atomicfile.WriteFile(path, kept.Bytes(), 0o644)
}

// WriteJSON writes v as indented JSON to path atomically.
func WriteJSON(path string, v any) error {
	raw, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return errors.Wrapf(err, "writing %s", path)
	}
	return atomicfile.WriteFile(path, append(raw, '\n'), 0o644)
}
