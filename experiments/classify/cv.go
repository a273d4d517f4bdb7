package classify

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/pkg/errors"

	"github.com/triadml/triad/datasets"
	"github.com/triadml/triad/datasets/batch"
	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/metrics"
	"github.com/triadml/triad/train"
)

// CVSummary is summary.json of a cross-validated run.
type CVSummary struct {
	Folds        int     `json:"folds"`
	Completed    int     `json:"completed_folds"`
	AccuracyMean float64 `json:"accuracy_mean"`
	// AccuracyStd is the sample standard deviation of the folds' accuracies.
	AccuracyStd float64   `json:"accuracy_std"`
	MacroF1Mean float64   `json:"macro_f1_mean"`
	PerFold     []float64 `json:"accuracy_per_fold"`
	// PooledAcc is the accuracy over every sentence, each predicted once, by the
	// model that did not train on it.
	PooledAcc float64 `json:"accuracy_pooled"`
	// Seconds is the training time summed over the folds.
	Seconds float64 `json:"seconds"`
	Threads int     `json:"threads"`
}

// foldDir returns the directory of fold k (counted from 1).
func (x *runner) foldDir(k int) string { return x.s.Path(fmt.Sprintf("fold-%02d", k)) }

// crossValidate runs the folds of rt-polarity (those not completed yet when
// resuming) and writes the cross-validated figures.
func (x *runner) crossValidate(examples []datasets.Example, labels []string) (*CVSummary, error) {
	cfg := x.cfg
	n := len(examples)
	if n < cfg.Folds {
		return nil, train.Usage(errors.Errorf("%d examples for %d folds", n, cfg.Folds))
	}
	perm := batch.Perm(graph.NewRNG(cfg.Seed, "folds"), n)
	for k := 1; k <= cfg.Folds; k++ {
		if cfg.Fold != 0 && k != cfg.Fold {
			continue
		}
		fdir := x.foldDir(k)
		if _, err := os.Stat(filepath.Join(fdir, "result.json")); err == nil {
			x.s.Logf("classify: fold %d already done (%s)", k, fdir)
			continue
		}
		lo, hi := (k-1)*n/cfg.Folds, k*n/cfg.Folds
		held := map[int]bool{}
		var trainEx, valEx []datasets.Example
		for _, i := range perm[lo:hi] {
			held[i] = true
			valEx = append(valEx, examples[i])
		}
		for i, e := range examples { // the training examples keep the file order; batches are shuffled
			if !held[i] {
				trainEx = append(trainEx, e)
			}
		}
		resume := ""
		if cfg.Resume != "" {
			if _, err := os.Stat(filepath.Join(fdir, "checkpoints", "last.safetensors")); err == nil {
				resume = fdir
			}
		}
		res, err := x.split(fdir, trainEx, valEx, labels, resume)
		if err != nil {
			return nil, errors.Wrapf(err, "fold %d", k)
		}
		x.s.Logf("classify: fold %d/%d accuracy %.4f (%d held out, %.0f s)", k, cfg.Folds, res.Accuracy, len(valEx), res.Seconds)
	}
	if !x.s.Root() { // rank 0 of a group reads the folds' results and reports
		return &CVSummary{Folds: cfg.Folds}, nil
	}
	return x.summarise(labels)
}

// readFolds returns the result.json of every completed fold.
func (x *runner) readFolds() ([]Result, error) {
	var results []Result
	for k := 1; k <= x.cfg.Folds; k++ {
		raw, err := os.ReadFile(filepath.Join(x.foldDir(k), "result.json"))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, errors.Wrap(err, "classify")
		}
		var r Result
		if err := json.Unmarshal(raw, &r); err != nil {
			return nil, errors.Wrapf(err, "classify: fold %d result.json", k)
		}
		r.Fold = k
		results = append(results, r)
	}
	if len(results) == 0 {
		return nil, errors.New("classify: no fold completed")
	}
	return results, nil
}

// summarise reads the completed folds' result.json and writes the run's
// metrics.jsonl, summary.json, confusion matrix and attention page.
func (x *runner) summarise(labels []string) (*CVSummary, error) {
	results, err := x.readFolds()
	if err != nil {
		return nil, err
	}
	cm, err := metrics.NewConfusionMatrix(len(labels), labels...)
	if err != nil {
		return nil, err
	}
	s := &CVSummary{Folds: x.cfg.Folds, Completed: len(results)}
	var lines []byte
	var shown []ShownText
	for _, r := range results {
		if err := addCounts(cm, r.Counts); err != nil {
			return nil, errors.Wrapf(err, "classify: fold %d", r.Fold)
		}
		s.PerFold = append(s.PerFold, r.Accuracy)
		s.AccuracyMean += r.Accuracy / float64(len(results))
		s.MacroF1Mean += r.MacroF1 / float64(len(results))
		s.Seconds += r.Seconds
		s.Threads = r.Threads
		line, _ := json.Marshal(map[string]any{"split": "fold", "fold": r.Fold, "step": r.Step, "metrics": map[string]float64{
			"val_acc": r.Accuracy, "val_loss": r.Loss, "val_macro_f1": r.MacroF1}}) // wall time is in summary.json: metrics are reproducible
		lines = append(append(lines, line...), '\n')
		for i, t := range r.Shown {
			if i < max(1, x.cfg.Show/len(results)) {
				shown = append(shown, t)
			}
		}
	}
	if len(results) > 1 {
		var ss float64
		for _, a := range s.PerFold {
			ss += (a - s.AccuracyMean) * (a - s.AccuracyMean)
		}
		s.AccuracyStd = math.Sqrt(ss / float64(len(results)-1))
	}
	s.PooledAcc = cm.Accuracy()
	line, _ := json.Marshal(map[string]any{"split": "cv", "metrics": map[string]float64{
		"acc_mean": s.AccuracyMean, "acc_std": s.AccuracyStd, "acc_pooled": s.PooledAcc, "macro_f1_mean": s.MacroF1Mean,
		"completed_folds": float64(s.Completed)}})
	lines = append(append(lines, line...), '\n')
	if err := os.WriteFile(x.s.Path("metrics.jsonl"), lines, 0o644); err != nil {
		return nil, errors.Wrap(err, "classify")
	}
	if err := train.WriteJSON(x.s.Path("summary.json"), s); err != nil {
		return nil, err
	}
	if err := writeConfusion(x.s.Dir, cm); err != nil {
		return nil, err
	}
	title := fmt.Sprintf("%s, %s encoder: held-out sentences of each fold", x.cfg.Dataset, x.cfg.Encoder)
	if err := writeAttention(x.s.Path("attention.html"), title, x.cfg.Level, shown); err != nil {
		return nil, err
	}
	return s, nil
}

// addCounts adds a fold's confusion counts (counts[t][p]) to cm.
func addCounts(cm *metrics.ConfusionMatrix, counts [][]int) error {
	if len(counts) != cm.NumClasses() {
		return errors.Errorf("confusion matrix of %d classes, want %d", len(counts), cm.NumClasses())
	}
	for t, row := range counts {
		if len(row) != cm.NumClasses() {
			return errors.Errorf("confusion matrix row %d has %d columns", t, len(row))
		}
		for p, c := range row {
			for ; c > 0; c-- {
				if err := cm.Add(t, p); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
