package train_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/solvers"
	"github.com/triadml/triad/train"
)

// lineTask fits y = 2x + 1 on eight points, four per step.
type lineTask struct {
	train, eval *graph.Program
	xs, ys      []float64
}

func newLineTask(s *graph.Store) (*lineTask, error) {
	lin, err := graph.NewLinear(s, "fc", 1, 1, true)
	if err != nil {
		return nil, err
	}
	build := func(mode graph.Mode, n int) (*graph.Program, error) {
		b := graph.NewBuilder(s, mode)
		x := b.Input("x", tensor.Float64, n, 1)
		y := b.Input("y", tensor.Float64, n, 1)
		loss := b.Check(G.Mean(b.Check(G.Square(b.Check(G.Sub(lin.Forward(b, x), y))))))
		if mode == graph.Eval {
			b.Output("loss", loss)
			return b.Compile(nil)
		}
		return b.Compile(loss)
	}
	t := &lineTask{}
	for i := 0; i < 8; i++ {
		x := float64(i)/4 - 1
		t.xs, t.ys = append(t.xs, x), append(t.ys, 2*x+1)
	}
	if t.train, err = build(graph.Train, 4); err != nil {
		return nil, err
	}
	if t.eval, err = build(graph.Eval, 8); err != nil {
		return nil, err
	}
	return t, nil
}

func (t *lineTask) feed(p *graph.Program, lo, hi int) error {
	n := hi - lo
	if err := p.Set("x", tensor.New(tensor.WithShape(n, 1), tensor.WithBacking(append([]float64(nil), t.xs[lo:hi]...)))); err != nil {
		return err
	}
	return p.Set("y", tensor.New(tensor.WithShape(n, 1), tensor.WithBacking(append([]float64(nil), t.ys[lo:hi]...))))
}

// StepsPerEpoch is two batches of four points.
func (t *lineTask) StepsPerEpoch() int { return 2 }

// TrainStep trains on batch step%2: the batch is a function of the step.
func (t *lineTask) TrainStep(step int, _ *rand.Rand) (train.Result, error) {
	lo := 4 * (step % 2)
	if err := t.feed(t.train, lo, lo+4); err != nil {
		return train.Result{}, err
	}
	if err := t.train.Run(); err != nil {
		return train.Result{}, err
	}
	return train.Result{Loss: t.train.Loss(), Items: 4}, nil
}

// Evaluate returns the mean squared error over the eight points.
func (t *lineTask) Evaluate() (map[string]float64, error) {
	if err := t.feed(t.eval, 0, 8); err != nil {
		return nil, err
	}
	if err := t.eval.Run(); err != nil {
		return nil, err
	}
	v, err := t.eval.Output("loss")
	if err != nil {
		return nil, err
	}
	return map[string]float64{"val_loss": graph.Scalar(v)}, nil
}

// A Task run by the Loop for 10 epochs of two steps into a run directory:
// metrics.jsonl (a training line every 5 steps, an evaluation every 10),
// checkpoints, the learning curve and summary.json.
func ExampleLoop() {
	dir, err := os.MkdirTemp("", "triad-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	store := graph.NewStore(tensor.Float64, graph.NewRNG(1, "init"))
	task, err := newLineTask(store)
	if err != nil {
		fmt.Println(err)
		return
	}
	sgd, err := solvers.NewSGD(solvers.SGDConfig{LR: 0.2})
	if err != nil {
		fmt.Println(err)
		return
	}
	loop := &train.Loop{Dir: dir, Store: store, Solver: sgd, Task: task, Best: "val_loss",
		Common: train.Common{Seed: 1, Epochs: 10, EvalEvery: 10, LogEvery: 5}, Log: io.Discard}
	sum, err := loop.Run(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	metrics, err := os.ReadFile(filepath.Join(dir, "metrics.jsonl"))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, line := range strings.Split(strings.TrimSpace(string(metrics)), "\n") {
		var p train.Point
		if err := json.Unmarshal([]byte(line), &p); err != nil {
			fmt.Println(err)
			return
		}
		for _, k := range []string{"loss", "val_loss"} {
			if v, ok := p.Metrics[k]; ok {
				fmt.Printf("step %2d %-5s %s %.4f\n", p.Step, p.Split, k, v)
			}
		}
	}
	w, _ := store.Get("fc.weight")
	bias, _ := store.Get("fc.bias")
	fmt.Printf("%d steps, %.0f epochs, val_loss %.4f\n", sum.Steps, sum.Epochs, sum.Final["val_loss"])
	fmt.Printf("y = %.4f x + %.4f\n", graph.Scalar(w.Value), graph.Scalar(bias.Value))
	for _, f := range []string{"metrics.jsonl", "summary.json", "learning_curve.png", "checkpoints/last.safetensors", "checkpoints/best.safetensors"} {
		_, err := os.Stat(filepath.Join(dir, f))
		fmt.Println(f, err == nil)
	}
	// The numbers are those of plain SGD on this problem written out by hand:
	// the training lines average the batch losses since the previous line.

	// Output:
	// step  5 train loss 1.6441
	// step 10 train loss 0.3127
	// step 10 val   val_loss 0.0619
	// step 15 train loss 0.0492
	// step 20 train loss 0.0102
	// step 20 val   val_loss 0.0021
	// 20 steps, 10 epochs, val_loss 0.0021
	// y = 1.9194 x + 0.9942
	// metrics.jsonl true
	// summary.json true
	// learning_curve.png true
	// checkpoints/last.safetensors true
	// checkpoints/best.safetensors true
}

// An experiment's config struct bound to flags: defaults, then a JSON file
// (--config), then the flags given, each overriding the one before.
func ExampleParseConfig() {
	type config struct {
		train.Common
		Hidden int     `json:"hidden" help:"hidden units"`
		LR     float64 `json:"lr" help:"learning rate"`
	}
	cfg := config{Common: train.Common{Seed: 1, Epochs: 10}, Hidden: 128, LR: 1e-3}
	fs := flag.NewFlagSet("example", flag.ContinueOnError)
	train.BindFlags(fs, &cfg)
	file, err := os.CreateTemp("", "triad-config-*.json")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.Remove(file.Name())
	if _, err := file.WriteString(`{"hidden": 64, "lr": 0.01}`); err != nil {
		fmt.Println(err)
		return
	}
	file.Close()
	args := []string{"--config", file.Name(), "--hidden", "256", "--epochs", "3"}
	if err := train.ParseConfig(fs, &cfg, args); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("hidden %d, lr %g, epochs %d, seed %d\n", cfg.Hidden, cfg.LR, cfg.Epochs, cfg.Seed)
	// Output:
	// hidden 256, lr 0.01, epochs 3, seed 1
}
