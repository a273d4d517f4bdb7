package losses

import (
	"fmt"
	"strings"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
)

// Reduction says how a loss turns its elementwise values l_i, with weights w_i
// (1 when no weights are given, 0 for ignored elements), into its result.
type Reduction int

const (
	// Mean is sum_i w_i l_i / sum_i w_i, a scalar; 0 (with zero gradient) when
	// every weight is 0. Without weights or ignored elements it is PyTorch's
	// reduction="mean"; with an ignore index it is PyTorch's mean over the
	// non-ignored elements.
	Mean Reduction = iota
	// Sum is sum_i w_i l_i, a scalar: PyTorch's reduction="sum".
	Sum
	// None returns w_i l_i elementwise, in the shape of the loss: PyTorch's
	// reduction="none" (ignored elements hold 0).
	None
	// PerSequence sums w_i l_i over every axis but the first: (B, T) losses give
	// (B) per-sequence sums, (B, D) losses (B) per-example sums.
	PerSequence
)

// PerExample is PerSequence under the name used for per-example sums, e.g. the
// reconstruction term of a VAE summed over pixels.
const PerExample = PerSequence

var reductionNames = []string{"mean", "sum", "none", "per_sequence"}

// String returns the reduction's name as ParseReduction reads it.
func (r Reduction) String() string {
	if r < 0 || int(r) >= len(reductionNames) {
		return fmt.Sprintf("Reduction(%d)", int(r))
	}
	return reductionNames[r]
}

// ParseReduction reads a reduction name: mean, sum, none, per_sequence or
// per_example.
func ParseReduction(s string) (Reduction, error) {
	if s == "per_example" {
		return PerExample, nil
	}
	for i, n := range reductionNames {
		if s == n {
			return Reduction(i), nil
		}
	}
	return 0, errors.Errorf("unknown reduction %q (%s, per_example)", s, strings.Join(reductionNames, ", "))
}

// Reduce applies r to the elementwise losses values with optional weights (nil for
// none; same shape and dtype as values, not differentiated). With Mean it returns
// sum(w l) / sum(w), 0 when sum(w) is 0. Elements of weight 0 contribute exactly 0
// and get a zero gradient. Weights are meant to be non-negative (masks, per-token
// weights). Without weights, Mean, Sum and None are the reduction= argument of
// PyTorch's losses (torch.mean, torch.sum, identity).
func Reduce(values, weights *G.Node, r Reduction) (*G.Node, error) {
	return reduce(values, weights, nil, 0, r)
}

// reduce is Reduce that also drops the elements whose target equals ignore.
func reduce(values, weights, targets *G.Node, ignore int, r Reduction) (*G.Node, error) {
	if values == nil {
		return nil, errors.New("reduce: nil values")
	}
	if err := checkFloat("reduce", values); err != nil {
		return nil, err
	}
	if r < Mean || r > PerSequence {
		return nil, errors.Errorf("reduce: unknown reduction %d", int(r))
	}
	k := reduceKernel{r: r, weighted: weights != nil, ignore: targets != nil, ignoreID: ignore}
	in := []*G.Node{values}
	if weights != nil {
		if weights.Dtype() != values.Dtype() {
			return nil, errors.Errorf("reduce: weights dtype %v, values dtype %v", weights.Dtype(), values.Dtype())
		}
		in = append(in, weights)
	}
	if targets != nil {
		in = append(in, targets)
	}
	return graph.Apply(k, in...)
}

// checkFloat returns an error unless n is a float32 or float64 node.
func checkFloat(op string, n *G.Node) error {
	if dt := n.Dtype(); dt != tensor.Float32 && dt != tensor.Float64 {
		return errors.Errorf("%s: dtype %v, want float32 or float64", op, dt)
	}
	return nil
}

// sameFloat checks that every node is present and has the dtype of the first.
func sameFloat(op string, names []string, ns ...*G.Node) error {
	for i, n := range ns {
		if n == nil {
			return errors.Errorf("%s: nil %s", op, names[i])
		}
	}
	if err := checkFloat(op, ns[0]); err != nil {
		return err
	}
	for i, n := range ns[1:] {
		if n.Dtype() != ns[0].Dtype() {
			return errors.Errorf("%s: %s dtype %v, %s dtype %v", op, names[i+1], n.Dtype(), names[0], ns[0].Dtype())
		}
	}
	return nil
}

// values returns the elements of a float tensor, in row-major order, as float64.
func values(t *tensor.Dense) []float64 { return graph.Float64s(graph.Contiguous(t)) }

// intValues returns the elements of an int tensor in row-major order.
func intValues(t *tensor.Dense) ([]int, error) {
	if t.Dtype() != tensor.Int {
		return nil, errors.Errorf("targets dtype %v, want int", t.Dtype())
	}
	return graph.Contiguous(t).Ints(), nil
}

// dropLast returns s without its last axis (a 1-D shape gives a scalar shape).
func dropLast(s tensor.Shape) tensor.Shape {
	return append(tensor.Shape{}, s[:s.Dims()-1]...)
}

type reduceKernel struct {
	r        Reduction
	weighted bool
	ignore   bool
	ignoreID int
}

func (k reduceKernel) Key() string {
	key := "losses.reduce(" + k.r.String()
	if k.weighted {
		key += ",weighted"
	}
	if k.ignore {
		key += fmt.Sprintf(",ignore=%d", k.ignoreID)
	}
	return key + ")"
}

func (k reduceKernel) OutputShape(in []tensor.Shape) (tensor.Shape, error) {
	if err := graph.WantInputs(in, 1, k.weighted, k.ignore); err != nil {
		return nil, err
	}
	for i, s := range in[1:] {
		if !s.Eq(in[0]) {
			name := "weights"
			if i == 1 || !k.weighted {
				name = "targets"
			}
			return nil, errors.Errorf("%s shape %v differs from values shape %v", name, s, in[0])
		}
	}
	switch k.r {
	case Mean, Sum:
		return tensor.Shape{}, nil
	case None:
		return in[0].Clone(), nil
	case PerSequence:
		if in[0].Dims() == 0 {
			return nil, errors.New("per-sequence reduction of a scalar")
		}
		return tensor.Shape{in[0][0]}, nil
	}
	return nil, errors.Errorf("unknown reduction %d", int(k.r))
}

func (k reduceKernel) Differentiable(n int) []bool {
	d := make([]bool, n)
	d[0] = true
	return d
}

// weights returns the effective weight of every element.
func (k reduceKernel) weights(in []*tensor.Dense) ([]float64, error) {
	n := in[0].Shape().TotalSize()
	var w []float64
	if k.weighted {
		w = values(in[1])
	} else {
		w = make([]float64, n)
		for i := range w {
			w[i] = 1
		}
	}
	if k.ignore {
		ids, err := intValues(in[len(in)-1])
		if err != nil {
			return nil, err
		}
		for i, id := range ids {
			if id == k.ignoreID {
				w[i] = 0
			}
		}
	}
	return w, nil
}

func (k reduceKernel) ForwardInto(dst *tensor.Dense, in []*tensor.Dense) error {
	w, err := k.weights(in)
	if err != nil {
		return err
	}
	v := values(in[0])
	term := func(i int) float64 {
		if w[i] == 0 {
			return 0
		}
		return w[i] * v[i]
	}
	shape := dst.Shape()
	var out []float64
	switch k.r {
	case Mean, Sum:
		var num, den float64
		for i := range v {
			num += term(i)
			den += w[i]
		}
		switch {
		case k.r == Sum:
			out = []float64{num}
		case den == 0:
			out = []float64{0}
		default:
			out = []float64{num / den}
		}
	case None:
		out = make([]float64, len(v))
		for i := range v {
			out[i] = term(i)
		}
	case PerSequence:
		out = make([]float64, shape[0])
		per := len(v) / max(shape[0], 1)
		for i := range v {
			out[i/per] += term(i)
		}
	}
	return graph.SetFloat64s(dst, out)
}

func (k reduceKernel) BackwardInto(grad *tensor.Dense, _ int, in []*tensor.Dense, _, g *tensor.Dense) error {
	w, err := k.weights(in)
	if err != nil {
		return err
	}
	gs := values(g)
	dv := make([]float64, len(w))
	scale := 1.0
	if k.r == Mean {
		var den float64
		for _, x := range w {
			den += x
		}
		if den == 0 {
			return graph.SetFloat64s(grad, dv)
		}
		scale = 1 / den
	}
	per := 1
	if k.r == PerSequence {
		per = len(w) / max(in[0].Shape()[0], 1)
	}
	for i, x := range w {
		if x == 0 {
			continue
		}
		var gi float64
		switch k.r {
		case Mean, Sum:
			gi = gs[0]
		case None:
			gi = gs[i]
		case PerSequence:
			gi = gs[i/per]
		}
		dv[i] = gi * x * scale
	}
	return graph.SetFloat64s(grad, dv)
}

// Overwrites implements graph.Overwriter: every element is written.
func (reduceKernel) Overwrites(int) bool { return true }
