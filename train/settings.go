package train

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
