package train

import (
	"cmp"

	"github.com/triadml/triad/solvers"
)

// Common holds the settings every experiment takes; embed it in an experiment's
// config struct.
type Common struct {
	Out      string `json:"out" help:"run directory (default runs/<experiment>/<UTC time>)"`
	Resume   string `json:"resume" help:"run directory to continue from its last checkpoint"`
	Seed     uint64 `json:"seed" help:"seed of every random stream"`
	Threads  int    `json:"threads" help:"CPU threads (0: all)"`
	Epochs   int    `json:"epochs" help:"training epochs"`
	MaxSteps int    `json:"max_steps" help:"stop after this many training steps, whatever the epochs (0: no limit)"`
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
