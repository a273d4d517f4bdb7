package graph

import (
	"math"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// LayerNorm normalises the last axis of its input (Ba, Kiros and Hinton 2016):
//
//	y = (x - mean(x)) / sqrt(var(x) + eps) * weight + bias
//
// with the biased variance, as torch.nn.LayerNorm. weight starts at 1, bias at 0.
type LayerNorm struct {
	Weight, Bias *Param
	Dim          int
	Eps          float64
}

// NewLayerNorm creates name.weight and name.bias (dim) in s with eps = 1e-5.
func NewLayerNorm(s *Store, name string, dim int) (*LayerNorm, error) {
	w, err := s.New(name+".weight", []int{dim}, Ones())
	if err != nil {
		return nil, err
	}
	bias, err := s.New(name+".bias", []int{dim}, Zeros())
	if err != nil {
		return nil, err
	}
	return &LayerNorm{Weight: w, Bias: bias, Dim: dim, Eps: 1e-5}, nil
}

// Forward normalises x (..., Dim).
func (l *LayerNorm) Forward(b *Builder, x *G.Node) *G.Node {
	if x == nil {
		return nil
	}
	return b.Check(Apply(layerNormKernel{eps: l.Eps}, x, b.Param(l.Weight), b.Param(l.Bias)))
}

type layerNormKernel struct{ eps float64 }

func (k layerNormKernel) Key() string { return "layernorm(eps=" + formatFloat(k.eps) + ")" }

func (layerNormKernel) OutputShape(in []tensor.Shape) (tensor.Shape, error) {
	x := in[0]
	d := x[x.Dims()-1]
	if in[1].TotalSize() != d || in[2].TotalSize() != d {
		return nil, errors.Errorf("layernorm: input %v, weight %v, bias %v", x, in[1], in[2])
	}
	return x.Clone(), nil
}

func (layerNormKernel) Differentiable(int) []bool { return []bool{true, true, true} }

func (k layerNormKernel) Forward(in []*tensor.Dense) (*tensor.Dense, error) {
	out := NewDense(in[0].Dtype(), in[0].Shape()...)
	return out, k.ForwardInto(out, in)
}

// ForwardInto writes the normalised input into out, a buffer its node keeps.
func (k layerNormKernel) ForwardInto(out *tensor.Dense, in []*tensor.Dense) error {
	switch in[0].Dtype() {
	case tensor.Float32:
		layerNormForward(Slice[float32](out), Slice[float32](in[0]), Slice[float32](in[1]), Slice[float32](in[2]), k.eps)
	case tensor.Float64:
		layerNormForward(Slice[float64](out), Slice[float64](in[0]), Slice[float64](in[1]), Slice[float64](in[2]), k.eps)
	default:
		return errors.Errorf("layernorm: unsupported dtype %v", in[0].Dtype())
	}
	return nil
}

// rowStats returns the mean and 1/sqrt(var+eps) of a row, accumulated in float64.
func rowStats[T Float](row []T, eps float64) (mean, rstd float64) {
	for _, v := range row {
		mean += float64(v)
	}
	mean /= float64(len(row))
	var v2 float64
	for _, v := range row {
		d := float64(v) - mean
		v2 += d * d
	}
	return mean, 1 / math.Sqrt(v2/float64(len(row))+eps)
}

func layerNormForward[T Float](y, x, w, bias []T, eps float64) {
	d := len(w)
	for r := 0; r < len(x)/d; r++ {
		row := x[r*d : (r+1)*d]
		mean, rstd := rowStats(row, eps)
		for j, v := range row {
			y[r*d+j] = T((float64(v)-mean)*rstd)*w[j] + bias[j]
		}
	}
}

func (k layerNormKernel) Backward(wrt int, in []*tensor.Dense, out, gradOut *tensor.Dense) (*tensor.Dense, error) {
	grad := NewDense(in[wrt].Dtype(), in[wrt].Shape()...)
	return grad, k.BackwardInto(grad, wrt, in, out, gradOut)
}

// BackwardInto writes the gradient of input wrt into grad, a zeroed buffer its
// node keeps.
func (k layerNormKernel) BackwardInto(grad *tensor.Dense, wrt int, in []*tensor.Dense, _, gradOut *tensor.Dense) error {
	switch in[0].Dtype() {
	case tensor.Float32:
		layerNormBackward(wrt, Slice[float32](grad), Slice[float32](in[0]), Slice[float32](in[1]), Slice[float32](gradOut), k.eps)
	case tensor.Float64:
		layerNormBackward(wrt, Slice[float64](grad), Slice[float64](in[0]), Slice[float64](in[1]), Slice[float64](gradOut), k.eps)
	default:
		return errors.Errorf("layernorm: unsupported dtype %v", in[0].Dtype())
	}
	return nil
}

var _ IntoKernel = layerNormKernel{}

// Overwrites implements Overwriter: the output and the input's gradient are
// written whole; the weight and bias gradients are accumulated.
func (layerNormKernel) Overwrites(wrt int) bool { return wrt <= 0 }

// layerNormBackward: with xh = (x - mean) rstd and gh = g w,
// dx = rstd (gh - mean(gh) - xh mean(gh xh)), dw = sum_rows g xh, db = sum_rows g.
func layerNormBackward[T Float](wrt int, grad, x, w, g []T, eps float64) {
	d := len(w)
	for r := 0; r < len(x)/d; r++ {
		row, gr := x[r*d:(r+1)*d], g[r*d:(r+1)*d]
		switch wrt {
		case 2:
			for j, v := range gr {
				grad[j] += v
			}
			continue
		}
		mean, rstd := rowStats(row, eps)
		if wrt == 1 {
			for j, v := range row {
				grad[j] += gr[j] * T((float64(v)-mean)*rstd)
			}
			continue
		}
		var mg, mgx float64
		for j, v := range row {
			gh := float64(gr[j] * w[j])
			mg += gh
			mgx += gh * (float64(v) - mean) * rstd
		}
		mg /= float64(d)
		mgx /= float64(d)
		for j, v := range row {
			xh := (float64(v) - mean) * rstd
			grad[r*d+j] = T(rstd * (float64(gr[j]*w[j]) - mg - xh*mgx))
		}
	}
}
