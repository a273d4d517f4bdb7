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

// ForwardInto writes the normalised input into out.
func (k layerNormKernel) ForwardInto(out *tensor.Dense, in []*tensor.Dense) error {
	d := in[1].Shape().TotalSize()
	return Dispatch(in[0].Dtype(),
		func() {
			LayerNormRows(Slice[float32](out), nil, nil, Slice[float32](in[0]), Slice[float32](in[1]), Slice[float32](in[2]), d, k.eps)
		},
		func() {
			LayerNormRows(Slice[float64](out), nil, nil, Slice[float64](in[0]), Slice[float64](in[1]), Slice[float64](in[2]), d, k.eps)
		})
}

// BackwardInto writes the gradient of input wrt into grad.
func (k layerNormKernel) BackwardInto(grad *tensor.Dense, wrt int, in []*tensor.Dense, _, gradOut *tensor.Dense) error {
	return Dispatch(in[0].Dtype(),
		func() {
			layerNormBackward(wrt, Slice[float32](grad), Slice[float32](in[0]), Slice[float32](in[1]), Slice[float32](gradOut), k.eps)
		},
		func() {
			layerNormBackward(wrt, Slice[float64](grad), Slice[float64](in[0]), Slice[float64](in[1]), Slice[float64](gradOut), k.eps)
		})
}

// Overwrites implements Overwriter: the output and the input's gradient are
// written whole; the weight and bias gradients are accumulated.
func (layerNormKernel) Overwrites(wrt int) bool { return wrt <= 0 }

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

// LayerNormRows normalises each row of x (rows of width d) as LayerNorm does,
// y = xhat w + bias with xhat = (x - mean) / sqrt(var + eps), the statistics
// accumulated in float64, rows in parallel. When xhat and rstd are not nil it
// keeps xhat and 1/sqrt(var + eps) of every row there for LayerNormBackRows.
func LayerNormRows[T Float](y, xhat []T, rstd []float64, x, w, bias []T, d int, eps float64) {
	ParallelRows(len(x)/d, d, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			row := x[r*d : (r+1)*d]
			mean, rs := rowStats(row, eps)
			yr := y[r*d : (r+1)*d]
			if xhat == nil {
				for j, v := range row {
					yr[j] = T((float64(v)-mean)*rs)*w[j] + bias[j]
				}
				continue
			}
			rstd[r] = rs
			xh := xhat[r*d : (r+1)*d]
			for j, v := range row {
				h := T((float64(v) - mean) * rs)
				xh[j] = h
				yr[j] = h*w[j] + bias[j]
			}
		}
	})
}

// LayerNormBackRows writes the gradient of a layer norm's input for the output
// gradient g from the xhat and rstd LayerNormRows kept: with gh = g w,
// dx = rstd (gh - mean(gh) - xhat mean(gh xhat)). With add, dx is added to dst
// instead of stored. Rows run in parallel.
func LayerNormBackRows[T Float](dst, g, xhat []T, rstd []float64, w []T, d int, add bool) {
	ParallelRows(len(g)/d, d, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			gr, xh, dr := g[r*d:(r+1)*d], xhat[r*d:(r+1)*d], dst[r*d:(r+1)*d]
			var mg, mgx float64
			for j, v := range gr {
				gh := float64(v * w[j])
				mg += gh
				mgx += gh * float64(xh[j])
			}
			mg /= float64(d)
			mgx /= float64(d)
			rs := rstd[r]
			for j, v := range gr {
				dx := T(rs * (float64(v*w[j]) - mg - float64(xh[j])*mgx))
				if add {
					dr[j] += dx
				} else {
					dr[j] = dx
				}
			}
		}
	})
}

// layerNormBackward writes the gradient of LayerNorm's input (wrt 0), weight (1)
// or bias (2) without kept statistics: with xh = (x - mean) rstd and gh = g w,
// dx = rstd (gh - mean(gh) - xh mean(gh xh)) with xh in float64 (rows in
// parallel), dw = sum_rows g xh, db = sum_rows g.
func layerNormBackward[T Float](wrt int, grad, x, w, g []T, eps float64) {
	d := len(w)
	rows := len(x) / d
	if wrt == 0 {
		ParallelRows(rows, d, func(lo, hi int) {
			for r := lo; r < hi; r++ {
				layerNormInputGrad(grad[r*d:(r+1)*d], x[r*d:(r+1)*d], w, g[r*d:(r+1)*d], eps)
			}
		})
		return
	}
	for r := 0; r < rows; r++ {
		row, gr := x[r*d:(r+1)*d], g[r*d:(r+1)*d]
		if wrt == 2 {
			for j, v := range gr {
				grad[j] += v
			}
			continue
		}
		mean, rstd := rowStats(row, eps)
		for j, v := range row {
			grad[j] += gr[j] * T((float64(v)-mean)*rstd)
		}
	}
}

// layerNormInputGrad writes the gradient of one row's input into dst.
func layerNormInputGrad[T Float](dst, row, w, gr []T, eps float64) {
	d := len(w)
	mean, rstd := rowStats(row, eps)
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
		dst[j] = T(rstd * (float64(gr[j]*w[j]) - mg - xh*mgx))
	}
}
