package rnn

import (
	"math"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
)

// The recurrent cells are built from three fused kernels, so that one time step is
// a handful of nodes instead of dozens of Gorgonia ops (and no gate is sliced out
// of a larger tensor):
//
//	affine2: a = x W_ih^T + b_ih + h W_hh^T + b_hh          (the Elman and LSTM pre-activations)
//	lstmC:   c_t = sigmoid(f) c_{t-1} + sigmoid(i) tanh(g)   (gates a = [i f g o], PyTorch's order)
//	lstmH:   h_t = sigmoid(o) tanh(c_t)
//	gruH:    h_t = (1 - z) n + z h_{t-1},  n = tanh(xn + r hn), r, z = sigmoid(xr + hr), sigmoid(xz + hz)
//	         (gx = x W_ih^T + b_ih and gh = h W_hh^T + b_hh, gates [r z n], PyTorch's formulation)

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// affine2Kernel: inputs x (B,I), W_ih (G,I), h (B,H), W_hh (G,H), b_ih (G), b_hh (G).
type affine2Kernel struct{}

func (affine2Kernel) Key() string { return "rnn.affine2" }

func (affine2Kernel) OutputShape(in []tensor.Shape) (tensor.Shape, error) {
	x, wih, h, whh := in[0], in[1], in[2], in[3]
	if x.Dims() != 2 || h.Dims() != 2 || wih.Dims() != 2 || whh.Dims() != 2 || x[1] != wih[1] || h[1] != whh[1] || wih[0] != whh[0] || x[0] != h[0] {
		return nil, errors.Errorf("affine2: shapes x %v W_ih %v h %v W_hh %v", x, wih, h, whh)
	}
	if in[4].TotalSize() != wih[0] || in[5].TotalSize() != wih[0] {
		return nil, errors.Errorf("affine2: biases %v %v for %d outputs", in[4], in[5], wih[0])
	}
	return tensor.Shape{x[0], wih[0]}, nil
}

func (affine2Kernel) Differentiable(int) []bool { return []bool{true, true, true, true, true, true} }

func (affine2Kernel) ForwardInto(out *tensor.Dense, in []*tensor.Dense) error {
	return graph.Dispatch(in[0].Dtype(), func() { affine2Forward[float32](out, in) }, func() { affine2Forward[float64](out, in) })
}

func affine2Forward[T graph.Float](out *tensor.Dense, in []*tensor.Dense) {
	x, wih, h, whh := graph.Slice[T](in[0]), graph.Slice[T](in[1]), graph.Slice[T](in[2]), graph.Slice[T](in[3])
	bih, bhh := graph.Slice[T](in[4]), graph.Slice[T](in[5])
	y := graph.Slice[T](out)
	b, g := in[0].Shape()[0], in[1].Shape()[0]
	ni, nh := in[1].Shape()[1], in[3].Shape()[1]
	for r := 0; r < b; r++ {
		row := y[r*g : (r+1)*g]
		for j := range row {
			row[j] = bih[j] + bhh[j]
		}
	}
	graph.Gemm(false, true, b, g, ni, x, ni, wih, ni, 1, y, g)
	graph.Gemm(false, true, b, g, nh, h, nh, whh, nh, 1, y, g)
}

func (affine2Kernel) BackwardInto(grad *tensor.Dense, wrt int, in []*tensor.Dense, _, gradOut *tensor.Dense) error {
	return graph.Dispatch(in[0].Dtype(), func() { affine2Backward[float32](wrt, grad, in, gradOut) },
		func() { affine2Backward[float64](wrt, grad, in, gradOut) })
}

func affine2Backward[T graph.Float](wrt int, grad *tensor.Dense, in []*tensor.Dense, gradOut *tensor.Dense) {
	gs, d := graph.Slice[T](gradOut), graph.Slice[T](grad)
	b, g := in[0].Shape()[0], in[1].Shape()[0]
	switch wrt {
	case 0, 2: // dx = g W_ih, dh = g W_hh
		w := in[wrt+1]
		k := w.Shape()[1]
		graph.Gemm(false, false, b, k, g, gs, g, graph.Slice[T](w), k, 0, d, k)
	case 1, 3: // dW_ih = g^T x, dW_hh = g^T h
		x := in[wrt-1]
		k := x.Shape()[1]
		graph.Gemm(true, false, g, k, b, gs, g, graph.Slice[T](x), k, 0, d, k)
	case 4, 5: // the biases: the column sums of g
		graph.AddColumnSums(d, gs, b, g)
	}
}

// gruKernel: inputs gx (B,3H), gh (B,3H), h_prev (B,H); output h_t.
type gruKernel struct{}

func (gruKernel) Key() string { return "rnn.gru_h" }

func (gruKernel) OutputShape(in []tensor.Shape) (tensor.Shape, error) {
	if in[0].Dims() != 2 || !in[0].Eq(in[1]) || in[2].Dims() != 2 || in[0][0] != in[2][0] || in[0][1] != 3*in[2][1] {
		return nil, errors.Errorf("gru cell: gx %v, gh %v, state %v", in[0], in[1], in[2])
	}
	return in[2].Clone(), nil
}

func (gruKernel) Differentiable(int) []bool { return []bool{true, true, true} }

func (gruKernel) ForwardInto(out *tensor.Dense, in []*tensor.Dense) error {
	return graph.Dispatch(in[0].Dtype(), func() { gruStep[float32](out, in, nil, -1, nil) }, func() { gruStep[float64](out, in, nil, -1, nil) })
}

func (gruKernel) BackwardInto(grad *tensor.Dense, wrt int, in []*tensor.Dense, _, gradOut *tensor.Dense) error {
	return graph.Dispatch(in[0].Dtype(), func() { gruStep[float32](nil, in, gradOut, wrt, grad) }, func() { gruStep[float64](nil, in, gradOut, wrt, grad) })
}

func gruStep[T graph.Float](out *tensor.Dense, in []*tensor.Dense, gradOut *tensor.Dense, wrt int, grad *tensor.Dense) {
	gx, gh, hp := graph.Slice[T](in[0]), graph.Slice[T](in[1]), graph.Slice[T](in[2])
	h := in[2].Shape()[1]
	var y, g, d []T
	if out != nil {
		y = graph.Slice[T](out)
	} else {
		g, d = graph.Slice[T](gradOut), graph.Slice[T](grad)
	}
	for row := 0; row < in[2].Shape()[0]; row++ {
		xr, hr := gx[row*3*h:(row+1)*3*h], gh[row*3*h:(row+1)*3*h]
		for j := 0; j < h; j++ {
			r := sigmoid(float64(xr[j] + hr[j]))
			z := sigmoid(float64(xr[h+j] + hr[h+j]))
			hn := float64(hr[2*h+j])
			n := math.Tanh(float64(xr[2*h+j]) + r*hn)
			prev := float64(hp[row*h+j])
			if wrt == -1 {
				y[row*h+j] = T((1-z)*n + z*prev)
				continue
			}
			gv := float64(g[row*h+j])
			dn := gv * (1 - z) * (1 - n*n) // dL/d(pre-activation of n)
			dz := gv * (prev - n) * z * (1 - z)
			dr := dn * hn * r * (1 - r)
			switch wrt {
			case 0:
				dd := d[row*3*h : (row+1)*3*h]
				dd[j], dd[h+j], dd[2*h+j] = T(dr), T(dz), T(dn)
			case 1:
				dd := d[row*3*h : (row+1)*3*h]
				dd[j], dd[h+j], dd[2*h+j] = T(dr), T(dz), T(dn*r)
			case 2:
				d[row*h+j] = T(gv * z)
			}
		}
	}
}

var (
	_ graph.Kernel = affine2Kernel{}
	_ graph.Kernel = gruKernel{}
)
