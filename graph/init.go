package graph

import (
	"math"
	"math/rand/v2"

	"github.com/pkg/errors"
	"gonum.org/v1/gonum/mat"
)

// Initializer fills a new parameter of the given shape (PyTorch layout: a weight is
// (out, in, kernel...)) with values drawn from rng.
type Initializer interface {
	Fill(rng *rand.Rand, shape []int, vals []float64) error
}

// InitFunc adapts a function to the Initializer interface.
type InitFunc func(rng *rand.Rand, shape []int, vals []float64) error

// Fill calls f.
func (f InitFunc) Fill(rng *rand.Rand, shape []int, vals []float64) error { return f(rng, shape, vals) }

// Fans returns fan_in and fan_out as torch.nn.init computes them: for a shape
// (out, in, k1, k2, ...) fan_in = in*k1*k2*..., fan_out = out*k1*k2*...; a vector
// has fan_in = fan_out = its length.
func Fans(shape []int) (fanIn, fanOut int) {
	if len(shape) == 1 {
		return shape[0], shape[0]
	}
	receptive := 1
	for _, d := range shape[2:] {
		receptive *= d
	}
	return shape[1] * receptive, shape[0] * receptive
}

// elementwise is an initializer whose values are independent draws in index
// order, whatever the shape (constants, normal, uniform): Store.New fills a
// parameter of it a block at a time, with no float64 copy of the whole (a
// vocabulary-wide embedding's would be hundreds of megabytes).
type elementwise struct{ InitFunc }

// Constant fills with c.
func Constant(c float64) Initializer {
	return elementwise{func(_ *rand.Rand, _ []int, vals []float64) error {
		for i := range vals {
			vals[i] = c
		}
		return nil
	}}
}

// Zeros fills with 0.
func Zeros() Initializer { return Constant(0) }

// Ones fills with 1.
func Ones() Initializer { return Constant(1) }

// Uniform draws from U(lo, hi).
func Uniform(lo, hi float64) Initializer {
	return elementwise{func(rng *rand.Rand, _ []int, vals []float64) error {
		if !(hi >= lo) {
			return errors.Errorf("uniform: bounds [%g, %g] out of order", lo, hi)
		}
		for i := range vals {
			vals[i] = lo + (hi-lo)*rng.Float64()
		}
		return nil
	}}
}

// Normal draws from N(mean, std^2).
func Normal(mean, std float64) Initializer {
	return elementwise{func(rng *rand.Rand, _ []int, vals []float64) error {
		if std < 0 {
			return errors.Errorf("normal: negative std %g", std)
		}
		for i := range vals {
			vals[i] = mean + std*rng.NormFloat64()
		}
		return nil
	}}
}

// UniformFan draws from U(-1/sqrt(n), 1/sqrt(n)): PyTorch's default for the
// weights of linear layers (n the fan-in) and of recurrent layers (n the hidden
// size).
func UniformFan(n int) Initializer {
	b := 1 / math.Sqrt(float64(n))
	return Uniform(-b, b)
}

// XavierUniform draws from U(-a, a) with a = gain*sqrt(6/(fan_in+fan_out))
// (Glorot and Bengio 2010, eq. 16).
func XavierUniform(gain float64) Initializer {
	return InitFunc(func(rng *rand.Rand, shape []int, vals []float64) error {
		in, out := Fans(shape)
		a := gain * math.Sqrt(6/float64(in+out))
		return Uniform(-a, a).Fill(rng, shape, vals)
	})
}

// XavierNormal draws from N(0, std^2) with std = gain*sqrt(2/(fan_in+fan_out)).
func XavierNormal(gain float64) Initializer {
	return InitFunc(func(rng *rand.Rand, shape []int, vals []float64) error {
		in, out := Fans(shape)
		return Normal(0, gain*math.Sqrt(2/float64(in+out))).Fill(rng, shape, vals)
	})
}

// KaimingGain is the gain torch.nn.init.calculate_gain gives to a leaky ReLU of
// negative slope a: sqrt(2/(1+a^2)); a = 0 is the ReLU.
func KaimingGain(a float64) float64 { return math.Sqrt(2 / (1 + a*a)) }

// KaimingUniform draws from U(-b, b) with b = gain*sqrt(3/fan), fan = fan_in when
// fanIn is true and fan_out otherwise (He et al. 2015). PyTorch's nn.Linear default
// is KaimingUniform(math.Sqrt(1.0/3), true), which gives b = 1/sqrt(fan_in).
func KaimingUniform(gain float64, fanIn bool) Initializer {
	return InitFunc(func(rng *rand.Rand, shape []int, vals []float64) error {
		fan := kaimingFan(shape, fanIn)
		b := gain * math.Sqrt(3/float64(fan))
		return Uniform(-b, b).Fill(rng, shape, vals)
	})
}

// kaimingFan returns the fan_in of shape when fanIn is true and its fan_out
// otherwise.
func kaimingFan(shape []int, fanIn bool) int {
	in, out := Fans(shape)
	if fanIn {
		return in
	}
	return out
}

// KaimingNormal draws from N(0, std^2) with std = gain/sqrt(fan).
func KaimingNormal(gain float64, fanIn bool) Initializer {
	return InitFunc(func(rng *rand.Rand, shape []int, vals []float64) error {
		fan := kaimingFan(shape, fanIn)
		return Normal(0, gain/math.Sqrt(float64(fan))).Fill(rng, shape, vals)
	})
}

// Orthogonal fills the (rows = shape[0], cols = rest) matrix with a (semi-)orthogonal
// matrix scaled by gain: the Q of the QR decomposition of a standard normal matrix,
// with the signs of R's diagonal folded in so that the result is uniformly
// distributed (Saxe et al. 2014; Mezzadri 2007).
func Orthogonal(gain float64) Initializer {
	return InitFunc(func(rng *rand.Rand, shape []int, vals []float64) error {
		rows := shape[0]
		cols := len(vals) / rows
		r, c := rows, cols
		if rows < cols {
			r, c = cols, rows // factor the transpose
		}
		a := mat.NewDense(r, c, nil)
		for i := 0; i < r; i++ {
			for j := 0; j < c; j++ {
				a.Set(i, j, rng.NormFloat64())
			}
		}
		var qr mat.QR
		qr.Factorize(a)
		var q, rr mat.Dense
		qr.QTo(&q)
		qr.RTo(&rr)
		for i := 0; i < rows; i++ {
			for j := 0; j < cols; j++ {
				qi, qj := i, j
				if rows < cols {
					qi, qj = j, i
				}
				sign := 1.0
				if rr.At(qj, qj) < 0 {
					sign = -1
				}
				vals[i*cols+j] = gain * sign * q.At(qi, qj)
			}
		}
		return nil
	})
}
