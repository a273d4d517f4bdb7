// Package train is the experiment loop every triad program shares: steps and
// epochs, learning-rate schedules and gradient clipping, evaluation every N steps,
// metrics.jsonl (and TensorBoard events files) with a readable log line or a
// progress bar, last and best checkpoints, resuming that continues bitwise-identically, a clean stop on Ctrl-C,
// and a learning-curve PNG. It also binds an experiment's config struct to
// command-line flags.
//
// The run lifecycle (Open, Session, Loop.Run) is shared by every experiment: a
// resumed run writes its own directory and nowhere else; a new run refuses a
// directory that holds a run unless --overwrite; the directory is locked while a
// process writes it; config.json of a resumed run is written once the
// checkpoint is restored; a finished run resumed is left as it is (ErrFinished);
// a torn tail of metrics.jsonl does not block a resume; a run that fails before
// training leaves no directory; the first SIGINT or SIGTERM (SignalContext)
// stops with a checkpoint of the last finished step, the second exits at once;
// non-finite metrics are written as strings.
//
// Determinism: everything random in a step (the batch order of its epoch, the
// dropout masks) is drawn from streams derived from the seed and the step number,
// so a run resumed at step k sees exactly the batches and masks the uninterrupted
// run saw.
package train
