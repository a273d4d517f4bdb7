// Package gpt is the GPT language-modelling experiment: a decoder-only
// Transformer (models/gpt) learns to continue tiny-shakespeare, or any text
// file, from characters (the default) or from GPT-2's byte-level BPE tokens,
// trained from scratch or fine-tuned from a GPT-2 safetensors file.
//
// The protocol: the text is cut at 90% of its characters into a training and a
// validation part. Each step draws Batch windows of Block tokens at random
// offsets of the training part (from the step's noise stream, so a run is
// reproducible and resumes exactly), GradAccum times, and averages the
// micro-batches' gradients. AdamW decays only the matrices (embeddings and
// linear weights; not biases or layer-norm gains), the learning rate rises
// linearly over Warmup steps then follows a half cosine down to MinLR at the
// last step, and the gradients are clipped to a global norm of ClipNorm. An
// evaluation is the mean loss over EvalIters batches of each part (train_loss,
// val_loss), the same batches at every evaluation; the end of the run also
// scores every token of the validation part (Model.ValidationLoss, val_full in
// summary.json). With --dist mpi, R ranks
// split every batch by rows (Batch a multiple of R), so that the run is the one
// process's to float32 rounding (without dropout).
//
// The defaults are the small CPU configuration of Karpathy's nanoGPT
// (github.com/karpathy/nanoGPT, README): characters, windows of 64, batches of
// 12, 4 layers of 4 heads 128 wide, no dropout, no biases, 2000 steps, lr 1e-3
// down to 1e-4 after 100 warm-up steps, beta2 0.99, weight decay 0.1, an
// evaluation of 20 batches every 250 steps.
//
// From Go:
//
//	cfg := gpt.DefaultConfig()
//	cfg.MaxSteps = 100
//	sum, err := gpt.Run(ctx, cfg, os.Stderr)
//	m, err := gpt.Load(sum.Dir) // or the run directory
//	defer m.Close()
//	text, err := m.Sample("ROMEO:", gpt.DefaultSampleOptions())
//	loss, err := m.ValidationLoss() // every token of the validation part
package gpt

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/datasets"
	"github.com/triadml/triad/datasets/vocab"
	"github.com/triadml/triad/graph"
	mgpt "github.com/triadml/triad/models/gpt"
	"github.com/triadml/triad/solvers"
	"github.com/triadml/triad/train"
)

// Config holds the experiment's hyperparameters; its json tags are the keys of
// config.json and, with dashes, the command's flags.
type Config struct {
	train.Common
	train.Optim  `help.batch:"windows per micro-batch" help.lr:"peak learning rate"`
	train.Data   `help.data_dir:"directory holding input.txt (default: the tinyshakespeare dataset)"`
	Tokens       string  `json:"tokens" help:"char or gpt2 (GPT-2's byte-level BPE, the gpt2-bpe dataset)"`
	Block        int     `json:"block" help:"tokens per training window (the context length)"`
	GradAccum    int     `json:"grad_accum" help:"micro-batches per step, their gradients averaged"`
	Layers       int     `json:"layers" help:"Transformer blocks"`
	Heads        int     `json:"heads" help:"attention heads (GPT-2 small: 12)"`
	Embed        int     `json:"embed" help:"model width"`
	Dropout      float64 `json:"dropout" help:"dropout on the embeddings, the attention weights and each residual branch"`
	Bias         bool    `json:"bias" help:"biases in the linear layers and layer norms"`
	Context      int     `json:"context" help:"rows of the position table (0: block; --init sets it from the file)"`
	train.Cosine `help.min_lr:"learning rate at the last step"`
	WeightDecay  float64 `json:"weight_decay" help:"AdamW decoupled weight decay of the matrices"`
	Beta1        float64 `json:"beta1" help:"AdamW first-moment decay"`
	Beta2        float64 `json:"beta2" help:"AdamW second-moment decay"`
	EvalIters    int     `json:"eval_iters" help:"batches of each split per evaluation"`
	TrainFrac    float64 `json:"train_frac" help:"fraction of the text used for training (the rest validates)"`
	Init         string  `json:"init" help:"GPT-2-layout safetensors file to start from (fine-tuning; sets layers, embed, bias and context)"`
}

// DefaultConfig returns nanoGPT's CPU configuration (see the package comment).
func DefaultConfig() Config {
	return Config{
		Common: train.Common{Seed: 1, MaxSteps: 2000, LogEvery: 1, EvalEvery: 250},
		Tokens: "char", Block: 64, GradAccum: 1, Layers: 4, Heads: 4, Embed: 128,
		Optim: train.Optim{Batch: 12, LR: 1e-3, ClipNorm: 1}, Cosine: train.Cosine{MinLR: 1e-4, Warmup: 100}, WeightDecay: 0.1, Beta1: 0.9, Beta2: 0.99,
		EvalIters: 20, TrainFrac: 0.9,
	}
}

// Validate reports an unknown tokenizer, a non-positive size, or a setting out
// of range.
func (c Config) Validate() error {
	if c.Tokens != "char" && c.Tokens != "gpt2" {
		return errors.Errorf("unknown tokens %q (char, gpt2)", c.Tokens)
	}
	if c.Block <= 0 || c.Batch <= 0 || c.GradAccum <= 0 || c.Layers <= 0 || c.Heads <= 0 || c.Embed <= 0 || c.EvalIters <= 0 {
		return errors.New("block, batch, grad_accum, layers, heads, embed and eval_iters must be positive")
	}
	if c.Context < 0 || (c.Context > 0 && c.Context < c.Block) {
		return errors.Errorf("context %d is below block %d", c.Context, c.Block)
	}
	if !(c.LR > 0) || !(c.MinLR >= 0) || c.MinLR > c.LR || c.Warmup < 0 || !(c.WeightDecay >= 0) || !(c.ClipNorm >= 0) {
		return errors.New("want lr > 0, 0 <= min_lr <= lr, warmup >= 0, weight_decay >= 0 and clip_norm >= 0")
	}
	if c.TrainFrac <= 0 || c.TrainFrac >= 1 {
		return errors.Errorf("train_frac %g outside (0, 1)", c.TrainFrac)
	}
	return nil
}

// modelConfig is the model's configuration for a vocabulary of n tokens.
func (c Config) modelConfig(n int) mgpt.Config {
	return mgpt.Config{VocabSize: n, BlockSize: max(c.Context, c.Block), Layers: c.Layers, Heads: c.Heads,
		Embed: c.Embed, Dropout: c.Dropout, Bias: c.Bias}
}

// tokenizer turns text into ids and back.
type tokenizer interface {
	Len() int
	encode(text string) ([]int, error)
	decode(ids []int) string
}

// chars is the character tokenizer: the sorted characters of the whole text.
type chars struct {
	Chars string `json:"chars"`
	ids   map[rune]int
	runes []rune
}

func newChars(s string) *chars {
	c := &chars{Chars: s, ids: map[rune]int{}, runes: []rune(s)}
	for i, r := range c.runes {
		c.ids[r] = i
	}
	return c
}

func charsOf(text string) *chars {
	seen := map[rune]bool{}
	var rs []rune
	for _, r := range text {
		if !seen[r] {
			seen[r] = true
			rs = append(rs, r)
		}
	}
	slices.Sort(rs)
	return newChars(string(rs))
}

func (c *chars) Len() int { return len(c.runes) }

func (c *chars) encode(text string) ([]int, error) {
	out := make([]int, 0, len(text))
	for _, r := range text {
		id, ok := c.ids[r]
		if !ok {
			return nil, errors.Errorf("the character %q is not in the run's vocabulary", r)
		}
		out = append(out, id)
	}
	return out, nil
}

func (c *chars) decode(ids []int) string {
	var b strings.Builder
	for _, id := range ids {
		b.WriteRune(c.runes[id])
	}
	return b.String()
}

// bpe is GPT-2's byte-level BPE.
type bpe struct{ *vocab.GPT2BPE }

func (b bpe) encode(text string) ([]int, error) { return b.Encode(text), nil }

func (b bpe) decode(ids []int) string {
	out, _ := b.Decode(ids) // invalid UTF-8 stays as bytes
	return string(out)
}

func loadBPE() (tokenizer, error) {
	dir, err := datasets.Find("gpt2-bpe")
	if err != nil {
		return nil, train.Usage(err)
	}
	b, err := vocab.LoadGPT2BPEDir(dir)
	if err != nil {
		return nil, train.Usage(err)
	}
	return bpe{b}, nil
}

const charsFile = "chars.json"

// corpus is the text's training and validation tokens and their tokenizer.
type corpus struct {
	tok        tokenizer
	train, val []int
}

// loadCorpus reads DataDir/input.txt (or the tinyshakespeare dataset), cuts it
// at TrainFrac of its characters and encodes each part.
func loadCorpus(c Config) (*corpus, error) {
	trainPart, valPart, err := train.SplitText(c.DataDir, c.TrainFrac)
	if err != nil {
		return nil, err
	}
	var tok tokenizer
	if c.Tokens == "char" {
		tok = charsOf(trainPart + valPart)
	} else if tok, err = loadBPE(); err != nil {
		return nil, err
	}
	out := &corpus{tok: tok}
	if out.train, err = tok.encode(trainPart); err != nil {
		return nil, err
	}
	if out.val, err = tok.encode(valPart); err != nil {
		return nil, err
	}
	for _, part := range [][]int{out.train, out.val} {
		if len(part) <= c.Block {
			return nil, train.Usage(errors.Errorf("a split of %d tokens is too short for windows of %d", len(part), c.Block))
		}
	}
	return out, nil
}

// windows returns n windows of block tokens at random offsets of data and their
// targets (the next token of each).
func windows(data []int, n, block int, rng *rand.Rand) (x, y [][]int) {
	x, y = make([][]int, n), make([][]int, n)
	for i := range x {
		at := rng.IntN(len(data) - block)
		x[i], y[i] = data[at:at+block], data[at+1:at+block+1]
	}
	return x, y
}

// batch is one batch of windows.
type batch struct{ x, y [][]int }

// task is the train.Task: GradAccum micro-batches of random windows a step, and
// the mean loss over fixed batches of each split. It is a
// train.ShardedEvaluator: rank r of n takes rows [r*B/n, (r+1)*B/n) of every
// batch, the step's windows being those one process draws.
type task struct {
	cfg        Config
	model      *mgpt.Model
	store      *graph.Store
	data       *corpus
	prog, eval *mgpt.Program // built at first use, for the shard's rows
	evalTrain  []batch
	evalVal    []batch
	train.Shard
}

// StepsPerEpoch is the steps that draw as many tokens as the training split has.
func (t *task) StepsPerEpoch() int {
	return max(1, len(t.data.train)/(t.cfg.Batch*t.cfg.Block*t.cfg.GradAccum))
}

// TrainStep draws the step's windows from noise, then the dropout masks, and
// adds the mean of the micro-batches' gradients into the parameters. A shard of
// several draws the windows from the stream one process would use, and keeps
// its rows.
func (t *task) TrainStep(step int, noise *rand.Rand) (train.Result, error) {
	if t.prog == nil {
		var err error
		if t.prog, err = t.model.Build(t.store, graph.Train, t.rows(), t.cfg.Block); err != nil {
			return train.Result{}, err
		}
	}
	draws := noise
	if t.Size > 1 {
		draws = graph.NewRNG(t.cfg.Seed, "noise/"+strconv.Itoa(step))
	}
	k := t.cfg.GradAccum
	micro := make([]batch, k)
	for i := range micro {
		micro[i] = t.shard(windows(t.data.train, t.cfg.Batch, t.cfg.Block, draws))
	}
	t.prog.SetNoise(noise)
	loss := 0.0
	for _, b := range micro {
		if err := t.prog.Feed(b.x, b.y); err != nil {
			return train.Result{}, err
		}
		if err := t.prog.Run(); err != nil {
			return train.Result{}, err
		}
		loss += t.prog.Loss()
	}
	if k > 1 {
		for _, p := range t.store.Params() {
			g := graph.Slice[float32](p.Grad)
			for i := range g {
				g[i] /= float32(k)
			}
		}
	}
	return train.Result{Loss: loss / float64(k), Items: k * t.rows() * t.cfg.Block}, nil
}

// Evaluate returns the mean loss over the fixed batches of each split.
func (t *task) Evaluate() (map[string]float64, error) { return train.EvaluateSummed(t) }

// EvaluateSums returns the sums over the fixed batches of the mean losses of the
// shard's rows, and the number of batches.
func (t *task) EvaluateSums() (map[string]float64, error) {
	if t.eval == nil {
		var err error
		if t.eval, err = t.model.Build(t.store, graph.Eval, t.rows(), t.cfg.Block); err != nil {
			return nil, err
		}
	}
	tr, err := t.sumLoss(t.evalTrain)
	if err != nil {
		return nil, err
	}
	val, err := t.sumLoss(t.evalVal)
	if err != nil {
		return nil, err
	}
	return map[string]float64{"train_loss": tr, "val_loss": val, "batches": float64(len(t.evalVal))}, nil
}

// MetricsFromSums returns the mean losses from the sums of EvaluateSums: with
// equal shards, the mean over all ranks' batches of the shards' mean losses is
// the mean of the whole batches' mean losses.
func (t *task) MetricsFromSums(s map[string]float64) (map[string]float64, error) {
	if s["batches"] <= 0 {
		return nil, errors.New("gpt: no evaluation batches")
	}
	return map[string]float64{"train_loss": s["train_loss"] / s["batches"], "val_loss": s["val_loss"] / s["batches"]}, nil
}

func (t *task) sumLoss(bs []batch) (float64, error) {
	sum := 0.0
	for _, b := range bs {
		b = t.shard(b.x, b.y)
		if err := t.eval.Feed(b.x, b.y); err != nil {
			return 0, err
		}
		if err := t.eval.Run(); err != nil {
			return 0, err
		}
		loss, err := t.eval.Output("loss")
		if err != nil {
			return 0, err
		}
		sum += graph.Scalar(loss)
	}
	return sum, nil
}

// fixedBatches draws n batches of data from the seed's named stream.
func fixedBatches(c Config, data []int, name string) []batch {
	rng := graph.NewRNG(c.Seed, name)
	out := make([]batch, c.EvalIters)
	for i := range out {
		out[i].x, out[i].y = windows(data, c.Batch, c.Block, rng)
	}
	return out
}

// newModel creates the model's parameters, initialised from the seed's "init"
// stream, in a new float32 store.
func newModel(c Config, vocabSize int) (*mgpt.Model, *graph.Store, error) {
	return newModelIn(graph.NewStore(tensor.Float32, graph.NewRNG(c.Seed, "init")), c, vocabSize)
}

// newModelIn is newModel with the parameters created in store.
func newModelIn(store *graph.Store, c Config, vocabSize int) (*mgpt.Model, *graph.Store, error) {
	m, err := mgpt.New(store, c.modelConfig(vocabSize))
	return m, store, err
}

// initFrom reads the GPT-2 file of cfg.Init, sets the model's sizes in cfg from
// it and returns its tensors.
func initFrom(cfg *Config, vocabSize int) (map[string]*tensor.Dense, error) {
	ts, _, err := graph.LoadTensors(cfg.Init)
	if err != nil {
		return nil, train.Usage(err)
	}
	mc, err := mgpt.ConfigFromTensors(ts, cfg.Heads)
	if err != nil {
		return nil, train.Usage(errors.Wrapf(err, "--init %s", cfg.Init))
	}
	if mc.VocabSize != vocabSize {
		return nil, train.Usage(errors.Errorf("--init %s has %d tokens, the %s tokenizer %d", cfg.Init, mc.VocabSize, cfg.Tokens, vocabSize))
	}
	if mc.BlockSize < cfg.Block {
		return nil, train.Usage(errors.Errorf("--init %s has %d positions, fewer than block %d", cfg.Init, mc.BlockSize, cfg.Block))
	}
	cfg.Layers, cfg.Embed, cfg.Bias, cfg.Context = mc.Layers, mc.Embed, mc.Bias, mc.BlockSize
	return ts, nil
}

// splitDecay is AdamW (or the solver --optimizer names) over two groups of
// parameters: the matrices, with weight decay, and the vectors (biases and
// layer-norm gains), without. A Solver steps every parameter it is given with
// one setting, so the experiment keeps one solver per group; their states hold
// disjoint parameters and merge into one.
type splitDecay struct {
	decay, plain solvers.Solver
	decayed      map[string]bool // names of the parameters with weight decay
	dp, pp       []*graph.Param  // scratch
}

func newSplitDecay(c Config, params []*graph.Param) (*splitDecay, error) {
	h := solvers.Hyper{"lr": c.LR, "beta1": c.Beta1, "beta2": c.Beta2, "weight_decay": c.WeightDecay}
	decay, err := c.Solver("adamw", h)
	if err != nil {
		return nil, err
	}
	h["weight_decay"] = 0.0
	plain, err := c.Solver("adamw", h)
	if err != nil {
		return nil, err
	}
	s := &splitDecay{decay: decay, plain: plain, decayed: map[string]bool{}}
	for _, p := range params {
		if p.Value.Dims() >= 2 {
			s.decayed[p.Name] = true
		}
	}
	return s, nil
}

func (s *splitDecay) Step(params []*graph.Param) error {
	s.dp, s.pp = s.dp[:0], s.pp[:0]
	for _, p := range params {
		if s.decayed[p.Name] {
			s.dp = append(s.dp, p)
		} else {
			s.pp = append(s.pp, p)
		}
	}
	if err := s.decay.Step(s.dp); err != nil {
		return err
	}
	return s.plain.Step(s.pp)
}

func (s *splitDecay) LR() float64 { return s.decay.LR() }

func (s *splitDecay) SetLR(lr float64) { s.decay.SetLR(lr); s.plain.SetLR(lr) }

func (s *splitDecay) State() map[string]*tensor.Dense {
	out := s.decay.State()
	for k, v := range s.plain.State() {
		out[k] = v
	}
	return out
}

func (s *splitDecay) LoadState(st map[string]*tensor.Dense) error {
	d, p := map[string]*tensor.Dense{}, map[string]*tensor.Dense{}
	for k, v := range st {
		name := k[:max(0, strings.LastIndex(k, "."))]
		if s.decayed[name] {
			d[k] = v
		} else {
			p[k] = v
		}
	}
	if err := s.decay.LoadState(d); err != nil {
		return err
	}
	return s.plain.LoadState(p)
}

// Summary is what a run's summary.json holds, with where the run is.
type Summary struct {
	train.Summary
	// ValFull is the loss over the whole validation part at the end of the
	// run (ValidationLoss), beside the final evaluation's sampled batches.
	ValFull *SplitLoss `json:"val_full,omitempty"`
	// Dir is the run directory.
	Dir string `json:"-"`
}

// String is the run's result in one line.
func (s *Summary) String() string {
	return fmt.Sprintf("train %.4f, validation %.4f nats/token after %d steps, %.0f tokens/s, %d threads",
		s.Final["train_loss"], s.Final["val_loss"], s.Steps, s.ItemsPerSec, s.Threads)
}

// Run trains a GPT as cfg says, writing the run directory (config.json,
// chars.json for characters, metrics.jsonl, checkpoints, summary.json) and the
// readable log to log (nil: os.Stderr), and returns the run's summary. A bad
// configuration, a missing text or a bad --init file is a train.Usage error; a
// cancelled ctx stops the run with a checkpoint and returns the summary so far
// with train.ErrInterrupted.
func Run(ctx context.Context, cfg Config, log io.Writer) (_ *Summary, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, train.Usage(err)
	}
	s, err := train.Open(ctx, "gpt", &cfg, log)
	if err != nil {
		return nil, err
	}
	defer s.Close(&err)
	data, err := loadCorpus(cfg)
	if err != nil {
		return nil, err
	}
	loop := s.Loop()
	t, err := prepare(&cfg, data, loop)
	if err != nil {
		return nil, err
	}
	if c, ok := data.tok.(*chars); ok && s.Root() {
		if err := train.WriteJSON(s.Path(charsFile), c); err != nil {
			return nil, err
		}
	}
	if err := s.WriteConfig(); err != nil {
		return nil, err
	}
	from := "from scratch"
	if cfg.Init != "" {
		from = "from " + cfg.Init
	}
	ranks := ""
	if s.Comm != nil {
		ranks = fmt.Sprintf(", %d ranks of %d threads", s.Comm.Size(), cfg.Threads)
	}
	s.Logf("gpt: %s, %d parameters, %s tokens, %d train / %d validation tokens, %s%s, run %s",
		t.model.Config, t.store.Count(), cfg.Tokens, len(data.train), len(data.val), from, ranks, s.Dir)
	sum, err := loop.Run(ctx)
	if sum == nil {
		return nil, err
	}
	out := &Summary{Summary: *sum, Dir: s.Dir}
	if err == nil {
		s.Logf("gpt: %s", out)
		if s.Root() {
			err = finish(s, t, data, out)
		}
	}
	return out, err
}

// finish scores the whole validation part into out and summary.json, and adds
// a sample of the trained model to the run's TensorBoard texts.
func finish(s *train.Session, t *task, data *corpus, out *Summary) error {
	full, err := splitLoss(t.model, t.store, data.val, t.cfg.Batch, t.cfg.Block)
	if err != nil {
		return err
	}
	out.ValFull = &full
	s.Logf("gpt: the whole validation part: %s", full)
	if err := train.WriteJSON(s.Path("summary.json"), out); err != nil {
		return err
	}
	return summarizeSample(s, t, data, out.Steps)
}

// summarizeSample adds a sample of the trained model, 300 tokens continuing
// the start of the validation text, to the run's TensorBoard texts.
func summarizeSample(s *train.Session, t *task, data *corpus, step int) error {
	m := &Model{Config: t.cfg, tok: data.tok, model: t.model, store: t.store, gen: t.model.NewGenerator(t.store)}
	defer m.Close()
	prompt := data.tok.decode(data.val[:min(16, len(data.val))])
	opts := DefaultSampleOptions()
	opts.N = 300
	text, err := m.Sample(prompt, opts)
	if err != nil {
		return err
	}
	return s.Summaries().Text("samples", step, train.Preformatted(text))
}

// prepare builds the model (from cfg.Init, whose sizes it sets in cfg, if
// given), its task on data and the solver into loop, with the cosine schedule
// and clipping.
func prepare(cfg *Config, data *corpus, loop *train.Loop) (*task, error) {
	var init map[string]*tensor.Dense
	if cfg.Init != "" {
		var err error
		if init, err = initFrom(cfg, data.tok.Len()); err != nil {
			return nil, err
		}
	}
	m, store, err := newModel(*cfg, data.tok.Len())
	if err != nil {
		return nil, train.Usage(err)
	}
	if init != nil {
		if err := m.LoadTensors(store, init); err != nil {
			return nil, train.Usage(err)
		}
	}
	t := &task{cfg: *cfg, model: m, store: store, data: data,
		evalTrain: fixedBatches(*cfg, data.train, "eval/train"), evalVal: fixedBatches(*cfg, data.val, "eval/val")}
	solver, err := newSplitDecay(*cfg, store.Params())
	if err != nil {
		return nil, err
	}
	total := cfg.TotalSteps(t.StepsPerEpoch())
	if loop.Schedule, err = cfg.Cosine.Schedule(cfg.LR, total); err != nil {
		return nil, train.Usage(err)
	}
	loop.Store, loop.Solver, loop.Task = store, solver, t
	loop.ClipNorm = cfg.ClipNorm
	loop.Best, loop.ItemName = "val_loss", "tokens"
	return t, nil
}

// Model is a finished run loaded for generation: its configuration, tokenizer
// and best (else last) weights.
type Model struct {
	// Config is the run's configuration.
	Config Config
	tok    tokenizer
	model  *mgpt.Model
	store  *graph.Store
	gen    *mgpt.Generator
}

// Load reads the run in dir: config.json, chars.json for characters (GPT-2's
// tokens come from the gpt2-bpe dataset) and the checkpoint. A missing or
// unreadable file is a train.Usage error.
func Load(dir string) (*Model, error) {
	cfg := DefaultConfig()
	if err := train.ReadConfig(dir, &cfg); err != nil {
		return nil, train.Usage(err)
	}
	if err := cfg.Validate(); err != nil {
		return nil, train.Usage(errors.Wrapf(err, "run %s", dir))
	}
	var tok tokenizer
	if cfg.Tokens == "char" {
		raw, err := os.ReadFile(filepath.Join(dir, charsFile))
		if err != nil {
			return nil, train.Usage(err)
		}
		var c chars
		if err := json.Unmarshal(raw, &c); err != nil {
			return nil, train.Usage(errors.Wrapf(err, "%s", charsFile))
		}
		tok = newChars(c.Chars)
	} else {
		var err error
		if tok, err = loadBPE(); err != nil {
			return nil, err
		}
	}
	m, store, _, err := train.Restore(dir, cfg.Seed, func(s *graph.Store) (*mgpt.Model, error) {
		m, _, err := newModelIn(s, cfg, tok.Len())
		return m, err
	})
	if err != nil {
		return nil, train.Usage(err)
	}
	return &Model{Config: cfg, tok: tok, model: m, store: store, gen: m.NewGenerator(store)}, nil
}

// SampleOptions says how Sample draws.
type SampleOptions struct {
	// N is the number of tokens to generate after the prompt.
	N int
	// Temperature divides the logits; 0 takes the most probable token.
	Temperature float64
	// TopK, when positive, samples among the K most probable tokens.
	TopK int
	// TopP, in (0, 1), samples from the smallest set of tokens whose
	// probabilities reach it (0 or 1: off).
	TopP float64
	// Seed seeds the sampling streams.
	Seed uint64
}

// DefaultSampleOptions returns 500 tokens at temperature 0.8 among the 200 most
// probable, seed 1.
func DefaultSampleOptions() SampleOptions {
	return SampleOptions{N: 500, Temperature: 0.8, TopK: 200, Seed: 1}
}

// Validate reports options that cannot be used.
func (o SampleOptions) Validate() error {
	if o.N < 0 {
		return errors.Errorf("n must not be negative, got %d", o.N)
	}
	return mgpt.Options{Temperature: o.Temperature, TopK: o.TopK, TopP: o.TopP}.Validate()
}

// Sample returns prompt followed by opts.N generated tokens. The context is the
// last context-length tokens: once the sequence fills the position table, each
// new token is predicted from the window that ends at it. The same options give
// the same text. Bad options, an empty prompt or one with characters outside
// the vocabulary are train.Usage errors.
func (m *Model) Sample(prompt string, opts SampleOptions) (string, error) {
	if err := opts.Validate(); err != nil {
		return "", train.Usage(err)
	}
	ids, err := m.tok.encode(prompt)
	if err != nil {
		return "", train.Usage(err)
	}
	if len(ids) == 0 {
		return "", train.Usage(errors.New("the prompt is empty"))
	}
	block := m.model.Config.BlockSize
	seq := slices.Clone(ids)
	streams := graph.NewRNG(opts.Seed, "sample")
	for left := opts.N; left > 0; {
		ctx := seq[max(0, len(seq)-block):]
		gens, err := m.gen.Generate([][]int{ctx}, mgpt.Options{MaxNewTokens: left,
			Temperature: opts.Temperature, TopK: opts.TopK, TopP: opts.TopP, Seed: streams.Uint64()})
		if err != nil {
			return "", err
		}
		seq = append(seq, gens[0].Tokens...)
		left -= len(gens[0].Tokens)
		if gens[0].Reason != mgpt.StopBlock {
			break
		}
	}
	return prompt + m.tok.decode(seq[len(ids):]), nil
}

// Close frees the compiled programs.
func (m *Model) Close() error { return m.gen.Close() }
