package graph_test

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
)

// A training program for least squares, loss = mean((x W^T + b - y)^2): build
// it once, feed a batch, run it, and read the loss and the gradients it adds
// into the parameters.
func ExampleBuilder_Compile() {
	store := graph.NewStore(tensor.Float64, graph.NewRNG(1, "init"))
	lin, err := graph.NewLinear(store, "fc", 2, 1, true)
	if err != nil {
		fmt.Println(err)
		return
	}
	// Fixed weights instead of the random initialisation, for the printout.
	copy(graph.Slice[float64](lin.Weight.Value), []float64{0.5, -0.25})
	copy(graph.Slice[float64](lin.Bias.Value), []float64{0.25})

	b := graph.NewBuilder(store, graph.Train)
	x := b.Input("x", tensor.Float64, 3, 2)
	y := b.Input("y", tensor.Float64, 3, 1)
	diff := b.Check(G.Sub(lin.Forward(b, x), y))
	loss := b.Check(G.Mean(b.Check(G.Square(diff))))
	prog, err := b.Compile(loss) // checks every error recorded while building
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = prog.Set("x", tensor.New(tensor.WithShape(3, 2), tensor.WithBacking([]float64{1, 2, 3, 4, 5, 6})))
	_ = prog.Set("y", tensor.New(tensor.WithShape(3, 1), tensor.WithBacking([]float64{1, 0, -1})))
	if err := prog.Run(); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("parameters:", store.Names())
	fmt.Printf("loss %.4f\n", prog.Loss())
	fmt.Printf("dloss/dW %.4f\n", graph.Float64s(lin.Weight.Grad))
	fmt.Printf("dloss/db %.4f\n", graph.Float64s(lin.Bias.Grad))
	// By hand: the predictions are (0.25, 0.75, 1.25), the errors (-0.75, 0.75,
	// 2.25), the loss 6.1875/3; dloss/dprediction = 2 error / 3 = (-0.5, 0.5,
	// 1.5), so dloss/dW = sum_i (2 error_i / 3) x_i and dloss/db = sum_i 2 error_i / 3.

	// Output:
	// parameters: [fc.bias fc.weight]
	// loss 2.0625
	// dloss/dW [8.5000 10.0000]
	// dloss/db [1.5000]
}

// A masked softmax: a position whose mask is at or below graph.MaskThreshold
// gets a probability of exactly zero.
func ExampleSoftMax() {
	b := graph.NewBuilder(graph.NewStore(tensor.Float64, graph.NewRNG(1, "init")), graph.Eval)
	x := b.Input("x", tensor.Float64, 2, 3)
	mask := b.Input("mask", tensor.Float64, 2, 3)
	b.Output("p", b.Check(graph.SoftMax(x, 1, mask)))
	prog, err := b.Compile(nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = prog.Set("x", tensor.New(tensor.WithShape(2, 3), tensor.WithBacking([]float64{1, 2, 3, 1000, 0, -1000})))
	_ = prog.Set("mask", tensor.New(tensor.WithShape(2, 3), tensor.WithBacking([]float64{0, 0, -1e9, 0, 0, 0})))
	if err := prog.Run(); err != nil {
		fmt.Println(err)
		return
	}
	p, _ := prog.Output("p")
	fmt.Printf("%.4f\n", graph.Float64s(p))
	// Row 1 is softmax(1, 2) = (1/(1+e), e/(1+e)) with the third position
	// excluded; row 2 holds one large value and stays finite.

	// Output:
	// [0.2689 0.7311 0.0000 1.0000 0.0000 0.0000]
}
