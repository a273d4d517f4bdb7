package classify

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/datasets"
	"github.com/triadml/triad/datasets/vocab"
	"github.com/triadml/triad/graph"
	classifier "github.com/triadml/triad/models/classify"
	"github.com/triadml/triad/solvers"
	"github.com/triadml/triad/train"
)

// Result is what one training run (a split, or a fold of cross-validation)
// leaves in its result.json.
type Result struct {
	// Fold is the fold, counted from 1 (0 for a single split).
	Fold     int     `json:"fold,omitempty"`
	Accuracy float64 `json:"accuracy"`
	MacroF1  float64 `json:"macro_f1"`
	// Loss is the mean validation cross-entropy in nats per sentence.
	Loss float64 `json:"loss"`
	// Step is the step of the evaluated weights.
	Step     int     `json:"step"`
	Seconds  float64 `json:"seconds"`
	Threads  int     `json:"threads"`
	Examples int     `json:"examples"`
	// Labels names the classes; Counts[t][p] counts the validation sentences of
	// true class t predicted as p.
	Labels []string `json:"labels"`
	Counts [][]int  `json:"confusion"`
	// Bounds are the padded lengths of the length buckets.
	Bounds []int `json:"buckets"`
	Vocab  int   `json:"vocab"`
	Params int   `json:"params"`
	// Shown are the validation sentences drawn in attention.html.
	Shown []ShownText `json:"attention"`
}

// ShownText is one validation sentence drawn in attention.html, with the
// attention weight of each token the model saw.
type ShownText struct {
	Tokens  []string  `json:"tokens"`
	Weights []float64 `json:"weights"`
	Truth   string    `json:"truth"`
	Pred    string    `json:"pred"`
	// Prob is the probability of the prediction.
	Prob float64 `json:"prob"`
}

// split trains a fresh model on trainEx, evaluating on valEx, in dir, and
// writes the vocabulary, labels, confusion matrix, attention page and
// result.json there. With a best checkpoint (SNIPS, where validation selects the
// model) the figures are those of the best weights; in cross-validation, where
// the held-out fold is a test set, they are those of the final weights.
func (x *runner) split(dir string, trainEx, valEx []datasets.Example, labels []string, resume string) (*Result, error) {
	cfg := x.cfg
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, errors.Wrap(err, "classify")
	}
	d, voc, err := x.prepare(dir, trainEx, valEx, labels)
	if err != nil {
		return nil, err
	}
	store := graph.NewStore(tensor.Float32, graph.NewRNG(cfg.Seed, "init"))
	model, err := classifier.New(store, cfg.model(voc.Len(), len(labels)))
	if err != nil {
		return nil, train.Usage(err)
	}
	t, err := newTask(cfg, model, store, d)
	if err != nil {
		return nil, err
	}
	defer t.close()
	solver, err := cfg.Solver("adam", solvers.Hyper{"lr": cfg.LR, "weight_decay": cfg.WeightDecay})
	if err != nil {
		return nil, err
	}
	loop := x.s.Loop()
	loop.Dir, loop.Common.Resume, loop.Common.Out = dir, resume, dir
	loop.Store, loop.Solver, loop.ClipNorm, loop.Task, loop.ItemName = store, solver, cfg.ClipNorm, t, "sentences"
	loop.Schedule = solvers.WarmupDecay{Base: cfg.LR, Decay: cfg.Decay, After: 1, StepsPerEpoch: t.StepsPerEpoch()}
	if !cfg.crossValidated() {
		loop.Best, loop.BestMax = "val_acc", true
	}
	x.s.Logf("classify: %s, %d parameters, vocabulary %d, %d train / %d validation sentences, buckets %v, %d steps per epoch, run %s",
		cfg.Encoder, store.Count(), voc.Len(), len(d.train), len(d.val), t.bounds, t.StepsPerEpoch(), dir)
	sum, err := loop.Run(x.ctx)
	if err != nil && !errors.Is(err, train.ErrFinished) { // a fold trained to its end still gets its report
		return nil, err
	}
	if !x.s.Root() { // rank 0 of a group evaluates and reports
		return &Result{Step: sum.Steps, Seconds: sum.Seconds, Threads: sum.Threads}, nil
	}
	step := sum.Steps
	if !cfg.crossValidated() {
		if _, err := train.LoadParams(dir, store); err != nil {
			return nil, err
		}
		step = sum.BestStep
	}
	ev, err := t.evaluate(cfg.Show)
	if err != nil {
		return nil, err
	}
	res := &Result{Accuracy: ev.cm.Accuracy(), MacroF1: ev.cm.MacroF1(), Loss: ev.loss, Step: step, Seconds: sum.Seconds,
		Threads: sum.Threads, Examples: len(d.val), Labels: labels, Counts: ev.cm.Counts, Bounds: t.bounds,
		Vocab: voc.Len(), Params: store.Count()}
	for _, r := range ev.shown {
		res.Shown = append(res.Shown, ShownText{Tokens: voc.Decode(r.ids), Weights: r.weights, Truth: labels[r.truth], Pred: labels[r.pred], Prob: r.prob})
	}
	if err := writeConfusion(dir, ev.cm); err != nil {
		return nil, err
	}
	title := fmt.Sprintf("%s, %s encoder: validation sentences", cfg.Dataset, cfg.Encoder)
	if err := writeAttention(filepath.Join(dir, "attention.html"), title, cfg.Level, res.Shown); err != nil {
		return nil, err
	}
	if err := train.WriteJSON(filepath.Join(dir, "result.json"), res); err != nil {
		return nil, err
	}
	return res, nil
}

// prepare builds the vocabulary of the training sentences, writes it, the
// labels and (in a fold's directory) config.json in dir, and encodes both sets.
func (x *runner) prepare(dir string, trainEx, valEx []datasets.Example, labels []string) (*data, *vocab.Vocab, error) {
	cfg := x.cfg
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
		return nil, nil, err
	}
	if x.s.Root() { // rank 0 of a group writes the run's files
		if err := voc.Save(filepath.Join(dir, "vocab.json")); err != nil {
			return nil, nil, err
		}
		if err := train.WriteJSON(filepath.Join(dir, "labels.json"), labels); err != nil {
			return nil, nil, err
		}
		if dir != x.s.Dir {
			if err := train.WriteConfig(dir, cfg, train.CurrentEnv(cfg.Threads, os.Args)); err != nil {
				return nil, nil, err
			}
		}
	}
	d := &data{labels: labels}
	for i, e := range trainEx {
		d.train = append(d.train, cfg.encode(voc, trainToks[i]))
		d.trainY = append(d.trainY, e.Label)
	}
	for _, e := range valEx {
		d.val = append(d.val, cfg.encode(voc, cfg.tokenize(e.Text)))
		d.valY = append(d.valY, e.Label)
	}
	return d, voc, nil
}
