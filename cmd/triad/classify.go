package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"html"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/datasets"
	"github.com/triadml/triad/datasets/batch"
	"github.com/triadml/triad/datasets/vocab"
	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/metrics"
	"github.com/triadml/triad/models/classify"
	"github.com/triadml/triad/models/rnn"
	"github.com/triadml/triad/solvers"
	"github.com/triadml/triad/train"
)

func init() {
	register("classify", "sentence classification (rt-polarity 10-fold CV, SNIPS intents); `classify predict` labels stdin", classifyMain)
}

// classifyConfig holds the hyperparameters of `triad classify`.
type classifyConfig struct {
	train.Common
	Dataset     string  `json:"dataset" help:"rt-polarity (k-fold cross-validation) or snips (train, valid)"`
	DataDir     string  `json:"data_dir" help:"directory holding the dataset's files (default: found through $TRIAD_DATA or the cache)"`
	Encoder     string  `json:"encoder" help:"bilstm-attn or transformer"`
	Level       string  `json:"level" help:"word or char"`
	Lower       bool    `json:"lower" help:"lowercase the text"`
	MinFreq     int     `json:"min_freq" help:"minimum count of a vocabulary token in the training text"`
	MaxLen      int     `json:"max_len" help:"cut sentences to this many tokens"`
	Buckets     string  `json:"buckets" help:"padded lengths of the length buckets, comma-separated (empty: the 50th and 90th percentiles and the longest)"`
	Embed       int     `json:"embed" help:"embedding width (the transformer's model width)"`
	EmbedStd    float64 `json:"embed_std" help:"bilstm-attn: standard deviation of the initial embeddings (0: 1, PyTorch's default)"`
	Hidden      int     `json:"hidden" help:"bilstm-attn: recurrent units per direction"`
	Cell        string  `json:"cell" help:"bilstm-attn: lstm or gru"`
	Layers      int     `json:"layers" help:"recurrent or transformer layers"`
	AttnDim     int     `json:"attn_dim" help:"bilstm-attn: width d_a of the self-attentive pooling (0: hidden)"`
	Heads       int     `json:"heads" help:"transformer: attention heads"`
	FF          int     `json:"ff" help:"transformer: feed-forward width (0: 4 x embed)"`
	Pool        string  `json:"pool" help:"transformer: mean or first (a <bos> token is prepended)"`
	Dropout     float64 `json:"dropout" help:"dropout on embeddings and the sentence vector (and in transformer layers)"`
	WordDrop    float64 `json:"word_dropout" help:"probability of replacing a training token by <unk> (word dropout)"`
	Batch       int     `json:"batch" help:"sentences per batch"`
	LR          float64 `json:"lr" help:"Adam learning rate"`
	Decay       float64 `json:"lr_decay" help:"learning-rate factor per epoch after the first (1: constant)"`
	WeightDecay float64 `json:"weight_decay" help:"Adam's L2 weight decay"`
	ClipNorm    float64 `json:"clip_norm" help:"clip the global gradient norm (0: off)"`
	Folds       int     `json:"folds" help:"rt-polarity: cross-validation folds"`
	Fold        int     `json:"fold" help:"rt-polarity: run only this fold, 1 to folds (0: every fold)"`
	Show        int     `json:"show" help:"validation sentences drawn in attention.html (per fold)"`
}

// defaultClassifyConfig is the configuration of the published rt-polarity
// figure (results/classify): a bidirectional LSTM of 100 units per direction over
// 128-dimensional embeddings learned from scratch, started small (standard
// deviation 0.1, near the 0.144 of Kim 2014's U(-0.25, 0.25)), dropout 0.5 and
// word dropout 0.4, Adam at 1e-3 decayed by 0.7 per epoch for 6 epochs. Kim's
// batch of 50 sentences.
func defaultClassifyConfig() classifyConfig {
	return classifyConfig{
		Common:  train.Common{Seed: 1, Epochs: 6, LogEvery: 50},
		Dataset: "rt-polarity", Encoder: string(classify.BiLSTMAttn), Level: "word", Lower: true, MinFreq: 1, MaxLen: 64,
		Embed: 128, EmbedStd: 0.1, Hidden: 100, Cell: string(rnn.LSTM), Layers: 1, AttnDim: 64, Heads: 4,
		Pool: string(classify.PoolMean), Dropout: 0.5, WordDrop: 0.4, Batch: 50, LR: 1e-3, Decay: 0.7, Folds: 10, Show: 20,
	}
}

func (c classifyConfig) validate() error {
	switch c.Dataset {
	case "rt-polarity", "snips":
	default:
		return errors.Errorf("unknown dataset %q (rt-polarity, snips)", c.Dataset)
	}
	if c.Level != "word" && c.Level != "char" {
		return errors.Errorf("unknown level %q (word, char)", c.Level)
	}
	if _, err := parseBuckets(c.Buckets); err != nil {
		return err
	}
	if c.Batch <= 0 || c.MaxLen <= 0 || c.LR <= 0 || c.Decay <= 0 {
		return errors.New("batch, max_len, lr and lr_decay must be positive")
	}
	if c.WordDrop < 0 || c.WordDrop >= 1 {
		return errors.Errorf("word_dropout %g outside [0, 1)", c.WordDrop)
	}
	if c.Dataset == "rt-polarity" && (c.Folds < 2 || c.Fold < 0 || c.Fold > c.Folds) {
		return errors.Errorf("folds %d must be at least 2 and fold %d in 0..folds", c.Folds, c.Fold)
	}
	_, err := c.model(10, 2).WithDefaults()
	return err
}

// model returns the classifier's configuration for a vocabulary and classes.
func (c classifyConfig) model(vocabSize, classes int) classify.Config {
	return classify.Config{Encoder: classify.Encoder(c.Encoder), Vocab: vocabSize, Classes: classes, Embed: c.Embed, EmbedStd: c.EmbedStd,
		Hidden: c.Hidden, Cell: rnn.Cell(c.Cell), Layers: c.Layers, AttnDim: c.AttnDim, Heads: c.Heads, FF: c.FF,
		Pool: classify.Pool(c.Pool), Dropout: c.Dropout, Pad: vocab.PadID, Unk: vocab.UnkID, BOS: vocab.BOSID}
}

// tokenize splits a sentence at the configured level.
func (c classifyConfig) tokenize(text string) []string {
	if c.Lower {
		text = strings.ToLower(text)
	}
	if c.Level == "char" {
		return vocab.CharTokenizer{}.Tokenize(text)
	}
	return vocab.WordTokenizer{}.Tokenize(text)
}

// parseBuckets reads a comma-separated list of ascending positive lengths.
func parseBuckets(s string) ([]int, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 || (len(out) > 0 && n <= out[len(out)-1]) {
			return nil, errors.Errorf("buckets %q: want ascending positive lengths such as 16,32,64", s)
		}
		out = append(out, n)
	}
	return out, nil
}

func classifyMain(args []string) error {
	if len(args) > 0 && args[0] == "predict" {
		return classifyPredict(args[1:], os.Stdin, os.Stdout)
	}
	cfg := defaultClassifyConfig()
	if err := parseFlags("classify", &cfg, &cfg.Common, args); err != nil {
		return err
	}
	if err := cfg.validate(); err != nil {
		return usage(err)
	}
	dir, err := runDir("classify", &cfg.Common)
	if err != nil {
		return err
	}
	data := cfg.DataDir
	if data == "" {
		if data, err = datasets.Find(cfg.Dataset); err != nil {
			return usage(err)
		}
	}
	if err := train.WriteConfig(dir, cfg, train.CurrentEnv(cfg.Threads, os.Args)); err != nil {
		return err
	}
	ctx, stop := interruptible()
	defer stop()
	x := &classifyRun{cfg: cfg, dir: dir, ctx: ctx, log: os.Stderr}
	if cfg.Dataset == "snips" {
		trainEx, labels, err := datasets.LoadSNIPS(data, "train")
		if err != nil {
			return usage(err)
		}
		valEx, _, err := datasets.LoadSNIPS(data, "valid")
		if err != nil {
			return usage(err)
		}
		res, err := x.split(dir, trainEx, valEx, labels, cfg.Resume)
		if err != nil {
			return finish(err)
		}
		fmt.Fprintf(os.Stderr, "classify: snips validation accuracy %.4f (macro F1 %.4f) from step %d, %.0f s, %d threads; run %s\n",
			res.Accuracy, res.MacroF1, res.Step, res.Seconds, res.Threads, dir)
		return nil
	}
	examples, labels, err := datasets.LoadRTPolarity(data)
	if err != nil {
		return usage(err)
	}
	return finish(x.crossValidate(examples, labels))
}

// classifyRun trains and evaluates one configuration.
type classifyRun struct {
	cfg classifyConfig
	dir string
	ctx context.Context
	log io.Writer
}

// foldResult is what one training run leaves in result.json.
type foldResult struct {
	Fold     int         `json:"fold,omitempty"`
	Accuracy float64     `json:"accuracy"`
	MacroF1  float64     `json:"macro_f1"`
	Loss     float64     `json:"loss"`
	Step     int         `json:"step"` // the step of the evaluated weights
	Seconds  float64     `json:"seconds"`
	Threads  int         `json:"threads"`
	Examples int         `json:"examples"`
	Labels   []string    `json:"labels"`
	Counts   [][]int     `json:"confusion"`
	Bounds   []int       `json:"buckets"`
	Vocab    int         `json:"vocab"`
	Params   int         `json:"params"`
	Shown    []shownText `json:"attention"`
}

// shownText is one validation sentence drawn in attention.html.
type shownText struct {
	Tokens  []string  `json:"tokens"`
	Weights []float64 `json:"weights"`
	Truth   string    `json:"truth"`
	Pred    string    `json:"pred"`
	Prob    float64   `json:"prob"`
}

// crossValidate runs the folds of rt-polarity (those not completed yet when
// resuming) and writes the cross-validated figures.
func (x *classifyRun) crossValidate(examples []datasets.Example, labels []string) error {
	cfg := x.cfg
	n := len(examples)
	if n < cfg.Folds {
		return usage(errors.Errorf("%d examples for %d folds", n, cfg.Folds))
	}
	perm := batch.Perm(graph.NewRNG(cfg.Seed, "folds"), n)
	for k := 1; k <= cfg.Folds; k++ {
		if cfg.Fold != 0 && k != cfg.Fold {
			continue
		}
		fdir := filepath.Join(x.dir, fmt.Sprintf("fold-%02d", k))
		if _, err := os.Stat(filepath.Join(fdir, "result.json")); err == nil {
			fmt.Fprintf(x.log, "classify: fold %d already done (%s)\n", k, fdir)
			continue
		}
		lo, hi := (k-1)*n/cfg.Folds, k*n/cfg.Folds
		held := map[int]bool{}
		var trainEx, valEx []datasets.Example
		for _, i := range perm[lo:hi] {
			held[i] = true
			valEx = append(valEx, examples[i])
		}
		for i, e := range examples { // the training examples keep the file order; batches are shuffled
			if !held[i] {
				trainEx = append(trainEx, e)
			}
		}
		resume := ""
		if cfg.Resume != "" {
			if _, err := os.Stat(filepath.Join(fdir, "checkpoints", "last.safetensors")); err == nil {
				resume = fdir
			}
		}
		res, err := x.split(fdir, trainEx, valEx, labels, resume)
		if err != nil {
			return errors.Wrapf(err, "fold %d", k)
		}
		fmt.Fprintf(x.log, "classify: fold %d/%d accuracy %.4f (%d held out, %.0f s)\n", k, cfg.Folds, res.Accuracy, len(valEx), res.Seconds)
	}
	return x.summarise(labels)
}

// cvSummary is summary.json of a cross-validated run.
type cvSummary struct {
	Folds        int       `json:"folds"`
	Completed    int       `json:"completed_folds"`
	AccuracyMean float64   `json:"accuracy_mean"`
	AccuracyStd  float64   `json:"accuracy_std"` // sample standard deviation across folds
	MacroF1Mean  float64   `json:"macro_f1_mean"`
	PerFold      []float64 `json:"accuracy_per_fold"`
	PooledAcc    float64   `json:"accuracy_pooled"` // every sentence predicted once, by the model that did not train on it
	Seconds      float64   `json:"seconds"`         // summed over the folds
	Threads      int       `json:"threads"`
}

// summarise reads the completed folds' result.json and writes the run's
// metrics.jsonl, summary.json, confusion matrix and attention page.
func (x *classifyRun) summarise(labels []string) error {
	var results []foldResult
	for k := 1; k <= x.cfg.Folds; k++ {
		raw, err := os.ReadFile(filepath.Join(x.dir, fmt.Sprintf("fold-%02d", k), "result.json"))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return errors.Wrap(err, "classify")
		}
		var r foldResult
		if err := json.Unmarshal(raw, &r); err != nil {
			return errors.Wrapf(err, "classify: fold %d result.json", k)
		}
		r.Fold = k
		results = append(results, r)
	}
	if len(results) == 0 {
		return errors.New("classify: no fold completed")
	}
	cm, err := metrics.NewConfusionMatrix(len(labels), labels...)
	if err != nil {
		return err
	}
	s := cvSummary{Folds: x.cfg.Folds, Completed: len(results)}
	var lines []byte
	var shown []shownText
	for _, r := range results {
		if err := addCounts(cm, r.Counts); err != nil {
			return errors.Wrapf(err, "classify: fold %d", r.Fold)
		}
		s.PerFold = append(s.PerFold, r.Accuracy)
		s.AccuracyMean += r.Accuracy / float64(len(results))
		s.MacroF1Mean += r.MacroF1 / float64(len(results))
		s.Seconds += r.Seconds
		s.Threads = r.Threads
		line, _ := json.Marshal(map[string]any{"split": "fold", "fold": r.Fold, "step": r.Step, "metrics": map[string]float64{
			"val_acc": r.Accuracy, "val_loss": r.Loss, "val_macro_f1": r.MacroF1, "seconds": r.Seconds}})
		lines = append(append(lines, line...), '\n')
		for i, t := range r.Shown {
			if i < max(1, x.cfg.Show/len(results)) {
				shown = append(shown, t)
			}
		}
	}
	if len(results) > 1 {
		var ss float64
		for _, a := range s.PerFold {
			ss += (a - s.AccuracyMean) * (a - s.AccuracyMean)
		}
		s.AccuracyStd = math.Sqrt(ss / float64(len(results)-1))
	}
	s.PooledAcc = cm.Accuracy()
	line, _ := json.Marshal(map[string]any{"split": "cv", "metrics": map[string]float64{
		"acc_mean": s.AccuracyMean, "acc_std": s.AccuracyStd, "acc_pooled": s.PooledAcc, "macro_f1_mean": s.MacroF1Mean,
		"completed_folds": float64(s.Completed)}})
	lines = append(append(lines, line...), '\n')
	if err := os.WriteFile(filepath.Join(x.dir, "metrics.jsonl"), lines, 0o644); err != nil {
		return errors.Wrap(err, "classify")
	}
	if err := train.WriteJSON(filepath.Join(x.dir, "summary.json"), s); err != nil {
		return err
	}
	if err := writeConfusion(x.dir, cm); err != nil {
		return err
	}
	title := fmt.Sprintf("%s, %s encoder: held-out sentences of each fold", x.cfg.Dataset, x.cfg.Encoder)
	if err := writeAttentionHTML(filepath.Join(x.dir, "attention.html"), title, x.cfg.Level, shown); err != nil {
		return err
	}
	fmt.Fprintf(x.log, "classify: %d/%d folds, accuracy %.4f +- %.4f (mean +- sample std; pooled %.4f), %.0f s, %d threads; run %s\n",
		s.Completed, s.Folds, s.AccuracyMean, s.AccuracyStd, s.PooledAcc, s.Seconds, s.Threads, x.dir)
	return nil
}

func addCounts(cm *metrics.ConfusionMatrix, counts [][]int) error {
	if len(counts) != cm.NumClasses() {
		return errors.Errorf("confusion matrix of %d classes, want %d", len(counts), cm.NumClasses())
	}
	for t, row := range counts {
		if len(row) != cm.NumClasses() {
			return errors.Errorf("confusion matrix row %d has %d columns", t, len(row))
		}
		for p, c := range row {
			for ; c > 0; c-- {
				if err := cm.Add(t, p); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// split trains a fresh model on trainEx, evaluating on valEx, in dir, and
// writes the vocabulary, labels, confusion matrix, attention page and
// result.json there. With a best checkpoint (SNIPS, where validation selects the
// model) the figures are those of the best weights; in cross-validation, where
// the held-out fold is a test set, they are those of the final weights.
func (x *classifyRun) split(dir string, trainEx, valEx []datasets.Example, labels []string, resume string) (*foldResult, error) {
	cfg := x.cfg
	cv := cfg.Dataset == "rt-polarity"
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, errors.Wrap(err, "classify")
	}
	trainToks := make([][]string, len(trainEx))
	counts := map[string]int{}
	for i, e := range trainEx {
		trainToks[i] = cfg.tokenize(e.Text)
		for _, t := range trainToks[i] {
			counts[t]++
		}
	}
	voc, err := vocab.Build(counts, vocab.BuildOptions{MinFreq: cfg.MinFreq})
	if err != nil {
		return nil, err
	}
	if err := voc.Save(filepath.Join(dir, "vocab.json")); err != nil {
		return nil, err
	}
	if err := train.WriteJSON(filepath.Join(dir, "labels.json"), labels); err != nil {
		return nil, err
	}
	if dir != x.dir {
		if err := train.WriteConfig(dir, cfg, train.CurrentEnv(cfg.Threads, os.Args)); err != nil {
			return nil, err
		}
	}
	encode := func(toks []string) []int {
		ids := voc.Encode(toks)
		if len(ids) > cfg.MaxLen {
			ids = ids[:cfg.MaxLen]
		}
		return ids
	}
	d := &classifyData{labels: labels}
	for i, e := range trainEx {
		d.train = append(d.train, encode(trainToks[i]))
		d.trainY = append(d.trainY, e.Label)
	}
	for _, e := range valEx {
		toks := cfg.tokenize(e.Text)
		d.val = append(d.val, encode(toks))
		d.valY = append(d.valY, e.Label)
	}
	store := graph.NewStore(tensor.Float32, graph.NewRNG(cfg.Seed, "init"))
	model, err := classify.New(store, cfg.model(voc.Len(), len(labels)))
	if err != nil {
		return nil, usage(err)
	}
	task, err := newClassifyTask(cfg, model, store, d)
	if err != nil {
		return nil, err
	}
	defer task.close()
	ad := solvers.DefaultAdamConfig()
	ad.LR, ad.WeightDecay = cfg.LR, cfg.WeightDecay
	solver, err := solvers.NewAdam(ad)
	if err != nil {
		return nil, usage(err)
	}
	common := cfg.Common
	common.Resume, common.Out = resume, dir
	loop := &train.Loop{
		Dir: dir, Common: common, Store: store, Solver: solver, ClipNorm: cfg.ClipNorm, Task: task,
		Schedule: epochDecay{base: cfg.LR, decay: cfg.Decay, after: 1, stepsPerEpoch: task.StepsPerEpoch()},
		ItemName: "sentences", Log: x.log,
	}
	if !cv {
		loop.Best, loop.BestMax = "val_acc", true
	}
	fmt.Fprintf(x.log, "classify: %s, %d parameters, vocabulary %d, %d train / %d validation sentences, buckets %v, %d steps per epoch, run %s\n",
		cfg.Encoder, store.Count(), voc.Len(), len(d.train), len(d.val), task.bounds, task.StepsPerEpoch(), dir)
	sum, err := loop.Run(x.ctx)
	if err != nil {
		return nil, err
	}
	step := sum.Steps
	if !cv {
		if _, err := train.LoadParams(dir, store); err != nil {
			return nil, err
		}
		step = sum.BestStep
	}
	ev, err := task.evaluate(cfg.Show)
	if err != nil {
		return nil, err
	}
	res := &foldResult{Accuracy: ev.cm.Accuracy(), MacroF1: ev.cm.MacroF1(), Loss: ev.loss, Step: step, Seconds: sum.Seconds,
		Threads: sum.Threads, Examples: len(d.val), Labels: labels, Counts: ev.cm.Counts, Bounds: task.bounds,
		Vocab: voc.Len(), Params: store.Count()}
	for _, r := range ev.shown {
		toks := voc.Decode(r.ids)
		res.Shown = append(res.Shown, shownText{Tokens: toks, Weights: r.weights, Truth: labels[r.truth], Pred: labels[r.pred], Prob: r.prob})
	}
	if err := writeConfusion(dir, ev.cm); err != nil {
		return nil, err
	}
	title := fmt.Sprintf("%s, %s encoder: validation sentences", cfg.Dataset, cfg.Encoder)
	if err := writeAttentionHTML(filepath.Join(dir, "attention.html"), title, cfg.Level, res.Shown); err != nil {
		return nil, err
	}
	if err := train.WriteJSON(filepath.Join(dir, "result.json"), res); err != nil {
		return nil, err
	}
	return res, nil
}

// classifyData holds the encoded sentences of one split.
type classifyData struct {
	train, val   [][]int
	trainY, valY []int
	labels       []string
}

// classifyTask trains on length-bucketed batches: each epoch's batches come
// from the bucketer shuffled with the epoch's own seeded stream, so a batch is
// a function of the step.
type classifyTask struct {
	cfg      classifyConfig
	model    *classify.Classifier
	store    *graph.Store
	data     *classifyData
	bucketer *batch.Bucketer
	bounds   []int
	progs    map[int]*classify.Program
	evals    map[int]*classify.Program
	epoch    int
	batches  []batch.Batch
}

// seen returns the number of positions the model sees for a sentence.
func (t *classifyTask) seen(ids []int) int {
	return len(t.model.Prepare(ids, math.MaxInt))
}

func newClassifyTask(cfg classifyConfig, model *classify.Classifier, store *graph.Store, d *classifyData) (*classifyTask, error) {
	t := &classifyTask{cfg: cfg, model: model, store: store, data: d, epoch: -1,
		progs: map[int]*classify.Program{}, evals: map[int]*classify.Program{}}
	if len(d.train) == 0 || len(d.val) == 0 {
		return nil, usage(errors.Errorf("classify: %d training and %d validation sentences", len(d.train), len(d.val)))
	}
	var all []int
	lens := make([]int, len(d.train))
	ones := make([]int, len(d.train))
	for i, s := range d.train {
		lens[i], ones[i] = t.seen(s), 1
		all = append(all, lens[i])
	}
	for _, s := range d.val {
		all = append(all, t.seen(s))
	}
	bounds, _ := parseBuckets(cfg.Buckets)
	if bounds == nil {
		bounds = autoBuckets(all)
	}
	longest := 0
	for _, l := range all {
		longest = max(longest, l)
	}
	if bounds[len(bounds)-1] < longest { // the last bucket holds every longer sentence, cut to its length
		for i, l := range lens {
			lens[i] = min(l, bounds[len(bounds)-1])
		}
	}
	t.bounds = bounds
	var err error
	t.bucketer, err = batch.NewBucketer(lens, ones, batch.BucketConfig{SrcBounds: bounds, TgtBounds: []int{1}, BatchSize: cfg.Batch})
	if err != nil {
		return nil, err
	}
	return t, nil
}

// autoBuckets returns the padded lengths of three buckets: the 50th and 90th
// percentiles of the lengths rounded up to a multiple of 4, and the longest.
func autoBuckets(lengths []int) []int {
	s := append([]int(nil), lengths...)
	sort.Ints(s)
	longest := s[len(s)-1]
	var out []int
	for _, q := range []float64{0.5, 0.9} {
		b := (s[int(q*float64(len(s)-1))] + 3) / 4 * 4
		if b < longest && (len(out) == 0 || b > out[len(out)-1]) {
			out = append(out, b)
		}
	}
	return append(out, longest)
}

func (t *classifyTask) close() {
	for _, p := range t.progs {
		p.Close()
	}
	for _, p := range t.evals {
		p.Close()
	}
}

func (t *classifyTask) StepsPerEpoch() int { return t.bucketer.NumBatches() }

func (t *classifyTask) program(mode graph.Mode, length int) (*classify.Program, error) {
	cache := t.progs
	if mode == graph.Eval {
		cache = t.evals
	}
	if p, ok := cache[length]; ok {
		return p, nil
	}
	p, err := t.model.Build(t.store, mode, t.cfg.Batch, length)
	if err != nil {
		return nil, err
	}
	cache[length] = p
	return p, nil
}

func (t *classifyTask) TrainStep(step int, noise *rand.Rand) (train.Result, error) {
	spe := t.StepsPerEpoch()
	if epoch := step / spe; epoch != t.epoch {
		t.batches = t.bucketer.Epoch(graph.NewRNG(t.cfg.Seed, "shuffle/"+strconv.Itoa(epoch)))
		t.epoch = epoch
	}
	bt := t.batches[step%spe]
	prog, err := t.program(graph.Train, bt.Shape.Src)
	if err != nil {
		return train.Result{}, err
	}
	seqs := make([][]int, len(bt.Indices))
	ys := make([]int, len(bt.Indices))
	for i, j := range bt.Indices {
		seqs[i], ys[i] = t.data.train[j], t.data.trainY[j]
	}
	if p := t.cfg.WordDrop; p > 0 {
		// word dropout (Iyyer et al. 2015; here a dropped token becomes <unk>, which
		// also trains the embedding of words unseen in training), drawn from the
		// step's own stream
		rng := graph.NewRNG(t.cfg.Seed, "words/"+strconv.Itoa(step))
		for i, s := range seqs {
			d := make([]int, len(s))
			for k, id := range s {
				if d[k] = id; rng.Float64() < p {
					d[k] = vocab.UnkID
				}
			}
			seqs[i] = d
		}
	}
	if _, err := prog.Feed(seqs, ys); err != nil {
		return train.Result{}, err
	}
	prog.SetNoise(noise)
	if err := prog.Run(); err != nil {
		return train.Result{}, err
	}
	return train.Result{Loss: prog.Loss(), Items: len(seqs)}, nil
}

// Evaluate returns the validation loss (mean nats per sentence), accuracy and
// macro F1.
func (t *classifyTask) Evaluate() (map[string]float64, error) {
	ev, err := t.evaluate(0)
	if err != nil {
		return nil, err
	}
	return map[string]float64{"val_loss": ev.loss, "val_acc": ev.cm.Accuracy(), "val_macro_f1": ev.cm.MacroF1()}, nil
}

// evaluation is the outcome of one pass over the validation sentences.
type evaluation struct {
	loss  float64
	cm    *metrics.ConfusionMatrix
	shown []shownRow
}

type shownRow struct {
	ids         []int
	weights     []float64
	truth, pred int
	prob        float64
}

// evaluate runs the validation sentences, grouped by bucket in their order, and
// keeps the attention weights of show sentences spread evenly over the set.
func (t *classifyTask) evaluate(show int) (*evaluation, error) {
	n := len(t.data.val)
	show = min(show, n)
	picked := map[int]bool{}
	for i := 0; i < show; i++ {
		picked[i*n/show] = true
	}
	cm, err := metrics.NewConfusionMatrix(len(t.data.labels), t.data.labels...)
	if err != nil {
		return nil, err
	}
	groups := map[int][]int{}
	for i, s := range t.data.val {
		l := t.seen(s)
		b := t.bounds[len(t.bounds)-1]
		for _, bound := range t.bounds {
			if l <= bound {
				b = bound
				break
			}
		}
		groups[b] = append(groups[b], i)
	}
	ev := &evaluation{cm: cm}
	shown := map[int]shownRow{}
	var sum float64
	for _, bound := range t.bounds {
		idx := groups[bound]
		if len(idx) == 0 {
			continue
		}
		prog, err := t.program(graph.Eval, bound)
		if err != nil {
			return nil, err
		}
		for lo := 0; lo < len(idx); lo += t.cfg.Batch {
			chunk := idx[lo:min(lo+t.cfg.Batch, len(idx))]
			seqs := make([][]int, len(chunk))
			ys := make([]int, len(chunk))
			for i, j := range chunk {
				seqs[i], ys[i] = t.data.val[j], t.data.valY[j]
			}
			lengths, err := prog.Feed(seqs, ys)
			if err != nil {
				return nil, err
			}
			if err := prog.Run(); err != nil {
				return nil, err
			}
			out, err := prog.Output("loss")
			if err != nil {
				return nil, err
			}
			sum += graph.Scalar(out) * float64(len(chunk))
			logits, err := prog.Logits()
			if err != nil {
				return nil, err
			}
			var weights [][]float64
			for i, j := range chunk {
				probs := classify.Softmax(logits[i])
				pred, err := metrics.Argmax(probs)
				if err != nil {
					return nil, errors.Wrapf(err, "validation sentence %d", j)
				}
				if err := cm.Add(ys[i], pred); err != nil {
					return nil, err
				}
				if picked[j] {
					if weights == nil {
						if weights, err = prog.Weights(); err != nil {
							return nil, err
						}
					}
					shown[j] = shownRow{ids: t.model.Prepare(seqs[i], bound), weights: append([]float64(nil), weights[i][:lengths[i]]...),
						truth: ys[i], pred: pred, prob: probs[pred]}
				}
			}
		}
	}
	ev.loss = sum / float64(len(t.data.val))
	for i := 0; i < show; i++ {
		ev.shown = append(ev.shown, shown[i*n/show])
	}
	return ev, nil
}

// writeConfusion writes confusion.txt (the table with per-class figures) and
// confusion.json in dir.
func writeConfusion(dir string, cm *metrics.ConfusionMatrix) error {
	if err := os.WriteFile(filepath.Join(dir, "confusion.txt"), []byte(cm.String()+"\n"), 0o644); err != nil {
		return errors.Wrap(err, "classify")
	}
	type class struct {
		Label     string  `json:"label"`
		Precision float64 `json:"precision"`
		Recall    float64 `json:"recall"`
		F1        float64 `json:"f1"`
		Support   int     `json:"support"`
	}
	var classes []class
	for k, c := range cm.Classes() {
		classes = append(classes, class{Label: cm.Labels[k], Precision: c.Precision, Recall: c.Recall, F1: c.F1, Support: c.Support})
	}
	return train.WriteJSON(filepath.Join(dir, "confusion.json"), map[string]any{
		"labels": cm.Labels, "counts": cm.Counts, "accuracy": cm.Accuracy(), "macro_f1": cm.MacroF1(), "classes": classes,
		"note": "counts[t][p]: sentences of true class t predicted as p",
	})
}

// writeAttentionHTML writes a page showing each sentence's tokens shaded by their
// attention weight (darker is more), relative to the sentence's largest weight.
func writeAttentionHTML(path, title, level string, rows []shownText) error {
	var sb strings.Builder
	sb.WriteString("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" + html.EscapeString(title) + "</title>\n")
	sb.WriteString("<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}div.s{margin:0.8em 0;line-height:1.9}" +
		"span.t{padding:0.1em 0.15em;border-radius:0.2em}span.m{color:#555;font-size:85%}</style></head><body>\n")
	sb.WriteString("<h1>" + html.EscapeString(title) + "</h1>\n<p>Each token is shaded by its attention weight, relative to the " +
		"sentence's largest weight; hover over a token for its weight. Label: truth &rarr; prediction (probability).</p>\n")
	for _, r := range rows {
		peak := 0.0
		for _, w := range r.Weights {
			peak = math.Max(peak, w)
		}
		mark := "&#10003;"
		if r.Truth != r.Pred {
			mark = "&#10007;"
		}
		fmt.Fprintf(&sb, "<div class=\"s\"><span class=\"m\">%s %s &rarr; %s (%.3f)</span><br>", mark,
			html.EscapeString(r.Truth), html.EscapeString(r.Pred), r.Prob)
		for i, tok := range r.Tokens {
			w := 0.0
			if i < len(r.Weights) {
				w = r.Weights[i]
			}
			alpha := 0.0
			if peak > 0 {
				alpha = w / peak
			}
			text := html.EscapeString(tok)
			if level == "char" && tok == " " {
				text = "&nbsp;"
			}
			sep := " "
			if level == "char" {
				sep = ""
			}
			fmt.Fprintf(&sb, "<span class=\"t\" title=\"%.4f\" style=\"background:rgba(214,39,40,%.3f)\">%s</span>%s", w, alpha, text, sep)
		}
		sb.WriteString("</div>\n")
	}
	sb.WriteString("</body></html>\n")
	return errors.Wrap(os.WriteFile(path, []byte(sb.String()), 0o644), "classify: attention page")
}

// classifyPredict labels every line of in with the class a trained run gives it
// and that class's probability, one "label<TAB>probability<TAB>line" per line.
func classifyPredict(args []string, in io.Reader, out io.Writer) error {
	fs := flag.NewFlagSet("triad classify predict", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	runPath := fs.String("run", "", "run directory of a `triad classify` run (for cross-validation, one fold's directory)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(os.Stdout)
			fmt.Println("usage: triad classify predict --run DIR < sentences.txt")
			fs.PrintDefaults()
			return errHelp
		}
		return usage(err)
	}
	if *runPath == "" {
		return usage(errors.New("--run DIR is required"))
	}
	if _, err := os.Stat(filepath.Join(*runPath, "vocab.json")); err != nil {
		if _, err2 := os.Stat(filepath.Join(*runPath, "fold-01")); err2 == nil {
			return usage(errors.Errorf("%s is a cross-validation run: pass one fold's directory, e.g. %s", *runPath, filepath.Join(*runPath, "fold-01")))
		}
		return usage(errors.Wrap(err, "not a classify run"))
	}
	cfg := defaultClassifyConfig()
	cfs := flag.NewFlagSet("config", flag.ContinueOnError)
	cfs.SetOutput(io.Discard)
	train.BindFlags(cfs, &cfg)
	if err := train.ParseConfig(cfs, &cfg, []string{"--config", filepath.Join(*runPath, "config.json")}); err != nil {
		return usage(err)
	}
	voc, err := vocab.LoadVocab(filepath.Join(*runPath, "vocab.json"))
	if err != nil {
		return usage(err)
	}
	var labels []string
	raw, err := os.ReadFile(filepath.Join(*runPath, "labels.json"))
	if err == nil {
		err = json.Unmarshal(raw, &labels)
	}
	if err != nil || len(labels) < 2 {
		return usage(errors.Errorf("%s: want a JSON list of at least 2 label names (%v)", filepath.Join(*runPath, "labels.json"), err))
	}
	store := graph.NewStore(tensor.Float32, graph.NewRNG(cfg.Seed, "init"))
	model, err := classify.New(store, cfg.model(voc.Len(), len(labels)))
	if err != nil {
		return usage(err)
	}
	if _, err := train.LoadParams(*runPath, store); err != nil {
		return usage(err)
	}
	p := &predictor{model: model, store: store, progs: map[int]*classify.Program{}}
	defer p.close()
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	w := bufio.NewWriter(out)
	defer w.Flush()
	for sc.Scan() {
		line := sc.Text()
		ids := voc.Encode(cfg.tokenize(line))
		if len(ids) > cfg.MaxLen {
			ids = ids[:cfg.MaxLen]
		}
		probs, err := p.predict(ids)
		if err != nil {
			return err
		}
		best, err := metrics.Argmax(probs)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "%s\t%.4f\t%s\n", labels[best], probs[best], line)
		if err := w.Flush(); err != nil {
			return errors.Wrap(err, "classify predict")
		}
	}
	return errors.Wrap(sc.Err(), "classify predict: reading the input")
}

// predictor runs one sentence at a time through evaluation graphs of batch 1,
// one per length rounded up to a multiple of 8, built on first use.
type predictor struct {
	model *classify.Classifier
	store *graph.Store
	progs map[int]*classify.Program
}

func (p *predictor) predict(ids []int) ([]float64, error) {
	n := len(p.model.Prepare(ids, math.MaxInt))
	length := (n + 7) / 8 * 8
	prog, ok := p.progs[length]
	if !ok {
		var err error
		if prog, err = p.model.Build(p.store, graph.Eval, 1, length); err != nil {
			return nil, err
		}
		p.progs[length] = prog
	}
	if _, err := prog.Feed([][]int{ids}, nil); err != nil {
		return nil, err
	}
	if err := prog.Run(); err != nil {
		return nil, err
	}
	logits, err := prog.Logits()
	if err != nil {
		return nil, err
	}
	return classify.Softmax(logits[0]), nil
}

func (p *predictor) close() {
	for _, prog := range p.progs {
		prog.Close()
	}
}
