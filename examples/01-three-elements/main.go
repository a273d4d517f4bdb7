// Command 01-three-elements shows the three elements of a neural network on one
// small problem, two interleaved spirals: swap the structure, the loss or the
// solver and watch the training curves change.
//
//	go run ./examples/01-three-elements [-out DIR] [-short]
package main

import (
	"fmt"
	"math"
	"os"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/examples/notebook"
	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/losses"
	"github.com/triadml/triad/metrics"
	"github.com/triadml/triad/solvers"
)

func main() {
	notebook.Run("examples/01-three-elements/out", run)
}

// recipe is one choice of the three elements.
type recipe struct {
	label     string
	structure string // "mlp" or "linear"
	loss      string // "cross-entropy" or "mse"
	solver    string // "adam" or "sgd"
}

func run(out string, short bool) error {
	nb, err := notebook.New(out, "The three elements: structure, loss, solver", short, os.Stdout)
	if err != nil {
		return err
	}
	nb.Text("A network is a structure (how inputs become predictions), a loss (how wrong a prediction is) and a solver (how the parameters move to lower the loss). We train on two interleaved spirals, 2-D points of two classes that no straight line separates, and change one element at a time.")
	x, y := spirals(200, 1)
	nb.Printf("%d points, %d classes; first point (%.3f, %.3f) of class %d\n", len(y), 2, x[0], x[1], y[0])

	recipes := []recipe{
		{"MLP + cross-entropy + Adam", "mlp", "cross-entropy", "adam"},
		{"linear + cross-entropy + Adam (structure swapped)", "linear", "cross-entropy", "adam"},
		{"MLP + MSE + Adam (loss swapped)", "mlp", "mse", "adam"},
		{"MLP + cross-entropy + SGD (solver swapped)", "mlp", "cross-entropy", "sgd"},
	}
	steps := 1500
	if short {
		steps = 30
	}
	curves := notebook.Curves{}
	var order []string
	for _, r := range recipes {
		accs, err := train(r, x, y, steps)
		if err != nil {
			return fmt.Errorf("%s: %w", r.label, err)
		}
		curves[r.label] = accs
		order = append(order, r.label)
		nb.Printf("%-52s training accuracy after %d steps: %.3f\n", r.label, steps, accs[len(accs)-1][1])
	}
	if err := nb.Plot("accuracy", "training accuracy on two spirals", "step", "accuracy", curves, order); err != nil {
		return err
	}
	nb.Text("The linear structure cannot bend its decision boundary and stays near chance; the MLP separates the spirals. Mean squared error on the class probabilities gets there too, a few steps later here: its gradient shrinks when a prediction is confidently wrong, where cross-entropy's does not. Plain SGD with the same number of steps lags behind Adam, which scales each parameter's step by its gradient history.")
	return nb.Close()
}

// spirals returns n points per class of two interleaved spirals (Lang and
// Witbrock 1988), as a row-major (2n, 2) matrix and class ids.
func spirals(n int, seed uint64) ([]float64, []int) {
	rng := graph.NewRNG(seed, "spirals")
	var x []float64
	var y []int
	for i := 0; i < n; i++ {
		r := float64(i) / float64(n) * 5
		t := 1.75 * float64(i) / float64(n) * 2 * math.Pi
		for c := 0; c < 2; c++ {
			a := t + float64(c)*math.Pi
			x = append(x, r*math.Sin(a)/5+0.02*rng.NormFloat64(), r*math.Cos(a)/5+0.02*rng.NormFloat64())
			y = append(y, c)
		}
	}
	return x, y
}

func train(r recipe, xs []float64, ys []int, steps int) ([][2]float64, error) {
	n := len(ys)
	s := graph.NewStore(tensor.Float64, graph.NewRNG(7, "init"))
	b := graph.NewBuilder(s, graph.Train)
	x := b.Input("x", tensor.Float64, n, 2)
	var logits *G.Node
	switch r.structure {
	case "linear":
		lin, err := graph.NewLinear(s, "out", 2, 2, true)
		if err != nil {
			return nil, err
		}
		logits = lin.Forward(b, x)
	case "mlp":
		h := x
		for i, width := range []int{2, 32, 32} {
			if i == 0 {
				continue
			}
			lin, err := graph.NewLinear(s, fmt.Sprintf("hidden%d", i), []int{2, 32, 32}[i-1], width, true)
			if err != nil {
				return nil, err
			}
			h = b.Check(G.Tanh(lin.Forward(b, h)))
		}
		lin, err := graph.NewLinear(s, "out", 32, 2, true)
		if err != nil {
			return nil, err
		}
		logits = lin.Forward(b, h)
	}
	labels := b.Input("y", tensor.Int, n)
	onehot := b.Input("onehot", tensor.Float64, n, 2)
	var loss *G.Node
	switch r.loss {
	case "cross-entropy":
		loss = b.Check(losses.CrossEntropy(logits, labels, losses.CEOptions{}))
	case "mse":
		probs := b.Check(graph.SoftMax(logits, 1, nil))
		loss = b.Check(losses.MSE(probs, onehot, losses.Options{}))
	}
	b.Output("logits", logits)
	prog, err := b.Compile(loss)
	if err != nil {
		return nil, err
	}
	var opt solvers.Solver
	switch r.solver {
	case "adam":
		cfg := solvers.DefaultAdamConfig()
		cfg.LR = 0.01
		opt, err = solvers.NewAdam(cfg)
	case "sgd":
		opt, err = solvers.NewSGD(solvers.SGDConfig{LR: 0.1})
	}
	if err != nil {
		return nil, err
	}
	oh := make([]float64, 2*n)
	for i, c := range ys {
		oh[2*i+c] = 1
	}
	feeds := map[string]*tensor.Dense{
		"x":      tensor.New(tensor.WithShape(n, 2), tensor.WithBacking(xs)),
		"y":      tensor.New(tensor.WithShape(n), tensor.WithBacking(ys)),
		"onehot": tensor.New(tensor.WithShape(n, 2), tensor.WithBacking(oh)),
	}
	for name, v := range feeds {
		if err := prog.Set(name, v); err != nil {
			return nil, err
		}
	}
	var curve [][2]float64
	for step := 1; step <= steps; step++ {
		if err := prog.Run(); err != nil {
			return nil, err
		}
		if err := opt.Step(s.Params()); err != nil {
			return nil, err
		}
		if step%10 == 0 || step == steps {
			out, _ := prog.Output("logits")
			acc, err := metrics.AccuracyFromFlatLogits(graph.Slice[float64](out), 2, ys)
			if err != nil {
				return nil, err
			}
			curve = append(curve, [2]float64{float64(step), acc})
		}
	}
	return curve, nil
}
