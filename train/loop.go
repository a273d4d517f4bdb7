package train

import (
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

// ErrInterrupted is what Run's error is (errors.Is) when its context is
// cancelled (Ctrl-C): the last checkpoint has been written. Run returns it as an
// *InterruptedError, which names the checkpoint.
var ErrInterrupted = errors.New("interrupted")

// InterruptedError is the error of a run stopped by its context: Checkpoint
// (empty when unknown) holds the last finished step, Step (-1 when unknown).
// errors.Is(err, ErrInterrupted) holds for it.
type InterruptedError struct {
	Step       int
	Checkpoint string
}

// Error returns "interrupted; checkpoint PATH".
func (e *InterruptedError) Error() string {
	if e.Checkpoint == "" {
		return ErrInterrupted.Error()
	}
	return ErrInterrupted.Error() + "; checkpoint " + e.Checkpoint
}

// Unwrap returns ErrInterrupted.
func (e *InterruptedError) Unwrap() error { return ErrInterrupted }

// ErrFinished is what Run's error is (errors.Is) when it resumes a run that has
// no step left to train: it trains and writes nothing (summary.json is only
// written when it is missing) and returns the run's summary with the error.
var ErrFinished = errors.New("nothing left to train")

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
	begin   func() error // the session's, when it starts training
}

// Point is one line of metrics.jsonl (where a non-finite metric is a string:
// see values.go; ReadMetrics reads it back).
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
// fails. A loss or gradient norm that is not finite stops the run with an error
// naming the step and the last good checkpoint.
//
// With Common.Resume set (which must be Dir, on the root) it restores
// checkpoints/last.safetensors first: a checkpoint whose step is negative or
// beyond the run's steps is an error naming the file; the lines of
// metrics.jsonl after its step (whatever they hold: a torn or NUL-filled tail
// included) are dropped. A run with no step left returns ErrFinished and leaves
// the run as it is.
//
// A cancelled ctx stops the run before the next step or evaluation, whichever
// comes first, with a checkpoint of the last finished step; an evaluation that
// returns ErrInterrupted stops it the same way. Run then returns the summary so
// far and an *InterruptedError. A checkpoint written before a due evaluation
// records it, and the resumed run evaluates first.
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
	evalDue := func(done int) bool { return done%evalEvery == 0 || done == total }
	ckptDir := filepath.Join(l.Dir, "checkpoints")
	if root {
		if c.Resume != "" && !sameDir(c.Resume, l.Dir) {
			return nil, errors.Errorf("train: resuming %s into %s: a run resumes in its own directory", c.Resume, l.Dir)
		}
		if err := os.MkdirAll(ckptDir, 0o755); err != nil {
			return nil, errors.Wrap(err, "train")
		}
		if err := removeStaleTemps(l.Dir); err != nil {
			return nil, errors.Wrap(err, "train")
		}
	}
	metricsPath := filepath.Join(l.Dir, "metrics.jsonl")
	lastPath := filepath.Join(ckptDir, lastName)

	start, best, bestStep := 0, math.NaN(), -1
	var win window
	pendingEval := false
	if c.Resume != "" {
		r, err := l.restore(filepath.Join(c.Resume, "checkpoints", lastName), total)
		if err != nil {
			return nil, err
		}
		start, best, bestStep, win = r.step, r.best, r.bestStep, r.win
		pendingEval = r.evalDue && evalDue(start)
		if start == total && !pendingEval {
			return l.finished(root, start, total, spe, best, bestStep, lastPath, d)
		}
	}
	if c.Resume != "" {
		if root {
			if err := l.truncateMetrics(metricsPath, start, total, c.LogEvery, evalEvery); err != nil {
				return nil, err
			}
		}
	} else if root {
		if err := os.WriteFile(metricsPath, nil, 0o644); err != nil {
			return nil, errors.Wrap(err, "train")
		}
	}
	if l.begin != nil {
		if err := l.begin(); err != nil {
			return nil, err
		}
	}
	if c.Resume != "" {
		fmt.Fprintf(l.Log, "resumed %s at step %d\n", c.Resume, start)
	}
	callbacks := l.Callbacks
	if root {
		mw, err := openMetricsWriter(metricsPath)
		if err != nil {
			return nil, err
		}
		defer mw.close()
		tb, err := openTensorboardWriter(l.Dir, time.Now)
		if err != nil {
			return nil, err
		}
		defer tb.close()
		callbacks = append([]Callback{mw, tb}, callbacks...)
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
	// saveLast writes the last checkpoint at step; evalPending records that the
	// evaluation due at step has not run.
	saveLast := func(step int, evalPending bool) error {
		var state map[string]*tensor.Dense // nil: the task's own
		if d != nil {
			var err error
			if state, err = d.gatherState(); err != nil {
				return err
			}
		}
		if root {
			if err := l.save(lastPath, step, best, bestStep, win, state, evalPending); err != nil {
				return err
			}
		}
		lastGood = fmt.Sprintf("%s (step %d)", lastPath, step)
		return checkpointed("last", lastPath, step)
	}
	// stopping reports a cancellation: this process's, or in a group the one
	// every rank agreed on at the last step's reduction.
	stopping := func() bool {
		if d != nil {
			return d.stop
		}
		return ctx.Err() != nil
	}
	interrupt := func(step int, evalPending bool) (*Summary, error) {
		if err := saveLast(step, evalPending); err != nil {
			return nil, err
		}
		progress.finish()
		fmt.Fprintf(l.Log, "interrupted at step %d; checkpoint %s\n", step, lastPath)
		sum.Interrupted = true
		sum.Steps, sum.Epochs = step, float64(step)/float64(spe)
		return sum, &InterruptedError{Step: step, Checkpoint: lastPath}
	}
	// endStep runs what follows step done: the evaluation when one is due (the
	// best checkpoint, the plateau, the last checkpoint), then the periodic
	// checkpoint. stopped reports a cancellation before or during the
	// evaluation.
	endStep := func(done int) (stopped bool, err error) {
		if evalDue(done) {
			if stopping() {
				return true, nil
			}
			m, err := l.evaluate(d)
			if err != nil {
				if d == nil && (errors.Is(err, ErrInterrupted) || (ctx.Err() != nil && errors.Is(err, context.Canceled))) {
					return true, nil
				}
				return false, errors.Wrapf(err, "train: evaluation at step %d", done)
			}
			lastEval = m
			if err := emit(Point{Step: done, Epoch: float64(done) / float64(spe), Split: "val", Metrics: m}); err != nil {
				return false, err
			}
			progress.log(fmt.Sprintf("step %d eval %s", done, formatMetrics(m)))
			if v, ok := m[l.Best]; ok && l.Best != "" {
				if !math.IsNaN(v) && (math.IsNaN(best) || (l.BestMax && v > best) || (!l.BestMax && v < best)) {
					best, bestStep = v, done
					if root {
						bestPath := filepath.Join(ckptDir, bestName)
						if err := graph.SaveStore(bestPath, l.Store, map[string]string{"step": strconv.Itoa(done), l.Best: strconv.FormatFloat(v, 'g', -1, 64)}); err != nil {
							return false, err
						}
						if err := checkpointed("best", bestPath, done); err != nil {
							return false, err
						}
					}
				}
				if l.Plateau != nil {
					l.Plateau.Observe(v)
				}
			}
			if c.CheckpointEvery <= 0 {
				if err := saveLast(done, false); err != nil {
					return false, err
				}
			}
			if root {
				if err := l.plot(); err != nil {
					fmt.Fprintf(l.Log, "warning: learning curve: %v\n", err)
				}
			}
		}
		if c.CheckpointEvery > 0 && done%c.CheckpointEvery == 0 {
			if err := saveLast(done, false); err != nil {
				return false, err
			}
		}
		return false, nil
	}
	if pendingEval {
		stopped, err := endStep(start)
		if err != nil {
			return nil, err
		}
		if stopped {
			return interrupt(start, true)
		}
	}
	step := start
	for ; step < total; step++ {
		if stopping() {
			return interrupt(step, false)
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
		stopped, err := endStep(done)
		if err != nil {
			return nil, err
		}
		if stopped {
			return interrupt(done, true)
		}
	}
	if d != nil {
		if err := d.checkSame(); err != nil {
			return nil, err
		}
	}
	if err := saveLast(step, false); err != nil {
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
	if sum.Seconds > 0 {
		sum.ItemsPerSec = float64(items) / sum.Seconds
	}
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

// finished is Run's end for a resumed run with no step left: the run's summary
// (summary.json, or one rebuilt from the checkpoint and metrics.jsonl, written
// when summary.json is missing) and ErrFinished. Nothing else is written.
func (l *Loop) finished(root bool, step, total, spe int, best float64, bestStep int, lastPath string, d *distRun) (*Summary, error) {
	sum := &Summary{Steps: step, Epochs: float64(step) / float64(spe), BestStep: bestStep, ItemName: l.ItemName,
		Threads: threads(l.Common.Threads), Checkpoint: lastPath}
	if d != nil {
		sum.Ranks = d.size
	}
	if l.Best != "" && !math.IsNaN(best) {
		sum.Best = map[string]float64{l.Best: best}
	}
	path := filepath.Join(l.Dir, "summary.json")
	if root {
		raw, err := os.ReadFile(path)
		saved, derr := decodeSummary(raw)
		if err == nil && derr == nil {
			sum = &saved
		} else {
			points, _ := readPoints(filepath.Join(l.Dir, "metrics.jsonl"))
			for _, p := range points {
				if p.Step == step && p.Split != "train" {
					sum.Final = p.Metrics
				}
			}
			if errors.Is(err, os.ErrNotExist) {
				if err := WriteJSON(path, sum); err != nil {
					return nil, err
				}
			}
		}
	}
	fmt.Fprintf(l.Log, "%s is finished (step %d of %d): nothing left to train; the run is left as it is\n", l.Dir, step, total)
	return sum, fmt.Errorf("train: run %s is finished (step %d of %d): %w", l.Dir, step, total, ErrFinished)
}

// sameDir reports whether two paths name the same directory.
func sameDir(a, b string) bool {
	if filepath.Clean(a) == filepath.Clean(b) {
		return true
	}
	fa, errA := os.Stat(a)
	fb, errB := os.Stat(b)
	return errA == nil && errB == nil && os.SameFile(fa, fb)
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
// evalPending (metadata eval_due) records that the evaluation due after step
// has not run: the resumed run runs it first.
func (l *Loop) save(path string, step int, best float64, bestStep int, win window, state map[string]*tensor.Dense, evalPending bool) error {
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
	if evalPending {
		meta["eval_due"] = "true"
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

// restored is what a checkpoint gives the loop besides the tensors.
type restored struct {
	step, bestStep int
	best           float64
	win            window
	evalDue        bool
}

// restore reads the checkpoint at path into the store, solver, task and plateau;
// total is the run's number of steps, which the checkpoint's step may not pass.
func (l *Loop) restore(path string, total int) (restored, error) {
	r, err := l.restoreState(path, total)
	if err != nil {
		return r, errors.Wrapf(err, "train: resume %s", path)
	}
	return r, nil
}

func (l *Loop) restoreState(path string, total int) (r restored, err error) {
	ts, meta, err := graph.LoadTensors(path)
	if err != nil {
		return r, err
	}
	ints := map[string]*int{"step": &r.step, "best_step": &r.bestStep, "win_steps": &r.win.steps}
	for _, k := range sortedKeys(ints) {
		if *ints[k], err = strconv.Atoi(meta[k]); err != nil {
			return r, errors.Errorf("bad %s %q in the metadata", k, meta[k])
		}
	}
	floats := map[string]*float64{"best": &r.best, "win_loss": &r.win.loss}
	for _, k := range sortedKeys(floats) {
		if *floats[k], err = strconv.ParseFloat(meta[k], 64); err != nil {
			return r, errors.Errorf("bad %s %q in the metadata", k, meta[k])
		}
	}
	switch {
	case r.step < 0 || r.step > total:
		return r, errors.Errorf("checkpoint of step %d, outside this run's steps 0 to %d (--epochs, --max-steps)", r.step, total)
	case r.bestStep < -1 || r.bestStep > r.step:
		return r, errors.Errorf("best_step %d in the metadata of a checkpoint of step %d", r.bestStep, r.step)
	case r.win.steps < 0 || r.win.steps > r.step:
		return r, errors.Errorf("win_steps %d in the metadata of a checkpoint of step %d", r.win.steps, r.step)
	}
	r.evalDue = meta["eval_due"] == "true"
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
			return r, errors.Errorf("unexpected tensor %q", k)
		}
	}
	if err := graph.AssignStore(l.Store, groups["param/"]); err != nil {
		return r, err
	}
	if err := l.Solver.LoadState(groups["solver/"]); err != nil {
		return r, err
	}
	if st, ok := l.Task.(StatefulTask); ok {
		if err := st.SetTaskState(groups["task/"]); err != nil {
			return r, err
		}
	}
	if l.Plateau != nil && meta["plateau"] != "" {
		var ps solvers.PlateauState
		if err := json.Unmarshal([]byte(meta["plateau"]), &ps); err != nil {
			return r, err
		}
		if err := l.Plateau.LoadState(ps); err != nil {
			return r, err
		}
	}
	return r, nil
}

// truncateMetrics keeps the metrics lines of steps up to step, dropping those a
// run wrote after its last checkpoint and the extra lines a run stopped early
// (--max-steps, Ctrl-C) wrote at its last step off the logging schedule (total
// is the resumed run's last step, where such lines belong), so that a resumed
// run's metrics.jsonl reads as the uninterrupted run's. The lines after the last
// one kept are dropped whatever they hold (a torn line, NULs of a crash); a line
// that is not a metrics point before a kept one is an error naming it.
func (l *Loop) truncateMetrics(path string, step, total, logEvery, evalEvery int) error {
	raw, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return errors.Wrap(err, "train: resume")
	}
	var (
		kept    bytes.Buffer
		history []Point
		bad     = -1 // the first line that is no point
	)
	lines := bytes.Split(raw, []byte("\n"))
	for i, line := range lines {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		p, err := decodePoint(line)
		if err != nil {
			if bad < 0 {
				bad = i
			}
			continue
		}
		onSchedule := p.Step == total || (p.Split == "train" && p.Step%logEvery == 0) || (p.Split != "train" && p.Step%evalEvery == 0)
		if p.Step < step || (p.Step == step && onSchedule) {
			if bad >= 0 {
				return errors.Errorf("train: resume: %s line %d is not a metrics point (%s), and points of steps up to the checkpoint's %d follow it",
					path, bad+1, excerpt(lines[bad]), step)
			}
			kept.Write(line)
			kept.WriteByte('\n')
			history = append(history, p)
		}
	}
	l.history = append(l.history, history...)
	if bytes.Equal(kept.Bytes(), raw) {
		return nil
	}
	return atomicfile.WriteFile(path, kept.Bytes(), 0o644)
}

// excerpt quotes the start of a line for an error message.
func excerpt(line []byte) string {
	const n = 40
	if len(line) > n {
		return strconv.Quote(string(line[:n])) + "..."
	}
	return strconv.Quote(string(line))
}

// readPoints returns the metrics points of a metrics.jsonl up to its first line
// that is not one.
func readPoints(path string) ([]Point, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	points, _, _ := decodePoints(raw)
	return points, nil
}

// WriteJSON writes v as indented JSON to path atomically; a non-finite float is
// written as the string "NaN", "+Inf" or "-Inf" (see values.go).
func WriteJSON(path string, v any) error {
	raw, err := marshalJSON(v, true)
	if err != nil {
		return errors.Wrapf(err, "writing %s", path)
	}
	return atomicfile.WriteFile(path, append(raw, '\n'), 0o644)
}
