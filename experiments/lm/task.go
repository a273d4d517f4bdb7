package lm

import (
	"math"
	"math/rand/v2"
	"strconv"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/datasets/batch"
	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/models/rnn"
	"github.com/triadml/triad/train"
)

// task trains on contiguous windows of the training stream, carrying the
// recurrent state from one window into the next (truncated back-propagation
// through time) and resetting it at the start of each epoch.
//
// It is a train.ShardedEvaluator: rank r of n takes columns [r*B/n, (r+1)*B/n)
// of every window of the B-column streams, for training and validation, so the
// global batch is the single process's. The carry has all B columns on every
// rank; after a step a rank's carry holds its own columns' new state and zeros
// elsewhere, and the loop sums the ranks' carries into each checkpoint.
type task struct {
	cfg        Config
	lm         *rnn.LM
	store      *graph.Store
	prog, eval *rnn.LMProgram // built at first use, for the shard's columns
	stream     *batch.Stream
	val        *batch.Stream
	carry      rnn.LMState // all B columns
	part       rnn.LMState // the shard's columns (the carry itself in one process)
	evalState  rnn.LMState // the shard's columns
	windows    int
	rank, size int // the shard: rank of size
}

// newTask lays the token ids out as cfg.Batch parallel streams. A corpus too
// small for one window of training and of validation is a usage error.
func newTask(cfg Config, m *rnn.LM, store *graph.Store, trainIDs, valIDs []int) (*task, error) {
	t := &task{cfg: cfg, lm: m, store: store, size: 1}
	var err error
	if t.stream, err = batch.Batchify(trainIDs, cfg.Batch); err != nil {
		return nil, train.Usage(err)
	}
	if t.val, err = batch.Batchify(valIDs, cfg.Batch); err != nil {
		return nil, train.Usage(err)
	}
	t.windows = (t.stream.Steps() - 1) / cfg.SeqLen
	if t.windows == 0 || (t.val.Steps()-1)/cfg.SeqLen == 0 {
		return nil, train.Usage(errors.Errorf("the corpus is too small for batch %d x seq_len %d", cfg.Batch, cfg.SeqLen))
	}
	t.carry = m.NewState(tensor.Float32, cfg.Batch)
	t.part = t.carry
	return t, nil
}

// StepsPerEpoch is the number of windows of the training stream.
func (t *task) StepsPerEpoch() int { return t.windows }

// TrainStep trains on window step mod StepsPerEpoch from the carried state,
// which it starts from zeros at each epoch.
func (t *task) TrainStep(step int, noise *rand.Rand) (train.Result, error) {
	if t.prog == nil {
		var err error
		if t.prog, err = t.lm.Build(t.store, graph.Train, t.cfg.Batch/t.size, t.cfg.SeqLen, false); err != nil {
			return train.Result{}, err
		}
	}
	pos := step % t.windows
	if pos == 0 {
		t.carry.Zero()
	}
	x, y, err := t.stream.Batch(pos*t.cfg.SeqLen, t.cfg.SeqLen)
	if err != nil {
		return train.Result{}, err
	}
	x, y = t.shard(x), t.shard(y)
	if t.size > 1 {
		t.copyRows(true)
	}
	t.prog.SetNoise(noise)
	if err := runWindow(t.prog, x, y, t.part); err != nil {
		return train.Result{}, err
	}
	if t.size > 1 {
		t.copyRows(false)
	}
	out, _ := t.prog.Output("loss")
	return train.Result{Loss: graph.Scalar(out), Items: len(x)}, nil
}

// runWindow runs p on one window from state, which it then holds the final
// state.
func runWindow(p *rnn.LMProgram, x, y []int, state rnn.LMState) error {
	if err := p.Feed(x, y); err != nil {
		return err
	}
	if err := p.SetState(state); err != nil {
		return err
	}
	if err := p.Run(); err != nil {
		return err
	}
	return p.CopyFinalState(state)
}

// Evaluate runs the whole validation stream in full windows, carrying the state,
// and returns the mean loss per token (nats) and the perplexity. (After
// SetShard with more than one rank it sees only the shard's columns; the loop
// then uses EvaluateSums.)
func (t *task) Evaluate() (map[string]float64, error) { return train.EvaluateSummed(t) }

// EvaluateSums runs the shard's columns of the validation stream and returns
// the sum of the windows' mean losses and the number of windows.
func (t *task) EvaluateSums() (map[string]float64, error) {
	if t.eval == nil {
		var err error
		if t.eval, err = t.lm.Build(t.store, graph.Eval, t.cfg.Batch/t.size, t.cfg.SeqLen, false); err != nil {
			return nil, err
		}
		t.evalState = t.lm.NewState(tensor.Float32, t.cfg.Batch/t.size)
	}
	t.evalState.Zero()
	n := (t.val.Steps() - 1) / t.cfg.SeqLen
	var sum float64
	for w := 0; w < n; w++ {
		x, y, err := t.val.Batch(w*t.cfg.SeqLen, t.cfg.SeqLen)
		if err != nil {
			return nil, err
		}
		if err := runWindow(t.eval, t.shard(x), t.shard(y), t.evalState); err != nil {
			return nil, err
		}
		out, _ := t.eval.Output("loss")
		sum += graph.Scalar(out)
	}
	return map[string]float64{"loss": sum, "windows": float64(n)}, nil
}

// MetricsFromSums returns the mean loss per token (nats) and the perplexity from
// the sums of EvaluateSums: with equal shards, the mean of the windows' mean
// losses over all ranks is that of the whole batch.
func (t *task) MetricsFromSums(s map[string]float64) (map[string]float64, error) {
	if s["windows"] <= 0 {
		return nil, errors.New("lm: no validation windows")
	}
	loss := s["loss"] / s["windows"]
	return map[string]float64{"val_loss": loss, "val_ppl": math.Exp(loss)}, nil
}

// TaskState is the carried recurrent state.
func (t *task) TaskState() map[string]*tensor.Dense {
	m := map[string]*tensor.Dense{}
	for k, h := range t.carry.H {
		m["carry.h."+strconv.Itoa(k)] = h
	}
	for k, c := range t.carry.C {
		m["carry.c."+strconv.Itoa(k)] = c
	}
	return m
}

// SetTaskState restores the carried state.
func (t *task) SetTaskState(m map[string]*tensor.Dense) error {
	set := func(dst *tensor.Dense, name string) error {
		src, ok := m[name]
		if !ok || !src.Shape().Eq(dst.Shape()) || src.Dtype() != dst.Dtype() {
			return errors.Errorf("checkpoint has no %s of shape %v", name, dst.Shape())
		}
		copy(graph.Slice[float32](dst), graph.Slice[float32](src))
		return nil
	}
	for k, h := range t.carry.H {
		if err := set(h, "carry.h."+strconv.Itoa(k)); err != nil {
			return err
		}
	}
	for k, c := range t.carry.C {
		if err := set(c, "carry.c."+strconv.Itoa(k)); err != nil {
			return err
		}
	}
	return nil
}
