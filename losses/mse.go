package losses

import (
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
)

// Options holds the settings every elementwise loss shares.
type Options struct {
	// Weights is an optional float node of the loss's shape: per-element weights or
	// a mask. Not differentiated.
	Weights *G.Node
	// Reduction is how the elementwise losses are combined (default Mean).
	Reduction Reduction
}

// MSE is the squared error l = (a - b)^2 elementwise, reduced by opt: with the
// default Mean, sum((a - b)^2) / n. It mirrors torch.nn.functional.mse_loss(a, b,
// reduction=...). Both inputs are differentiated: dl/da = 2 (a - b) = -dl/db.
func MSE(pred, target *G.Node, opt Options) (*G.Node, error) {
	if err := sameFloat("mse", []string{"prediction", "target"}, pred, target); err != nil {
		return nil, err
	}
	per, err := graph.Apply(squaredError{}, pred, target)
	if err != nil {
		return nil, errors.Wrap(err, "mse")
	}
	out, err := Reduce(per, opt.Weights, opt.Reduction)
	return out, errors.Wrap(err, "mse")
}

type squaredError struct{}

func (squaredError) Key() string { return "losses.squared_error" }

func (squaredError) OutputShape(in []tensor.Shape) (tensor.Shape, error) {
	if err := graph.WantInputs(in, 2); err != nil {
		return nil, err
	}
	if !in[1].Eq(in[0]) {
		return nil, errors.Errorf("target shape %v differs from prediction shape %v", in[1], in[0])
	}
	return in[0].Clone(), nil
}

func (squaredError) Differentiable(int) []bool { return []bool{true, true} }

func (squaredError) ForwardInto(out *tensor.Dense, in []*tensor.Dense) error {
	a, b := values(in[0]), values(in[1])
	for i := range a {
		d := a[i] - b[i]
		a[i] = d * d
	}
	return graph.SetFloat64s(out, a)
}

func (squaredError) BackwardInto(grad *tensor.Dense, wrt int, in []*tensor.Dense, _, g *tensor.Dense) error {
	a, b, gs := values(in[0]), values(in[1]), values(g)
	sign := 2.0
	if wrt == 1 {
		sign = -2
	}
	for i := range a {
		a[i] = sign * (a[i] - b[i]) * gs[i]
	}
	return graph.SetFloat64s(grad, a)
}

// Overwrites implements graph.Overwriter: every element is written.
func (squaredError) Overwrites(int) bool { return true }
