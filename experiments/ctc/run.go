package ctc

import (
	"context"
	"fmt"
	"io"

	"github.com/triadml/triad/datasets/audio"
	"github.com/triadml/triad/train"
)

// Summary is what a run reports: summary.json's contents and the run directory.
type Summary struct {
	train.Summary
	// Dir is the run directory.
	Dir string `json:"-"`
}

// Run trains and evaluates a run with the settings cfg, logging to log (nil:
// os.Stderr), and returns its summary. A cancelled ctx stops it with a
// checkpoint and train.ErrInterrupted (the summary then says how far it got).
func Run(ctx context.Context, cfg Config, log io.Writer) (sum *Summary, err error) {
	s, err := train.Open(ctx, "ctc", &cfg, log)
	if err != nil {
		return nil, err
	}
	defer s.Close(&err)
	data, err := cfg.Find("fsdd")
	if err != nil {
		return nil, err
	}
	corpus, err := audio.LoadDigitCorpus(data)
	if err != nil {
		return nil, train.Usage(err)
	}
	t, err := newTask(cfg, corpus)
	if err != nil {
		return nil, err
	}
	if err := s.WriteConfig(); err != nil {
		return nil, err
	}
	utts, digits := t.testCount()
	s.Logf("ctc: bidirectional %s %dx%d, %d parameters, %d speakers, %d training / %d test recordings, %d test utterances (%d digits), buckets %v, run %s",
		cfg.Cell, cfg.Layers, cfg.Hidden, t.store.Count(), len(corpus.Speakers), corpus.Count("train"), corpus.Count("test"),
		utts, digits, t.buckets, s.Dir)
	sched, err := cfg.Cosine.Schedule(cfg.LR, cfg.Common.TotalSteps(cfg.StepsPerEpoch))
	if err != nil {
		return nil, train.Usage(err)
	}
	loop := s.Loop()
	loop.Store, loop.Solver, loop.Schedule, loop.Task = t.store, t.solver, sched, t
	loop.ClipNorm, loop.Best, loop.ItemName = cfg.ClipNorm, "test_der", "utterances"
	ts, err := loop.Run(ctx)
	if ts != nil {
		sum = &Summary{Summary: *ts, Dir: s.Dir}
	}
	if err == nil {
		s.Logf("ctc: %s", sum)
	}
	return sum, err
}

// String is the run's result in one line: the test digit error rates and
// sequence accuracy, the steps, the time and the threads.
func (s *Summary) String() string {
	return fmt.Sprintf("test digit error rate %.4f (greedy %.4f), sequence accuracy %.4f after %d steps, %.0f s, %d threads",
		s.Final["test_der"], s.Final["test_der_greedy"], s.Final["test_seq_acc"], s.Steps, s.Seconds, s.Threads)
}
