package demo

import (
	"context"
	"io"
	"time"

	"github.com/triadml/triad/solvers"
	"github.com/triadml/triad/train"
)

// Summary is what a run ends with: the training loop's summary (what
// summary.json holds), the run directory and the held-out results (what
// results.json holds; nil when the run stopped early).
type Summary struct {
	train.Summary
	Dir     string   `json:"-"`
	Results *Results `json:"-"`
}

// Run trains the model of cfg on fresh dates, then evaluates it on the held-out
// set and draws its attention; it logs to log (nil: os.Stderr). When ctx is
// cancelled it stops with a checkpoint and returns the summary so far and
// train.ErrInterrupted.
func Run(ctx context.Context, cfg Config, log io.Writer) (sum *Summary, err error) {
	s, err := train.Open(ctx, "demo", &cfg, log)
	if err != nil {
		return nil, err
	}
	defer s.Close(&err)
	start := time.Now()
	t, err := newTask(cfg)
	if err != nil {
		return nil, err
	}
	defer func() {
		if cerr := t.close(); err == nil {
			err = cerr
		}
	}()
	if err := s.WriteConfig(); err != nil {
		return nil, err
	}
	adam := solvers.DefaultAdamConfig()
	adam.LR = cfg.LR
	solver, err := solvers.NewAdam(adam)
	if err != nil {
		return nil, train.Usage(err)
	}
	sched, err := solvers.CosineOver(cfg.LR, cfg.LR/10, cfg.Warmup, cfg.Common.TotalSteps(StepsPerEpoch))
	if err != nil {
		return nil, train.Usage(err)
	}
	loop := s.Loop()
	loop.Store, loop.Solver, loop.Schedule, loop.ClipNorm, loop.Task = t.store, solver, sched, cfg.ClipNorm, t
	loop.Best, loop.BestMax, loop.ItemName = "val_exact", true, "tokens"
	s.Logf("demo: %s model, %d parameters, %d source / %d target characters, %d held-out dates, run %s",
		cfg.Model, t.store.Count(), len(t.src.chars), len(t.tgt.chars), len(t.test), s.Dir)
	for _, ex := range t.test[:min(3, len(t.test))] {
		s.Logf("  e.g. %q -> %q", ex.Source, ex.Target)
	}
	ts, err := loop.Run(ctx)
	if ts != nil {
		sum = &Summary{Summary: *ts, Dir: s.Dir}
	}
	if err != nil {
		return sum, err
	}
	sum.Results, err = t.report(s, ts, start)
	return sum, err
}
