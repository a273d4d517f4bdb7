package losses_test

import (
	"fmt"

	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/losses"
)

// Cross-entropy of two rows of logits against integer classes, plain and with
// label smoothing, read from a forward-only program.
func ExampleCrossEntropy() {
	b := graph.NewBuilder(graph.NewStore(tensor.Float64, graph.NewRNG(1, "init")), graph.Eval)
	logits := b.Input("logits", tensor.Float64, 2, 3)
	targets := b.Input("targets", tensor.Int, 2)
	b.Output("plain", b.Check(losses.CrossEntropy(logits, targets, losses.CEOptions{})))
	b.Output("smoothed", b.Check(losses.CrossEntropy(logits, targets, losses.CEOptions{LabelSmoothing: 0.1})))
	prog, err := b.Compile(nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = prog.Set("logits", tensor.New(tensor.WithShape(2, 3), tensor.WithBacking([]float64{2, 1, 0.1, 0.5, 2.5, 0.3})))
	_ = prog.Set("targets", tensor.New(tensor.WithShape(2), tensor.WithBacking([]int{0, 1})))
	if err := prog.Run(); err != nil {
		fmt.Println(err)
		return
	}
	for _, name := range []string{"plain", "smoothed"} {
		v, _ := prog.Output(name)
		fmt.Printf("%s %.4f\n", name, graph.Scalar(v))
	}
	// The same numbers as PyTorch 1.13's F.cross_entropy(logits, targets) and
	// F.cross_entropy(logits, targets, label_smoothing=0.1).

	// Output:
	// plain 0.3185
	// smoothed 0.4369
}

// The KL divergence of a diagonal Gaussian N(mu, exp(logvar)) from N(0, I),
// -1/2 sum_j (1 + logvar_j - mu_j^2 - exp(logvar_j)), one value per row.
func ExampleKLStandardNormal() {
	b := graph.NewBuilder(graph.NewStore(tensor.Float64, graph.NewRNG(1, "init")), graph.Eval)
	mu := b.Input("mu", tensor.Float64, 2, 2)
	logvar := b.Input("logvar", tensor.Float64, 2, 2)
	b.Output("kl", b.Check(losses.KLStandardNormal(mu, logvar)))
	prog, err := b.Compile(nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = prog.Set("mu", tensor.New(tensor.WithShape(2, 2), tensor.WithBacking([]float64{0.5, -1, 0, 0})))
	_ = prog.Set("logvar", tensor.New(tensor.WithShape(2, 2), tensor.WithBacking([]float64{0, -0.5, 0, 0})))
	if err := prog.Run(); err != nil {
		fmt.Println(err)
		return
	}
	kl, _ := prog.Output("kl")
	fmt.Printf("%.4f\n", graph.Float64s(kl))
	// Row 1: -1/2 ((1 + 0 - 0.25 - 1) + (1 - 0.5 - 1 - exp(-0.5))); row 2 is
	// the prior itself.

	// Output:
	// [0.6783 0.0000]
}
