package train

import (
	"cmp"

	"github.com/pkg/errors"

	"github.com/triadml/triad/solvers"
)

// Common holds the settings every experiment takes; embed it in an experiment's
// config struct.
type Common struct {
	// Out is the run directory of a new run. A directory that already holds a
	// run (config.json, metrics.jsonl or checkpoints/) is refused unless
	// Overwrite is set. When resuming, Out is Resume, whatever was set.
	Out string `json:"out" help:"run directory (default runs/<experiment>/<UTC time>)"`
	// Resume continues the run in this directory from its last checkpoint,
	// writing to that directory and nowhere else. It is never read from a config
	// file: only the flag (or the field set in code) resumes.
	Resume string `json:"resume" help:"run directory to continue from its last checkpoint, writing to it"`
	// Overwrite lets a new run replace the run in Out: the files of that run
	// (config.json, metrics.jsonl, summary.json, learning_curve.png,
	// checkpoints/ and sub-runs such as fold-NN/) are deleted first; other files
	// stay until the new run writes its own. Open consumes it (sets it back to
	// false), so it is never written to config.json, and it is never read from a
	// config file.
	Overwrite bool   `json:"overwrite,omitempty" help:"replace the run already in --out (its config, metrics, checkpoints and sub-runs are deleted)"`
	Seed      uint64 `json:"seed" help:"seed of every random stream"`
	Threads   int    `json:"threads" help:"CPU threads (0: all)"`
	Epochs    int    `json:"epochs" help:"training epochs"`
	MaxSteps  int    `json:"max_steps" help:"stop after this many training steps, whatever the epochs (0: no limit)"`
	// EvalEvery evaluates every N steps (0: at the end of each epoch).
	EvalEvery int `json:"eval_every" help:"evaluate every N steps (0: at the end of each epoch)"`
	LogEvery  int `json:"log_every" help:"write a training metrics line every N steps"`
	// CheckpointEvery writes the last checkpoint every N steps (0: at evaluations).
	CheckpointEvery int `json:"checkpoint_every" help:"write the last checkpoint every N steps (0: at each evaluation)"`
	// Optimizer names the solver (solvers.New); empty keeps the experiment's own.
	Optimizer string `json:"optimizer,omitempty" help:"solver by name: adam, adamw, rmsprop, sgd, adagrad (empty: the experiment's own)"`
	// Dist selects data-parallel training: "" (one process) or "mpi" (see Comm).
	Dist string `json:"dist" help:"data-parallel training: mpi (start with mpirun -np N; needs a build with -tags mpi), or empty for one process"`
}

// Validate reports settings no run can have: a negative count, thread number or
// interval, or neither epochs nor a step limit. Open calls it; a failure is a
// usage error.
func (c *Common) Validate() error {
	for _, f := range []struct {
		name string
		v    int
	}{
		{"epochs", c.Epochs}, {"max-steps", c.MaxSteps}, {"threads", c.Threads}, {"eval-every", c.EvalEvery},
		{"log-every", c.LogEvery}, {"checkpoint-every", c.CheckpointEvery},
	} {
		if f.v < 0 {
			return errors.Errorf("--%s %d: want 0 or more", f.name, f.v)
		}
	}
	if c.Epochs == 0 && c.MaxSteps == 0 {
		return errors.New("--epochs and --max-steps are both 0: nothing to train")
	}
	return nil
}

// TotalSteps returns the number of training steps of a run with stepsPerEpoch
// steps an epoch: Epochs of them, cut to MaxSteps when that is set and smaller.
func (c Common) TotalSteps(stepsPerEpoch int) int {
	total := c.Epochs * stepsPerEpoch
	if c.MaxSteps > 0 && (total == 0 || c.MaxSteps < total) {
		total = c.MaxSteps
	}
	return total
}

// Solver returns the solver --optimizer names, or the experiment's own (name)
// when it names none, with the hyperparameters h over that solver's defaults. A
// hyperparameter the chosen solver does not have is dropped when the solver is
// not the experiment's own (Adam has no alpha for RMSProp's).
func (c Common) Solver(name string, h solvers.Hyper) (solvers.Solver, error) {
	chosen := cmp.Or(c.Optimizer, name)
	if chosen != name {
		h = solvers.Only(chosen, h)
	}
	s, err := solvers.New(chosen, h)
	return s, Usage(err)
}

// Settings returns c itself: through embedding, every experiment's config has
// it, so code generic over configs reaches their common settings.
func (c *Common) Settings() *Common { return c }
