// Package train is the experiment loop every triad program shares: steps and
// epochs, learning-rate schedules and gradient clipping, evaluation every N steps,
// metrics.jsonl with a readable log line or a progress bar, last and best
// checkpoints, resuming that continues bitwise-identically, a clean stop on Ctrl-C,
// and a learning-curve PNG. It also binds an experiment's config struct to
// command-line flags.
//
// Determinism: everything random in a step (the batch order of its epoch, the
// dropout masks) is drawn from streams derived from the seed and the step number,
// so a run resumed at step k sees exactly the batches and masks the uninterrupted
// run saw.
package train
