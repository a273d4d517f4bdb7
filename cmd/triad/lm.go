package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/datasets"
	"github.com/triadml/triad/datasets/batch"
	"github.com/triadml/triad/datasets/vocab"
	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/models/rnn"
	"github.com/triadml/triad/solvers"
	"github.com/triadml/triad/train"
)

func init() {
	register("lm", "language modelling on tiny-shakespeare (char or word level); `lm sample` generates text", lmMain)
}

// lmConfig holds the hyperparameters of `triad lm`. The defaults are Karpathy's
// char-rnn defaults (github.com/karpathy/char-rnn, train.lua), with the 90/10 split.
type lmConfig struct {
	train.Common
	Level      string  `json:"level" help:"char or word"`
	Cell       string  `json:"cell" help:"rnn, rnn_relu, lstm or gru"`
	Layers     int     `json:"layers" help:"recurrent layers"`
	Hidden     int     `json:"hidden" help:"hidden units per layer"`
	Embed      int     `json:"embed" help:"embedding size (0: hidden)"`
	SeqLen     int     `json:"seq_len" help:"truncated back-propagation window"`
	Batch      int     `json:"batch" help:"sequences per batch"`
	LR         float64 `json:"lr" help:"RMSProp learning rate"`
	Alpha      float64 `json:"alpha" help:"RMSProp smoothing constant (char-rnn's decay_rate)"`
	DecayAfter int     `json:"lr_decay_after" help:"epoch after which the learning rate decays"`
	Decay      float64 `json:"lr_decay" help:"learning-rate factor per epoch after lr_decay_after"`
	ClipValue  float64 `json:"clip" help:"clip every gradient component to [-clip, clip] (char-rnn's grad_clip)"`
	ClipNorm   float64 `json:"clip_norm" help:"clip the global gradient norm (0: off)"`
	Dropout    float64 `json:"dropout" help:"dropout on embeddings, between layers and before the head"`
	Tie        bool    `json:"tie" help:"tie the output head to the embedding (needs embed = hidden)"`
	MinFreq    int     `json:"min_freq" help:"word level: minimum count of a vocabulary word"`
	TrainFrac  float64 `json:"train_frac" help:"fraction of the corpus used for training (the rest validates)"`
}

func defaultLMConfig() lmConfig {
	return lmConfig{
		Common: train.Common{Seed: 1, Epochs: 50, LogEvery: 50, EvalEvery: 1000},
		Level:  "char", Cell: "lstm", Layers: 2, Hidden: 128, SeqLen: 50, Batch: 50,
		LR: 2e-3, Alpha: 0.95, DecayAfter: 10, Decay: 0.97, ClipValue: 5, MinFreq: 1, TrainFrac: 0.9,
	}
}

func lmMain(args []string) (err error) {
	if len(args) > 0 && args[0] == "sample" {
		return lmSample(args[1:])
	}
	cfg := defaultLMConfig()
	if err := parseFlags("lm", &cfg, &cfg.Common, args); err != nil {
		return err
	}
	if err := cfg.validate(); err != nil {
		return usage(err)
	}
	comm, err := startDist(&cfg.Common)
	if err != nil {
		return err
	}
	defer endDist(comm, &err)
	dir, err := runDirDist(comm, "lm", &cfg.Common)
	if err != nil {
		return err
	}
	data, err := datasets.Find("tinyshakespeare")
	if err != nil {
		return usage(err)
	}
	text, err := datasets.LoadTinyShakespeare(data)
	if err != nil {
		return usage(err)
	}
	tok, err := lmTokenizer(cfg.Level)
	if err != nil {
		return usage(err)
	}
	// split on characters, so that char and word levels validate on the same text
	runes := []rune(text)
	cut := int(float64(len(runes)) * cfg.TrainFrac)
	trainToks, valToks := tok.Tokenize(string(runes[:cut])), tok.Tokenize(string(runes[cut:]))
	counts := map[string]int{}
	for _, t := range trainToks {
		counts[t]++
	}
	voc, err := vocab.Build(counts, vocab.BuildOptions{MinFreq: cfg.MinFreq})
	if err != nil {
		return err
	}
	if isRoot(comm) {
		if err := voc.Save(filepath.Join(dir, "vocab.json")); err != nil {
			return err
		}
	}
	task, lm, store, err := newLMTask(cfg, voc.Len(), voc.Encode(trainToks), voc.Encode(valToks))
	if err != nil {
		return err
	}
	if isRoot(comm) {
		if err := train.WriteConfig(dir, cfg, train.CurrentEnv(cfg.Threads, os.Args)); err != nil {
			return err
		}
	}
	rms := solvers.DefaultRMSPropConfig()
	rms.LR, rms.Alpha = cfg.LR, cfg.Alpha
	solver, err := solvers.NewRMSProp(rms)
	if err != nil {
		return usage(err)
	}
	loop := &train.Loop{
		Dir: dir, Common: cfg.Common, Store: store, Solver: solver,
		Schedule: epochDecay{base: cfg.LR, decay: cfg.Decay, after: cfg.DecayAfter, stepsPerEpoch: task.StepsPerEpoch()},
		ClipNorm: cfg.ClipNorm, ClipValue: cfg.ClipValue, Task: task,
		Best: "val_loss", ItemName: "tokens", Comm: comm,
	}
	if isRoot(comm) {
		ranks := ""
		if comm != nil {
			ranks = fmt.Sprintf(", %d ranks of %d threads", comm.Size(), cfg.Threads)
		}
		fmt.Fprintf(os.Stderr, "lm: %s, %d parameters, vocabulary %d, %d train / %d validation tokens, %d steps per epoch%s, run %s\n",
			cfg.Cell, store.Count(), voc.Len(), len(trainToks), len(valToks), task.StepsPerEpoch(), ranks, dir)
	}
	ctx, stop := interruptible()
	defer stop()
	sum, err := loop.Run(ctx)
	if err != nil {
		return finish(err)
	}
	_ = lm
	if !isRoot(comm) {
		return nil
	}
	fmt.Fprintf(os.Stderr, "lm: validation %.4f nats/token (perplexity %.2f) after %d steps, %.0f tokens/s, %d threads\n",
		sum.Final["val_loss"], sum.Final["val_ppl"], sum.Steps, sum.ItemsPerSec, sum.Threads)
	return nil
}

func (c lmConfig) validate() error {
	switch rnn.Cell(c.Cell) {
	case rnn.Tanh, rnn.ReLU, rnn.LSTM, rnn.GRU:
	default:
		return errors.Errorf("unknown cell %q (rnn, rnn_relu, lstm, gru)", c.Cell)
	}
	if _, err := lmTokenizer(c.Level); err != nil {
		return err
	}
	if c.Batch <= 0 || c.SeqLen <= 0 || c.Hidden <= 0 || c.Layers <= 0 {
		return errors.New("batch, seq_len, hidden and layers must be positive")
	}
	if c.TrainFrac <= 0 || c.TrainFrac >= 1 {
		return errors.Errorf("train_frac %g outside (0, 1)", c.TrainFrac)
	}
	return nil
}

func lmTokenizer(level string) (vocab.Tokenizer, error) {
	switch level {
	case "char":
		return vocab.CharTokenizer{}, nil
	case "word":
		return vocab.WordTokenizer{}, nil
	}
	return nil, errors.Errorf("unknown level %q (char, word)", level)
}

// epochDecay is char-rnn's schedule: base until epoch `after`, then multiplied by
// decay at the end of every epoch.
type epochDecay struct {
	base, decay          float64
	after, stepsPerEpoch int
}

func (s epochDecay) LR(step int) float64 {
	epoch := step / s.stepsPerEpoch // completed epochs
	if epoch < s.after {
		return s.base
	}
	return s.base * math.Pow(s.decay, float64(epoch-s.after+1))
}

// lmTask trains on contiguous windows of the training stream, carrying the
// recurrent state from one window into the next (truncated back-propagation
// through time) and resetting it at the start of each epoch.
//
// It is a train.ShardedEvaluator: rank r of n takes columns [r*B/n, (r+1)*B/n)
// of every window of the B-column streams, for training and validation, so the
// global batch is the single process's. The carry has all B columns on every
// rank; after a step a rank's carry holds its own columns' new state and zeros
// elsewhere, and the loop sums the ranks' carries into each checkpoint.
type lmTask struct {
	cfg        lmConfig
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

func newLMTask(cfg lmConfig, vocabSize int, trainIDs, valIDs []int) (*lmTask, *rnn.LM, *graph.Store, error) {
	store := graph.NewStore(tensor.Float32, graph.NewRNG(cfg.Seed, "init"))
	lm, err := rnn.NewLM(store, rnn.LMConfig{Vocab: vocabSize, Embed: cfg.Embed, Hidden: cfg.Hidden, Layers: cfg.Layers,
		Cell: rnn.Cell(cfg.Cell), Dropout: cfg.Dropout, Tie: cfg.Tie})
	if err != nil {
		return nil, nil, nil, usage(err)
	}
	t := &lmTask{cfg: cfg, lm: lm, store: store, size: 1}
	if t.stream, err = batch.Batchify(trainIDs, cfg.Batch); err != nil {
		return nil, nil, nil, usage(err)
	}
	if t.val, err = batch.Batchify(valIDs, cfg.Batch); err != nil {
		return nil, nil, nil, usage(err)
	}
	t.windows = (t.stream.Steps() - 1) / cfg.SeqLen
	if t.windows == 0 || (t.val.Steps()-1)/cfg.SeqLen == 0 {
		return nil, nil, nil, usage(errors.Errorf("the corpus is too small for batch %d x seq_len %d", cfg.Batch, cfg.SeqLen))
	}
	t.carry = lm.NewState(tensor.Float32, cfg.Batch)
	t.part = t.carry
	return t, lm, store, nil
}

func (t *lmTask) StepsPerEpoch() int { return t.windows }

// SetShard makes the task train and validate on columns [rank*B/size,
// (rank+1)*B/size) of the streams.
func (t *lmTask) SetShard(rank, size int) error {
	if size <= 0 || rank < 0 || rank >= size {
		return errors.Errorf("lm: shard %d of %d", rank, size)
	}
	if t.cfg.Batch%size != 0 {
		return errors.Errorf("lm: batch %d does not split evenly into %d ranks; use a multiple of %d", t.cfg.Batch, size, size)
	}
	if t.prog != nil || t.eval != nil {
		return errors.New("lm: SetShard after the programs were built")
	}
	t.rank, t.size = rank, size
	if size > 1 {
		t.part = t.lm.NewState(tensor.Float32, t.cfg.Batch/size)
	}
	return nil
}

// shard returns the shard's columns of a time-major window of the B-column
// stream (the window itself in one process).
func (t *lmTask) shard(w []int) []int {
	if t.size == 1 {
		return w
	}
	b, cols := t.cfg.Batch, t.cfg.Batch/t.size
	lo := t.rank * cols
	out := make([]int, 0, len(w)/t.size)
	for s := 0; s < len(w); s += b {
		out = append(out, w[s+lo:s+lo+cols]...)
	}
	return out
}

// copyRows copies the shard's rows of the carry into part (toPart) or back, the
// other rows of the carry then being zeroed.
func (t *lmTask) copyRows(toPart bool) {
	cols := t.cfg.Batch / t.size
	full := append(append([]*tensor.Dense(nil), t.carry.H...), t.carry.C...)
	part := append(append([]*tensor.Dense(nil), t.part.H...), t.part.C...)
	for k := range full {
		f, p := graph.Slice[float32](full[k]), graph.Slice[float32](part[k])
		lo := t.rank * cols * (len(p) / cols)
		if toPart {
			copy(p, f[lo:])
			continue
		}
		clear(f)
		copy(f[lo:], p)
	}
}

func (t *lmTask) TrainStep(step int, noise *rand.Rand) (train.Result, error) {
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
	if err := t.prog.Feed(x, y); err != nil {
		return train.Result{}, err
	}
	if err := t.prog.SetState(t.part); err != nil {
		return train.Result{}, err
	}
	t.prog.SetNoise(noise)
	if err := t.prog.Run(); err != nil {
		return train.Result{}, err
	}
	if err := t.prog.CopyFinalState(t.part); err != nil {
		return train.Result{}, err
	}
	if t.size > 1 {
		t.copyRows(false)
	}
	out, _ := t.prog.Output("loss")
	return train.Result{Loss: graph.Scalar(out), Items: len(x)}, nil
}

// Evaluate runs the whole validation stream in full windows, carrying the state,
// and returns the mean loss per token (nats) and the perplexity. (After
// SetShard with more than one rank it sees only the shard's columns; the loop
// then uses EvaluateSums.)
func (t *lmTask) Evaluate() (map[string]float64, error) {
	sums, err := t.EvaluateSums()
	if err != nil {
		return nil, err
	}
	return t.MetricsFromSums(sums)
}

// EvaluateSums runs the shard's columns of the validation stream and returns
// the sum of the windows' mean losses and the number of windows.
func (t *lmTask) EvaluateSums() (map[string]float64, error) {
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
		if err := t.eval.Feed(t.shard(x), t.shard(y)); err != nil {
			return nil, err
		}
		if err := t.eval.SetState(t.evalState); err != nil {
			return nil, err
		}
		if err := t.eval.Run(); err != nil {
			return nil, err
		}
		if err := t.eval.CopyFinalState(t.evalState); err != nil {
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
func (t *lmTask) MetricsFromSums(s map[string]float64) (map[string]float64, error) {
	if s["windows"] <= 0 {
		return nil, errors.New("lm: no validation windows")
	}
	loss := s["loss"] / s["windows"]
	return map[string]float64{"val_loss": loss, "val_ppl": math.Exp(loss)}, nil
}

// TaskState is the carried recurrent state.
func (t *lmTask) TaskState() map[string]*tensor.Dense {
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
func (t *lmTask) SetTaskState(m map[string]*tensor.Dense) error {
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
