package graph

import (
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Linear is the affine map y = x W^T + b of torch.nn.Linear. W is (out, in) and b
// is (out); x may have any number of leading dimensions, (..., in) -> (..., out).
type Linear struct {
	Weight *Param
	Bias   *Param // nil without bias
	In     int
	Out    int
}

// NewLinear creates name.weight and (with bias) name.bias in s, initialised as
// PyTorch does: W and b uniform in +-1/sqrt(in).
func NewLinear(s *Store, name string, in, out int, bias bool) (*Linear, error) {
	init := UniformFan(in)
	w, err := s.New(name+".weight", []int{out, in}, init)
	if err != nil {
		return nil, err
	}
	l := &Linear{Weight: w, In: in, Out: out}
	if bias {
		if l.Bias, err = s.New(name+".bias", []int{out}, init); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// Forward applies the layer to x (..., in).
func (l *Linear) Forward(b *Builder, x *G.Node) *G.Node {
	if x == nil {
		return nil
	}
	args := []*G.Node{x, b.Param(l.Weight)}
	if l.Bias != nil {
		args = append(args, b.Param(l.Bias))
	}
	return b.Check(Apply(linearKernel{}, args...))
}

// Affine returns x W^T (+ bias) for a weight node w (out, in) and an optional bias
// node (out): the fused kernel behind Linear, for weights that are not a Linear's
// own (a tied embedding, a weight split into gates).
func Affine(x, w, bias *G.Node) (*G.Node, error) {
	if bias == nil {
		return Apply(linearKernel{}, x, w)
	}
	return Apply(linearKernel{}, x, w, bias)
}

// linearKernel fuses the product and the bias into two BLAS calls forward and one
// per gradient, without Gorgonia's transpose copies and broadcast temporaries.
type linearKernel struct{}

func (linearKernel) Key() string { return "linear" }

func (linearKernel) OutputShape(in []tensor.Shape) (tensor.Shape, error) {
	x, w := in[0], in[1]
	if w.Dims() != 2 || x.Dims() < 1 || x[x.Dims()-1] != w[1] {
		return nil, errors.Errorf("linear: input %v does not match weight %v", x, w)
	}
	if len(in) == 3 && (in[2].Dims() != 1 || in[2][0] != w[0]) {
		return nil, errors.Errorf("linear: bias %v does not match weight %v", in[2], w)
	}
	out := append(tensor.Shape{}, x[:x.Dims()-1]...)
	return append(out, w[0]), nil
}

func (linearKernel) Differentiable(n int) []bool {
	return []bool{true, true, true}[:n]
}

func (linearKernel) ForwardInto(out *tensor.Dense, in []*tensor.Dense) error {
	x, w := in[0], in[1]
	n, k := w.Shape()[0], w.Shape()[1]
	m := x.Shape().TotalSize() / k
	return Dispatch(x.Dtype(),
		func() {
			linearForward(Slice[float32](out), Slice[float32](x), Slice[float32](w), biasOf[float32](in), m, n, k)
		},
		func() {
			linearForward(Slice[float64](out), Slice[float64](x), Slice[float64](w), biasOf[float64](in), m, n, k)
		})
}

func biasOf[T Float](in []*tensor.Dense) []T {
	if len(in) < 3 {
		return nil
	}
	return Slice[T](in[2])
}

func linearForward[T Float](y, x, w, bias []T, m, n, k int) {
	var beta T
	if bias != nil {
		for i := 0; i < m; i++ {
			copy(y[i*n:(i+1)*n], bias)
		}
		beta = 1
	}
	Gemm(false, true, m, n, k, x, k, w, k, beta, y, n)
}

func (linearKernel) BackwardInto(grad *tensor.Dense, wrt int, in []*tensor.Dense, _, gradOut *tensor.Dense) error {
	x, w := in[0], in[1]
	n, k := w.Shape()[0], w.Shape()[1]
	m := x.Shape().TotalSize() / k
	return Dispatch(x.Dtype(),
		func() {
			linearBackward(wrt, Slice[float32](grad), Slice[float32](x), Slice[float32](w), Slice[float32](gradOut), m, n, k)
		},
		func() {
			linearBackward(wrt, Slice[float64](grad), Slice[float64](x), Slice[float64](w), Slice[float64](gradOut), m, n, k)
		})
}

// Overwrites implements Overwriter: the output and the gradients of x and W are
// written whole; the bias gradient is accumulated.
func (linearKernel) Overwrites(wrt int) bool { return wrt != 2 }

func linearBackward[T Float](wrt int, grad, x, w, g []T, m, n, k int) {
	switch wrt {
	case 0: // dx (m,k) = g (m,n) W (n,k)
		Gemm(false, false, m, k, n, g, n, w, k, 0, grad, k)
	case 1: // dW (n,k) = g^T (n,m) x (m,k)
		Gemm(true, false, n, k, m, g, n, x, k, 0, grad, k)
	case 2: // db (n) = sum over rows of g
		AddColumnSums(grad, g, m, n)
	}
}
