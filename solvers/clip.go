package solvers

import (
	"math"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
)

// clipEps is added to the total norm before dividing, as in
// torch.nn.utils.clip_grad_norm_ (PyTorch 1.13, torch/nn/utils/clip_grad.py).
const clipEps = 1e-6

// GradNorm returns the normType-norm of all gradients of params taken together
// (as if concatenated into one vector): normType > 0, math.Inf(1) for the
// maximum absolute value. Sums are accumulated in float64.
func GradNorm(params []*graph.Param, normType float64) (float64, error) {
	if !(normType > 0) {
		return 0, errors.Errorf("solvers: gradient norm type %v must be positive (or +Inf)", normType)
	}
	var acc float64 // sum of |g|^p, or the maximum for p = Inf
	for i, p := range params {
		if p == nil {
			return 0, errors.Errorf("solvers: gradient norm: parameter %d is nil", i)
		}
		if err := checkParam(p); err != nil {
			return 0, errors.Wrap(err, "solvers: gradient norm")
		}
		switch p.Grad.Dtype() {
		case tensor.Float32:
			acc = accumNorm(acc, p.Grad.Float32s(), normType)
		case tensor.Float64:
			acc = accumNorm(acc, p.Grad.Float64s(), normType)
		}
	}
	switch {
	case math.IsInf(normType, 1):
		return acc, nil
	case normType == 2:
		return math.Sqrt(acc), nil
	case normType == 1:
		return acc, nil
	}
	return math.Pow(acc, 1/normType), nil
}

// accumNorm adds the contribution of g to acc for the given norm type.
func accumNorm[T float](acc float64, g []T, normType float64) float64 {
	switch {
	case normType == 2:
		for _, v := range g {
			x := float64(v)
			acc += x * x
		}
	case normType == 1:
		for _, v := range g {
			acc += math.Abs(float64(v))
		}
	case math.IsInf(normType, 1):
		for _, v := range g {
			x := math.Abs(float64(v))
			if x > acc || x != x {
				acc = x
			}
			if acc != acc {
				return acc
			}
		}
	default:
		for _, v := range g {
			acc += math.Pow(math.Abs(float64(v)), normType)
		}
	}
	return acc
}

// ClipGradNorm scales the gradients of params in place so that their total
// normType-norm (see GradNorm; 2 is the usual choice) is at most maxNorm, as
// torch.nn.utils.clip_grad_norm_ does (PyTorch 1.13 documentation,
// https://pytorch.org/docs/1.13/generated/torch.nn.utils.clip_grad_norm_.html):
// when the total norm exceeds maxNorm every gradient is multiplied by
// maxNorm/(total+1e-6). It returns the total norm before clipping.
//
// A NaN or infinite total norm is returned with the gradients left unchanged
// (PyTorch would scale them by a NaN or zero factor): the caller should skip the
// step or stop.
func ClipGradNorm(params []*graph.Param, maxNorm, normType float64) (float64, error) {
	if !(maxNorm >= 0) {
		return 0, errors.Errorf("solvers: clip gradient norm: max norm %v must be non-negative", maxNorm)
	}
	total, err := GradNorm(params, normType)
	if err != nil {
		return 0, err
	}
	if math.IsNaN(total) || math.IsInf(total, 0) {
		return total, nil
	}
	coef := maxNorm / (total + clipEps)
	if coef >= 1 {
		return total, nil
	}
	ScaleGrads(params, coef)
	return total, nil
}

// ScaleGrads multiplies every gradient element of params by c (rounded to the
// gradient's dtype): the rescaling of clipping and of gradients accumulated
// over micro-batches.
func ScaleGrads(params []*graph.Param, c float64) {
	eachGrad(params, func(g []float32) { scale(g, float32(c)) }, func(g []float64) { scale(g, c) })
}

// eachGrad applies f32 or f64, by dtype, to the gradient of every parameter.
func eachGrad(params []*graph.Param, f32 func([]float32), f64 func([]float64)) {
	for _, p := range params {
		switch p.Grad.Dtype() {
		case tensor.Float32:
			f32(p.Grad.Float32s())
		case tensor.Float64:
			f64(p.Grad.Float64s())
		}
	}
}

func scale[T float](x []T, c T) {
	for i := range x {
		x[i] *= c
	}
}

// ClipGradValue clamps every gradient element of params to [-v, v] in place, as
// torch.nn.utils.clip_grad_value_ does (PyTorch 1.13 documentation,
// https://pytorch.org/docs/1.13/generated/torch.nn.utils.clip_grad_value_.html).
// NaN elements stay NaN.
func ClipGradValue(params []*graph.Param, v float64) error {
	if !(v >= 0) {
		return errors.Errorf("solvers: clip gradient value: bound %v must be non-negative", v)
	}
	for i, p := range params {
		if p == nil {
			return errors.Errorf("solvers: clip gradient value: parameter %d is nil", i)
		}
		if err := checkParam(p); err != nil {
			return errors.Wrap(err, "solvers: clip gradient value")
		}
	}
	eachGrad(params, func(g []float32) { clamp(g, float32(v)) }, func(g []float64) { clamp(g, v) })
	return nil
}

func clamp[T float](x []T, v T) {
	for i, e := range x {
		if e > v {
			x[i] = v
		} else if e < -v {
			x[i] = -v
		}
	}
}
