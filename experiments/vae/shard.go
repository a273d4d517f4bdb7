package vae

import (
	"strconv"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/train"
)

var _ train.ShardedEvaluator = (*task)(nil)

// SetShard makes the task train on rows [rank*n/size, (rank+1)*n/size) of every
// batch of n images and evaluate the same part of the test set.
//
// The loss is a mean over the images, so a shard's gradient and loss are
// scaled by size*rows/n, which makes their mean over the ranks the whole
// batch's when the last batch of an epoch does not split evenly. The latent
// noise of image i of a step is the values from counter i*Latent of the key a
// single process draws from its stream ("noise/<step>", graph.Sampler), and
// likewise for the evaluation's fixed key, so that a group trains and
// evaluates as one process does, to rounding. The training sums since the last
// evaluation are the shard's own (rank 0 keeps those restored from a
// checkpoint); the loop adds them up in checkpoints, and EvaluateSums in the
// evaluation.
func (t *task) SetShard(rank, size int) error {
	return t.Set("vae", rank, size, t.cfg.Batch, t.progs.Len() > 0 || t.evals.Len() > 0, nil)
}

// evalKey is the key of the evaluation's eps, the same at every evaluation.
func (t *task) evalKey() uint64 { return graph.NewRNG(t.cfg.Seed, "vae/eval").Uint64() }

// trainShard is TrainStep on the shard's rows of the step's batch idx (more
// than one rank).
func (t *task) trainShard(step int, idx []int) (train.Result, error) {
	t.lastStep = step
	lo, hi := t.Span(len(idx))
	if lo == hi { // a last batch of fewer images than ranks
		return train.Result{}, nil
	}
	key := graph.NewRNG(t.cfg.Seed, "noise/"+strconv.Itoa(step)).Uint64() // the one process's
	loss, recon, kl, err := t.run(t.progs, t.data.Train, idx[lo:hi], t.model.VAE.Config.BetaAt(step), key, lo*t.model.VAE.Config.Latent)
	if err != nil {
		return train.Result{}, err
	}
	w := t.ScaleGrads(t.model.store.Params(), hi-lo, len(idx))
	n := float64(hi - lo)
	t.sums[0] += (recon + kl) * n
	t.sums[1] += recon * n
	t.sums[2] += kl * n
	t.sums[3] += n
	return train.Result{Loss: loss * w, Items: hi - lo}, nil
}

// EvaluateSums returns the sums over the shard's test images of the negative
// ELBO and its terms, their count, and the shard's training sums since the last
// evaluation, which it then resets.
func (t *task) EvaluateSums() (map[string]float64, error) {
	lo, hi := t.Span(t.nTest)
	nelbo, recon, kl, err := t.testSums(lo, hi, t.evalKey())
	if err != nil {
		return nil, err
	}
	s := map[string]float64{"test_nelbo": nelbo, "test_recon": recon, "test_kl": kl, "test_images": float64(hi - lo),
		"train_nelbo": t.sums[0], "train_recon": t.sums[1], "train_kl": t.sums[2], "train_images": t.sums[3]}
	t.sums = [4]float64{}
	return s, nil
}

// MetricsFromSums returns Evaluate's metrics from the sums of every rank's
// EvaluateSums; rank 0 writes the figures.
func (t *task) MetricsFromSums(s map[string]float64) (map[string]float64, error) {
	n := s["test_images"]
	if n <= 0 {
		return nil, errors.New("vae: no test images")
	}
	m := map[string]float64{"test_nelbo": s["test_nelbo"] / n, "test_recon": s["test_recon"] / n, "test_kl": s["test_kl"] / n}
	if tn := s["train_images"]; tn > 0 {
		m["train_nelbo"] = s["train_nelbo"] / tn
		m["train_recon"] = s["train_recon"] / tn
		m["train_kl"] = s["train_kl"] / tn
	}
	if t.Rank == 0 {
		if err := t.figures(); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// sumsState returns the training sums as a task-state tensor: float64 in one
// process; of the parameters' dtype in a group, whose loop adds the ranks'
// states in that dtype.
func (t *task) sumsState() *tensor.Dense {
	dt := tensor.Float64
	if t.Size > 0 {
		dt = t.model.store.Dtype()
	}
	return graph.FromFloat64s(dt, t.sums[:], len(t.sums))
}

// restoreSums sets the training sums from a checkpoint's (of either float
// dtype); in a group only rank 0 keeps them, so that the ranks' sums add up to
// the whole.
func (t *task) restoreSums(m map[string]*tensor.Dense) error {
	s, ok := m["train_sums"]
	if !ok || s.Shape().TotalSize() != len(t.sums) || (s.Dtype() != tensor.Float64 && s.Dtype() != tensor.Float32) {
		return errors.Errorf("checkpoint has no train_sums of %d float values", len(t.sums))
	}
	copy(t.sums[:], graph.Float64s(s))
	if t.Rank > 0 {
		t.sums = [4]float64{}
	}
	return nil
}
