package losses

import (
	"math"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
)

// BCEOptions tunes BCEWithLogits. The zero value is PyTorch's default: no
// pos_weight, no weights, Mean.
type BCEOptions struct {
	// PosWeight is an optional float node weighting the positive term, of the
	// logits' last dimension (C) (broadcast over the other axes, as PyTorch's
	// pos_weight) or of the logits' shape. Not differentiated.
	PosWeight *G.Node
	// Weights is an optional float node of the logits' shape: per-element weights
	// or a mask. Not differentiated. Mean with weights is sum(w l) / sum(w); PyTorch's
	// weight argument instead divides by the number of elements.
	Weights *G.Node
	// Reduction is how the elementwise losses are combined (default Mean).
	Reduction Reduction
}

// BCEWithLogits is the binary cross-entropy of sigmoid(x) against targets y in
// [0, 1] (soft labels allowed), from the logits x. With p the positive weight (1 by
// default) and lw = 1 + (p-1) y, elementwise
//
//	l = (1-y) x + lw softplus(-x),  softplus(-x) = max(-x, 0) + log(1 + exp(-|x|)),
//
// which for p = 1 is max(x, 0) - x y + log(1 + exp(-|x|)): finite for any finite x,
// with no sigmoid evaluated. It mirrors
// torch.nn.functional.binary_cross_entropy_with_logits(x, y, pos_weight=p,
// reduction=...). Gradients: dl/dx = (1-y) - lw sigmoid(-x) and
// dl/dy = -x + (p-1) softplus(-x); both x and y are differentiated.
func BCEWithLogits(logits, targets *G.Node, opt BCEOptions) (*G.Node, error) {
	if err := sameFloat("bce with logits", []string{"logits", "targets"}, logits, targets); err != nil {
		return nil, err
	}
	in := []*G.Node{logits, targets}
	k := bceKernel{}
	if opt.PosWeight != nil {
		if opt.PosWeight.Dtype() != logits.Dtype() {
			return nil, errors.Errorf("bce with logits: pos_weight dtype %v, logits dtype %v", opt.PosWeight.Dtype(), logits.Dtype())
		}
		k.posWeight = true
		in = append(in, opt.PosWeight)
	}
	per, err := graph.Apply(k, in...)
	if err != nil {
		return nil, errors.Wrap(err, "bce with logits")
	}
	out, err := Reduce(per, opt.Weights, opt.Reduction)
	return out, errors.Wrap(err, "bce with logits")
}

type bceKernel struct{ posWeight bool }

func (k bceKernel) Key() string {
	if k.posWeight {
		return "losses.bce_with_logits(pos_weight)"
	}
	return "losses.bce_with_logits"
}

func (k bceKernel) OutputShape(in []tensor.Shape) (tensor.Shape, error) {
	if err := graph.WantInputs(in, 2, k.posWeight); err != nil {
		return nil, err
	}
	if !in[1].Eq(in[0]) {
		return nil, errors.Errorf("targets shape %v differs from logits shape %v", in[1], in[0])
	}
	if k.posWeight {
		pw, x := in[2], in[0]
		last := x.Dims() > 0 && pw.Dims() == 1 && pw[0] == x[x.Dims()-1]
		if !last && !pw.Eq(x) {
			return nil, errors.Errorf("pos_weight shape %v: want the last dimension of logits %v or their shape", pw, x)
		}
	}
	return in[0].Clone(), nil
}

func (k bceKernel) Differentiable(n int) []bool {
	d := make([]bool, n)
	d[0], d[1] = true, true
	return d
}

// terms returns x, y and the positive weight of element i.
func (k bceKernel) terms(in []*tensor.Dense) (x, y []float64, pw func(i int) float64) {
	x, y = values(in[0]), values(in[1])
	pw = func(int) float64 { return 1 }
	if k.posWeight {
		p := values(in[2])
		pw = func(i int) float64 { return p[i%len(p)] }
	}
	return x, y, pw
}

// softplusNeg returns softplus(-x) = log(1 + exp(-x)) without overflow.
func softplusNeg(x float64) float64 { return math.Max(-x, 0) + math.Log1p(math.Exp(-math.Abs(x))) }

// sigmoidNeg returns sigmoid(-x) = 1 / (1 + exp(x)) without overflow.
func sigmoidNeg(x float64) float64 {
	if x >= 0 {
		e := math.Exp(-x)
		return e / (1 + e)
	}
	return 1 / (1 + math.Exp(x))
}

func (k bceKernel) ForwardInto(dst *tensor.Dense, in []*tensor.Dense) error {
	x, y, pw := k.terms(in)
	out := make([]float64, len(x))
	for i := range x {
		lw := 1 + (pw(i)-1)*y[i]
		out[i] = (1-y[i])*x[i] + lw*softplusNeg(x[i])
	}
	return graph.SetFloat64s(dst, out)
}

func (k bceKernel) BackwardInto(grad *tensor.Dense, wrt int, in []*tensor.Dense, _, g *tensor.Dense) error {
	x, y, pw := k.terms(in)
	gs := values(g)
	d := make([]float64, len(x))
	for i := range x {
		p := pw(i)
		if wrt == 0 {
			d[i] = gs[i] * ((1 - y[i]) - (1+(p-1)*y[i])*sigmoidNeg(x[i]))
		} else {
			d[i] = gs[i] * (-x[i] + (p-1)*softplusNeg(x[i]))
		}
	}
	return graph.SetFloat64s(grad, d)
}

// Overwrites implements graph.Overwriter: every element is written.
func (bceKernel) Overwrites(int) bool { return true }
