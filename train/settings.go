package train

import (
	"github.com/triadml/triad/datasets"
	"github.com/triadml/triad/solvers"
)

// Optim holds the optimisation settings that most experiments share: the
// mini-batch, the learning rate and the clipping of the gradient norm. Embed it
// in an experiment's config; the embedding field's tag may reword a help text
// for the experiment (see BindFlags).
type Optim struct {
	Batch    int     `json:"batch" help:"examples per training step"`
	LR       float64 `json:"lr" help:"learning rate"`
	ClipNorm float64 `json:"clip_norm" help:"clip the global gradient norm (0: off)"`
}

// EvalSet is the size of the held-out set of an experiment that decodes or
// scores held-out examples: one flag, --eval-size, in every such experiment,
// bounding every evaluation, the final one included. Embed it in the config;
// the embedding field's alias.eval_size tag keeps the experiment's older name
// loading.
type EvalSet struct {
	EvalSize int `json:"eval_size" help:"held-out examples every evaluation uses, the final one included (0: the whole validation split)"`
}

// Of returns how many of n held-out examples an evaluation uses: EvalSize, or n
// where EvalSize is 0 or larger.
func (e EvalSet) Of(n int) int {
	if e.EvalSize > 0 && e.EvalSize < n {
		return e.EvalSize
	}
	return n
}

// Data is the directory of an experiment's dataset. Left empty, the registered
// dataset is found through $TRIAD_DATA or the cache (datasets.Find), so that a
// run needs no path on a machine that has the data; set, it is read as it is.
// Embed it in the config; the embedding field's help.data_dir tag says which
// files the directory holds.
type Data struct {
	DataDir string `json:"data_dir" help:"directory holding the dataset's files (default: found through $TRIAD_DATA or the cache)"`
}

// Find returns DataDir, or the directory of the registered dataset name where
// DataDir is empty. A dataset that cannot be found is a usage error.
func (d Data) Find(name string) (string, error) {
	if d.DataDir != "" {
		return d.DataDir, nil
	}
	dir, err := datasets.Find(name)
	if err != nil {
		return "", Usage(err)
	}
	return dir, nil
}

// Cosine is the learning-rate schedule of the experiments that warm up
// linearly to the peak rate (Optim's LR) and then follow a half cosine down to
// MinLR at the run's last step.
type Cosine struct {
	MinLR  float64 `json:"min_lr" help:"learning rate at the end of the cosine schedule"`
	Warmup int     `json:"warmup" help:"linear warm-up steps"`
}

// Schedule returns the schedule from the peak rate lr over a run of total
// steps.
func (c Cosine) Schedule(lr float64, total int) (solvers.Schedule, error) {
	return solvers.CosineOver(lr, c.MinLR, c.Warmup, total)
}

// StepDecay is the learning-rate schedule of the experiments that keep the
// rate for the first DecayAfter epochs and then multiply it by Decay every
// epoch (solvers.WarmupDecay).
type StepDecay struct {
	Decay      float64 `json:"lr_decay" help:"learning-rate factor per epoch after lr_decay_after"`
	DecayAfter int     `json:"lr_decay_after" help:"epochs at the full learning rate"`
}

// Schedule returns the schedule from the rate lr, without warm-up, for epochs
// of stepsPerEpoch steps.
func (d StepDecay) Schedule(lr float64, stepsPerEpoch int) solvers.WarmupDecay {
	return solvers.WarmupDecay{Base: lr, Decay: d.Decay, After: d.DecayAfter, StepsPerEpoch: stepsPerEpoch}
}
