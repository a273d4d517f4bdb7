// Package mlp is the template experiment: a multilayer perceptron classifying
// MNIST digits, in one file. It shows every part an experiment has, and nothing
// else: a config struct, a model built on a parameter store, a train.Task (one
// training step, one evaluation), the run (train.Open and the loop), and a loaded
// run that predicts. Copy it to start a new experiment.
//
// The model is 784-Hidden-10 with ReLU and dropout, trained with Adam on the first
// 55,000 training images; the last 5,000 validate (tuning reads only them) and the
// test set is scored once, at the end.
//
// From Go:
//
//	cfg := mlp.DefaultConfig()
//	cfg.Epochs = 2
//	sum, err := mlp.Run(ctx, cfg, os.Stderr)
//	m, err := mlp.Load(sum.Dir)
//	digits, err := m.Predict(images) // images: 28x28 intensities in [0, 1]
package mlp

import (
	"context"
	"io"
	"math"
	"math/rand/v2"
	"strconv"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/datasets"
	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/losses"
	"github.com/triadml/triad/train"
)

// Config holds the hyperparameters of `triad mlp`.
type Config struct {
	train.Common
	train.Optim `help.batch:"images per batch" help.lr:"Adam learning rate"`
	Hidden      int     `json:"hidden" help:"hidden units"`
	Dropout     float64 `json:"dropout" help:"dropout on the hidden layer"`
	train.Data  `help.data_dir:"directory of the MNIST idx files (default: the mnist dataset)"`
}

// DefaultConfig returns the defaults: 256 hidden units, dropout 0.2, batch 128,
// Adam 1e-3, 5 epochs.
func DefaultConfig() Config {
	return Config{Common: train.Common{Seed: 1, Epochs: 5, LogEvery: 100}, Hidden: 256, Dropout: 0.2,
		Optim: train.Optim{Batch: 128, LR: 1e-3}}
}

// Validate reports a setting out of range.
func (c Config) Validate() error {
	if c.Hidden <= 0 || c.Batch <= 0 || c.LR <= 0 || c.Dropout < 0 || c.Dropout >= 1 || c.ClipNorm < 0 {
		return errors.New("hidden, batch and lr must be positive, dropout in [0, 1), clip_norm not negative")
	}
	return nil
}

const pixels, classes, validation = 28 * 28, 10, 5000

// Model is the perceptron: fc1 (784 to Hidden), ReLU, dropout, fc2 (to 10).
type Model struct {
	Store    *graph.Store
	fc1, fc2 *graph.Linear
	dropout  float64
}

// NewModel creates the model's parameters in a new float32 store.
func NewModel(cfg Config) (*Model, error) {
	return newModelIn(graph.NewStore(tensor.Float32, graph.NewRNG(cfg.Seed, "init")), cfg)
}

// newModelIn is NewModel with the parameters created in s.
func newModelIn(s *graph.Store, cfg Config) (*Model, error) {
	fc1, err := graph.NewLinear(s, "fc1", pixels, cfg.Hidden, true)
	if err != nil {
		return nil, err
	}
	fc2, err := graph.NewLinear(s, "fc2", cfg.Hidden, classes, true)
	return &Model{Store: s, fc1: fc1, fc2: fc2, dropout: cfg.Dropout}, err
}

// Build compiles a program over batches of n images: inputs "x" (n, 784) and
// "y" (n), outputs "loss" (mean cross-entropy) and "logits".
func (m *Model) Build(mode graph.Mode, n int) (*graph.Program, error) {
	b := graph.NewBuilder(m.Store, mode)
	x := b.Input("x", tensor.Float32, n, pixels)
	y := b.Input("y", tensor.Int, n)
	h := graph.Dropout(b, b.Check(G.Rectify(m.fc1.Forward(b, x))), m.dropout)
	logits := m.fc2.Forward(b, h)
	loss := b.Check(losses.CrossEntropy(logits, y, losses.CEOptions{}))
	b.Output("loss", loss)
	b.Output("logits", logits)
	if mode == graph.Eval {
		return b.Compile(nil)
	}
	return b.Compile(loss)
}

// images is a set of images and their labels.
type images struct {
	x []float32
	y []int
}

func (d images) len() int { return len(d.y) }

// feed sets the images of idx as the program's inputs.
func (d images) feed(p *graph.Program, idx []int) error {
	x, y := make([]float32, 0, len(idx)*pixels), make([]int, len(idx))
	for i, k := range idx {
		x = append(x, d.x[k*pixels:(k+1)*pixels]...)
		y[i] = d.y[k]
	}
	if err := p.Set("x", tensor.New(tensor.WithShape(len(idx), pixels), tensor.WithBacking(x))); err != nil {
		return err
	}
	return p.Set("y", graph.FromInts(y, len(idx)))
}

// task is the train.Task: shuffled batches of the training images, an
// evaluation of loss and accuracy on the validation images.
type task struct {
	cfg              Config
	model            *Model
	train, val, test images
	prog, eval       *graph.Program
	shard            // the part of each batch in a data-parallel group (shard.go)
}

func (t *task) StepsPerEpoch() int { return t.train.len() / t.cfg.Batch }

// TrainStep runs batch step%StepsPerEpoch of the permutation drawn for its epoch,
// so that a resumed run sees the same batches.
func (t *task) TrainStep(step int, noise *rand.Rand) (train.Result, error) {
	if t.Size > 1 {
		return t.trainShard(step, noise)
	}
	epoch, pos := step/t.StepsPerEpoch(), step%t.StepsPerEpoch()
	perm := graph.NewRNG(t.cfg.Seed, "shuffle/"+strconv.Itoa(epoch)).Perm(t.train.len())
	if err := t.train.feed(t.prog, perm[pos*t.cfg.Batch:(pos+1)*t.cfg.Batch]); err != nil {
		return train.Result{}, err
	}
	t.prog.SetNoise(noise)
	if err := t.prog.Run(); err != nil {
		return train.Result{}, err
	}
	return train.Result{Loss: t.prog.Loss(), Items: t.cfg.Batch}, nil
}

func (t *task) Evaluate() (map[string]float64, error) {
	loss, acc, err := t.score(t.val)
	return map[string]float64{"val_loss": loss, "val_acc": acc}, err
}

// score returns the mean loss and the accuracy over d, in whole batches and a
// last partial one counted by its real rows.
func (t *task) score(d images) (loss, acc float64, err error) {
	correct := 0
	for lo := 0; lo < d.len(); lo += t.cfg.Batch {
		idx := make([]int, t.cfg.Batch)
		n := min(t.cfg.Batch, d.len()-lo)
		for i := range idx {
			idx[i] = lo + min(i, n-1) // the last batch repeats its last image
		}
		if err := d.feed(t.eval, idx); err != nil {
			return 0, 0, err
		}
		if err := t.eval.Run(); err != nil {
			return 0, 0, err
		}
		out, _ := t.eval.Output("logits")
		logits := graph.Slice[float32](out)[:n*classes]
		for i, p := range argmax(logits) {
			if p == d.y[lo+i] {
				correct++
			}
			loss += crossEntropy(logits[i*classes:(i+1)*classes], d.y[lo+i])
		}
	}
	return loss / float64(d.len()), float64(correct) / float64(d.len()), nil
}

// crossEntropy returns -log softmax(logits)[y] in float64: the loss of one
// image, whatever the rows its batch was padded with.
func crossEntropy(logits []float32, y int) float64 {
	return graph.LogSumExpRow(logits) - float64(logits[y])
}

func argmax(logits []float32) []int {
	out := make([]int, len(logits)/classes)
	for i := range out {
		row := logits[i*classes : (i+1)*classes]
		for c := range row {
			if row[c] > row[out[i]] {
				out[i] = c
			}
		}
	}
	return out
}

// load reads MNIST: the training split cut into train and validation, and test.
func load(cfg Config) (trainSet, valSet, testSet images, err error) {
	dir, err := cfg.Find("mnist")
	if err != nil {
		return trainSet, valSet, testSet, err
	}
	read := func(split string) (images, error) {
		img, labels, _, _, err := datasets.LoadMNIST(dir, split)
		if err != nil {
			return images{}, train.Usage(err)
		}
		y := make([]int, len(labels))
		for i, l := range labels {
			y[i] = int(l)
		}
		return images{x: datasets.ScalePixels(img), y: y}, nil
	}
	all, err := read("train")
	if err != nil {
		return trainSet, valSet, testSet, err
	}
	cut := max(all.len()-validation, all.len()*9/10)
	trainSet = images{x: all.x[:cut*pixels], y: all.y[:cut]}
	valSet = images{x: all.x[cut*pixels:], y: all.y[cut:]}
	testSet, err = read("test")
	return trainSet, valSet, testSet, err
}

// Summary is what a run returns: the loop's summary (summary.json), the run
// directory and the test accuracy of the best checkpoint.
type Summary struct {
	*train.Summary
	Dir      string  `json:"dir"`
	TestLoss float64 `json:"test_loss"`
	TestAcc  float64 `json:"test_acc"`
}

// Run trains a run, then scores the best checkpoint on the test set once.
func Run(ctx context.Context, cfg Config, log io.Writer) (sum *Summary, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, train.Usage(err)
	}
	trainSet, valSet, testSet, err := load(cfg)
	if err != nil {
		return nil, err
	}
	s, err := train.Open(ctx, "mlp", &cfg, log)
	if err != nil {
		return nil, err
	}
	defer s.Close(&err)
	model, err := NewModel(cfg)
	if err != nil {
		return nil, train.Usage(err)
	}
	t := &task{cfg: cfg, model: model, train: trainSet, val: valSet, test: testSet}
	if t.StepsPerEpoch() == 0 {
		return nil, train.Usage(errors.Errorf("batch %d exceeds the %d training images", cfg.Batch, trainSet.len()))
	}
	if t.prog, err = model.Build(graph.Train, cfg.Batch); err != nil {
		return nil, err
	}
	if t.eval, err = model.Build(graph.Eval, cfg.Batch); err != nil {
		return nil, err
	}
	if err := s.WriteConfig(); err != nil {
		return nil, err
	}
	solver, err := cfg.Solver("adam", map[string]any{"lr": cfg.LR})
	if err != nil {
		return nil, err
	}
	loop := s.Loop()
	loop.Store, loop.Solver, loop.ClipNorm, loop.Task = model.Store, solver, cfg.ClipNorm, t
	loop.Best, loop.BestMax, loop.ItemName = "val_acc", true, "images"
	s.Logf("mlp: %d-%d-%d, %d parameters, %d train / %d validation images, run %s",
		pixels, cfg.Hidden, classes, model.Store.Count(), trainSet.len(), valSet.len(), s.Dir)
	ts, err := loop.Run(ctx)
	if err != nil {
		return nil, err
	}
	sum = &Summary{Summary: ts, Dir: s.Dir}
	if !s.Root() { // rank 0 of a group scores the test set
		return sum, nil
	}
	if _, err := train.LoadParams(s.Dir, model.Store); err != nil {
		return nil, err
	}
	if sum.TestLoss, sum.TestAcc, err = t.score(testSet); err != nil {
		return nil, err
	}
	if !math.IsNaN(sum.TestAcc) && s.Root() {
		err = train.WriteJSON(s.Path("test.json"), map[string]float64{"test_loss": sum.TestLoss, "test_acc": sum.TestAcc})
	}
	s.Logf("mlp: test accuracy %.4f (loss %.4f) of the best checkpoint, step %d", sum.TestAcc, sum.TestLoss, ts.BestStep)
	return sum, err
}

// Classifier is a trained run loaded for prediction.
type Classifier struct {
	model *Model
	progs *graph.Programs[int, *graph.Program]
}

// Load reads a run directory: its config and best checkpoint.
func Load(dir string) (*Classifier, error) {
	var cfg Config
	if err := train.ReadConfig(dir, &cfg); err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, errors.Wrapf(err, "run %s", dir)
	}
	model, _, _, err := train.Restore(dir, cfg.Seed, func(s *graph.Store) (*Model, error) { return newModelIn(s, cfg) })
	if err != nil {
		return nil, err
	}
	build := func(n int) (*graph.Program, error) { return model.Build(graph.Eval, n) }
	return &Classifier{model: model, progs: graph.NewPrograms(build)}, nil
}

// Predict returns the most probable digit of each image (784 intensities in
// [0, 1], row after row).
func (c *Classifier) Predict(imgs [][]float32) ([]int, error) {
	if len(imgs) == 0 {
		return nil, nil
	}
	d := images{y: make([]int, len(imgs))}
	for i, im := range imgs {
		if len(im) != pixels {
			return nil, errors.Errorf("mlp: image %d has %d values, not %d", i, len(im), pixels)
		}
		d.x = append(d.x, im...)
	}
	p, err := c.progs.Get(len(imgs))
	if err != nil {
		return nil, err
	}
	idx := make([]int, len(imgs))
	for i := range idx {
		idx[i] = i
	}
	if err := d.feed(p, idx); err != nil {
		return nil, err
	}
	if err := p.Run(); err != nil {
		return nil, err
	}
	logits, _ := p.Output("logits")
	return argmax(graph.Slice[float32](logits)), nil
}

// Close frees the compiled programs.
func (c *Classifier) Close() error { return c.progs.Reset() }
