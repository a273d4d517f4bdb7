package rnn

import (
	"math"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
)

// An LSTM step is three kernels after the pre-activation a = affine2(...):
//
//	act = lstmGates(a) = [sigmoid(i) sigmoid(f) tanh(g) sigmoid(o)]
//	c_t = lstmC(act, c_{t-1}) = f c_{t-1} + i g
//	h_t = lstmH(act, c_t)     = o tanh(c_t)
//
// Every backward pass reads the activations from act, so no exponential is
// computed twice.

type lstmGatesKernel struct{}

func (lstmGatesKernel) Key() string { return "rnn.lstm_gates" }

func (lstmGatesKernel) OutputShape(in []tensor.Shape) (tensor.Shape, error) {
	if in[0].Dims() != 2 || in[0][1]%4 != 0 {
		return nil, errors.Errorf("lstm gates: shape %v", in[0])
	}
	return in[0].Clone(), nil
}

func (lstmGatesKernel) Differentiable(int) []bool { return []bool{true} }

func (lstmGatesKernel) ForwardInto(out *tensor.Dense, in []*tensor.Dense) error {
	h := in[0].Shape()[1] / 4
	return graph.Dispatch(in[0].Dtype(), func() { lstmGates(graph.Slice[float32](out), graph.Slice[float32](in[0]), h) },
		func() { lstmGates(graph.Slice[float64](out), graph.Slice[float64](in[0]), h) })
}

func (lstmGatesKernel) BackwardInto(grad *tensor.Dense, _ int, in []*tensor.Dense, out, g *tensor.Dense) error {
	h := in[0].Shape()[1] / 4
	return graph.Dispatch(in[0].Dtype(), func() {
		lstmGatesBack(graph.Slice[float32](grad), graph.Slice[float32](out), graph.Slice[float32](g), h)
	},
		func() {
			lstmGatesBack(graph.Slice[float64](grad), graph.Slice[float64](out), graph.Slice[float64](g), h)
		})
}

func lstmGates[T graph.Float](y, a []T, h int) {
	for r := 0; r < len(a); r += 4 * h {
		for j := 0; j < 4*h; j++ {
			v := float64(a[r+j])
			if j >= 2*h && j < 3*h {
				y[r+j] = T(math.Tanh(v))
			} else {
				y[r+j] = T(sigmoid(v))
			}
		}
	}
}

func lstmGatesBack[T graph.Float](d, y, g []T, h int) {
	for r := 0; r < len(y); r += 4 * h {
		for j := 0; j < 4*h; j++ {
			v := y[r+j]
			if j >= 2*h && j < 3*h {
				d[r+j] = g[r+j] * (1 - v*v)
			} else {
				d[r+j] = g[r+j] * v * (1 - v)
			}
		}
	}
}

type lstmCKernel struct{}

func (lstmCKernel) Key() string { return "rnn.lstm_c" }

func (lstmCKernel) OutputShape(in []tensor.Shape) (tensor.Shape, error) {
	if in[0].Dims() != 2 || in[1].Dims() != 2 || in[0][0] != in[1][0] || in[0][1] != 4*in[1][1] {
		return nil, errors.Errorf("lstm cell: gates %v, state %v", in[0], in[1])
	}
	return in[1].Clone(), nil
}

func (lstmCKernel) Differentiable(int) []bool { return []bool{true, true} }

func (lstmCKernel) ForwardInto(out *tensor.Dense, in []*tensor.Dense) error {
	h := in[1].Shape()[1]
	return graph.Dispatch(in[0].Dtype(), func() { lstmC(graph.Slice[float32](out), graph.Slice[float32](in[0]), graph.Slice[float32](in[1]), h) },
		func() { lstmC(graph.Slice[float64](out), graph.Slice[float64](in[0]), graph.Slice[float64](in[1]), h) })
}

func (lstmCKernel) BackwardInto(grad *tensor.Dense, wrt int, in []*tensor.Dense, _, g *tensor.Dense) error {
	return lstmBackward(grad, wrt, in, g, lstmCBack[float32], lstmCBack[float64])
}

// lstmBackward runs the backward pass f32 or f64, by the dtype of in[0], of the
// cell kernel whose inputs are in[0] and in[1] (hidden size in[1]'s width): the
// gradient of input wrt into grad, given the output's gradient g.
func lstmBackward(grad *tensor.Dense, wrt int, in []*tensor.Dense, g *tensor.Dense, f32 func(int, []float32, []float32, []float32, []float32, int), f64 func(int, []float64, []float64, []float64, []float64, int)) error {
	h := in[1].Shape()[1]
	return graph.Dispatch(in[0].Dtype(),
		func() {
			f32(wrt, graph.Slice[float32](grad), graph.Slice[float32](in[0]), graph.Slice[float32](in[1]), graph.Slice[float32](g), h)
		},
		func() {
			f64(wrt, graph.Slice[float64](grad), graph.Slice[float64](in[0]), graph.Slice[float64](in[1]), graph.Slice[float64](g), h)
		})
}

func lstmC[T graph.Float](c, act, cp []T, h int) {
	for r := 0; r < len(cp)/h; r++ {
		a := act[r*4*h : (r+1)*4*h]
		for j := 0; j < h; j++ {
			c[r*h+j] = a[h+j]*cp[r*h+j] + a[j]*a[2*h+j]
		}
	}
}

func lstmCBack[T graph.Float](wrt int, d, act, cp, g []T, h int) {
	for r := 0; r < len(cp)/h; r++ {
		a := act[r*4*h : (r+1)*4*h]
		for j := 0; j < h; j++ {
			gc := g[r*h+j]
			if wrt == 1 {
				d[r*h+j] = gc * a[h+j]
				continue
			}
			dr := d[r*4*h : (r+1)*4*h]
			dr[j] = gc * a[2*h+j]
			dr[h+j] = gc * cp[r*h+j]
			dr[2*h+j] = gc * a[j]
		}
	}
}

type lstmHKernel struct{}

func (lstmHKernel) Key() string { return "rnn.lstm_h" }

func (lstmHKernel) OutputShape(in []tensor.Shape) (tensor.Shape, error) {
	return lstmCKernel{}.OutputShape(in)
}

func (lstmHKernel) Differentiable(int) []bool { return []bool{true, true} }

func (lstmHKernel) ForwardInto(out *tensor.Dense, in []*tensor.Dense) error {
	h := in[1].Shape()[1]
	return graph.Dispatch(in[0].Dtype(), func() {
		lstmH(-1, graph.Slice[float32](out), graph.Slice[float32](in[0]), graph.Slice[float32](in[1]), nil, h)
	},
		func() {
			lstmH(-1, graph.Slice[float64](out), graph.Slice[float64](in[0]), graph.Slice[float64](in[1]), nil, h)
		})
}

func (lstmHKernel) BackwardInto(grad *tensor.Dense, wrt int, in []*tensor.Dense, _, g *tensor.Dense) error {
	return lstmBackward(grad, wrt, in, g, lstmH[float32], lstmH[float64])
}

// lstmH computes h = o tanh(c) into y (wrt -1), or the gradient with respect to
// act (wrt 0) or c (wrt 1).
func lstmH[T graph.Float](wrt int, y, act, c, g []T, h int) {
	for r := 0; r < len(c)/h; r++ {
		for j := 0; j < h; j++ {
			o := act[r*4*h+3*h+j]
			tc := T(math.Tanh(float64(c[r*h+j])))
			switch wrt {
			case -1:
				y[r*h+j] = o * tc
			case 0:
				y[r*4*h+3*h+j] = g[r*h+j] * tc
			case 1:
				y[r*h+j] = g[r*h+j] * o * (1 - tc*tc)
			}
		}
	}
}

var (
	_ graph.Kernel = lstmGatesKernel{}
	_ graph.Kernel = lstmCKernel{}
	_ graph.Kernel = lstmHKernel{}
)
