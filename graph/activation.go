package graph

import (
	"math"
	"strconv"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Activation is an elementwise nonlinearity.
type Activation func(x *G.Node) (*G.Node, error)

// ActivationByName returns the activation a config names: relu, tanh, sigmoid,
// gelu (the exact erf form, PyTorch's default), leaky_relu (slope 0.01), softplus,
// identity.
func ActivationByName(name string) (Activation, error) {
	switch name {
	case "relu":
		return G.Rectify, nil
	case "tanh":
		return G.Tanh, nil
	case "sigmoid":
		return G.Sigmoid, nil
	case "gelu":
		return GELU, nil
	case "leaky_relu":
		return func(x *G.Node) (*G.Node, error) { return G.LeakyRelu(x, 0.01) }, nil
	case "softplus":
		return G.Softplus, nil
	case "identity", "linear", "none":
		return func(x *G.Node) (*G.Node, error) { return x, nil }, nil
	}
	return nil, errors.Errorf("unknown activation %q (relu, tanh, sigmoid, gelu, leaky_relu, softplus, identity)", name)
}

// GELU is x Phi(x) with Phi the standard normal CDF (Hendrycks and Gimpel 2016),
// computed exactly through erf as torch.nn.GELU() does.
func GELU(x *G.Node) (*G.Node, error) { return Apply(geluKernel{}, x) }

type geluKernel struct{}

func (geluKernel) Key() string                                         { return "gelu" }
func (geluKernel) OutputShape(in []tensor.Shape) (tensor.Shape, error) { return in[0].Clone(), nil }
func (geluKernel) Differentiable(int) []bool                           { return []bool{true} }

func (geluKernel) ForwardInto(out *tensor.Dense, in []*tensor.Dense) error {
	return mapUnary(out, in[0], nil, func(x, _ float64) float64 { return x * 0.5 * (1 + math.Erf(x/math.Sqrt2)) })
}

func (geluKernel) BackwardInto(grad *tensor.Dense, _ int, in []*tensor.Dense, _, g *tensor.Dense) error {
	return mapUnary(grad, in[0], g, func(x, g float64) float64 {
		cdf := 0.5 * (1 + math.Erf(x/math.Sqrt2))
		pdf := math.Exp(-x*x/2) / math.Sqrt(2*math.Pi)
		return g * (cdf + x*pdf)
	})
}

// Overwrites implements Overwriter: every element is written.
func (geluKernel) Overwrites(int) bool { return true }

// mapUnary sets out[i] = f(x[i], g[i]) elementwise (g may be nil), computed in
// float64.
func mapUnary(out, x, g *tensor.Dense, f func(x, g float64) float64) error {
	return Dispatch(x.Dtype(),
		func() { mapInto(Slice[float32](out), Slice[float32](x), gradSlice[float32](g), f) },
		func() { mapInto(Slice[float64](out), Slice[float64](x), gradSlice[float64](g), f) })
}

func gradSlice[T Float](g *tensor.Dense) []T {
	if g == nil {
		return nil
	}
	return Slice[T](g)
}

func mapInto[T Float](out, x, g []T, f func(x, g float64) float64) {
	for i, v := range x {
		var gv float64
		if g != nil {
			gv = float64(g[i])
		}
		out[i] = T(f(float64(v), gv))
	}
}

func formatFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
