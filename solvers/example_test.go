package solvers_test

import (
	"fmt"

	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/solvers"
)

// newParam returns a parameter holding w whose accumulated gradient is g, as
// a training program's run would leave it.
func newParam(w, g []float64) *graph.Param {
	s := graph.NewStore(tensor.Float64, graph.NewRNG(1, "init"))
	p := s.Must("w", []int{len(w)}, nil)
	copy(graph.Slice[float64](p.Value), w)
	copy(graph.Slice[float64](p.Grad), g)
	return p
}

// stepOnce makes one step of the solver opt, made with the error err, on p; it
// prints the error and reports false when either failed.
func stepOnce(opt solvers.Solver, err error, p *graph.Param) bool {
	if err == nil {
		err = opt.Step([]*graph.Param{p})
	}
	if err != nil {
		fmt.Println(err)
		return false
	}
	return true
}

// One step of plain gradient descent, w <- w - lr g; the step zeroes the
// gradient.
func ExampleSGD() {
	p := newParam([]float64{1, 2}, []float64{0.5, -1})
	opt, err := solvers.NewSGD(solvers.SGDConfig{LR: 0.1})
	if !stepOnce(opt, err, p) {
		return
	}
	fmt.Printf("w %.4f, gradient %.4f\n", graph.Float64s(p.Value), graph.Float64s(p.Grad))
	// Output:
	// w [0.9500 2.1000], gradient [0.0000 0.0000]
}

// Adam's first step moves every weight by about the learning rate against the
// sign of its gradient, whatever the gradient's size: with bias correction
// (Kingma and Ba 2015, algorithm 1) m_hat = g and v_hat = g^2, so the step is
// lr g / (|g| + eps).
func ExampleAdam() {
	p := newParam([]float64{1, 2, 3}, []float64{0.5, -100, 1e-3})
	opt, err := solvers.NewAdam(solvers.DefaultAdamConfig()) // lr 1e-3
	if !stepOnce(opt, err, p) {
		return
	}
	fmt.Printf("w %.4f\n", graph.Float64s(p.Value))
	// Output:
	// w [0.9990 2.0010 2.9990]
}
