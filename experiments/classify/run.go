package classify

import (
	"context"
	"fmt"
	"io"

	"github.com/pkg/errors"

	"github.com/triadml/triad/datasets"
	"github.com/triadml/triad/train"
)

// Summary is the outcome of a run: the figures of its single split or of its
// cross-validation.
type Summary struct {
	// Dir is the run directory.
	Dir string
	// Dataset is the dataset the run classified.
	Dataset string
	// Split is result.json of a single train/validation split (SNIPS); nil in
	// cross-validation.
	Split *Result
	// CV is summary.json of a cross-validated run (rt-polarity); nil for a
	// single split.
	CV *CVSummary
}

// String returns the run's result on one line.
func (s *Summary) String() string {
	if c := s.CV; c != nil {
		return fmt.Sprintf("%d/%d folds, accuracy %.4f +- %.4f (mean +- sample std; pooled %.4f), %.0f s, %d threads; run %s",
			c.Completed, c.Folds, c.AccuracyMean, c.AccuracyStd, c.PooledAcc, c.Seconds, c.Threads, s.Dir)
	}
	r := s.Split
	return fmt.Sprintf("%s validation accuracy %.4f (macro F1 %.4f) from step %d, %.0f s, %d threads; run %s",
		s.Dataset, r.Accuracy, r.MacroF1, r.Step, r.Seconds, r.Threads, s.Dir)
}

// Run trains and evaluates a run: SNIPS on its train and valid splits, the best
// validation accuracy selecting the weights; rt-polarity by k-fold
// cross-validation, each fold (those not yet done when resuming) in a directory
// fold-NN of its own. It writes config.json, metrics.jsonl, summary.json, the
// confusion matrix and attention.html in the run directory and logs to log (nil:
// os.Stderr). A cancelled ctx stops it with train.ErrInterrupted.
func Run(ctx context.Context, cfg Config, log io.Writer) (sum *Summary, err error) {
	s, err := train.Open(ctx, "classify", &cfg, log)
	if err != nil {
		return nil, err
	}
	defer s.Close(&err)
	data, err := cfg.Find(cfg.Dataset)
	if err != nil {
		return nil, err
	}
	if err := s.WriteConfig(); err != nil {
		return nil, err
	}
	x := &runner{cfg: cfg, s: s, ctx: ctx}
	sum = &Summary{Dir: s.Dir, Dataset: cfg.Dataset}
	if cfg.crossValidated() {
		examples, labels, err := datasets.LoadRTPolarity(data)
		if err != nil {
			return nil, train.Usage(err)
		}
		// a class without sentences would make every fold's accuracy a trivial 1
		count := make([]int, len(labels))
		for _, e := range examples {
			count[e.Label]++
		}
		for label, n := range count {
			if n == 0 {
				return nil, train.Usage(errors.Errorf("%s: no %s sentences (rt-polarity.%s is empty)", data, labels[label], []string{"neg", "pos"}[label]))
			}
		}
		if sum.CV, err = x.crossValidate(examples, labels); err != nil {
			return nil, err
		}
		s.Logf("classify: %s", sum)
		return sum, nil
	}
	trainEx, labels, err := datasets.LoadSNIPS(data, "train")
	if err != nil {
		return nil, train.Usage(err)
	}
	valEx, _, err := datasets.LoadSNIPS(data, "valid")
	if err != nil {
		return nil, train.Usage(err)
	}
	if sum.Split, err = x.split(s.Dir, trainEx, valEx, labels, cfg.Resume); err != nil {
		return nil, err
	}
	s.Logf("classify: %s", sum)
	return sum, nil
}

// runner trains and evaluates one configuration in a session.
type runner struct {
	cfg Config
	s   *train.Session
	ctx context.Context
}
