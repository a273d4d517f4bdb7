package solvers

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// The float32 update, eight lanes at a time where the machine has AVX2, equals
// the scalar update element by element bit for bit: weights, gradients (zeroed)
// and both moments, for Adam, AdamW, L2 decay and AMSGrad, over lengths that are
// and are not multiples of eight.
func TestAdamFloat32VectorEqualsScalar(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	configs := map[string]struct {
		cfg       AdamConfig
		decoupled bool
	}{
		"adam":    {DefaultAdamConfig(), false},
		"adamw":   {DefaultAdamWConfig(), true},
		"l2":      {AdamConfig{LR: 1e-3, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 0.01}, false},
		"amsgrad": {AdamConfig{LR: 1e-3, Beta1: 0.9, Beta2: 0.99, Eps: 1e-8, AMSGrad: true}, true},
	}
	for name, c := range configs {
		for _, n := range []int{5, 8, 37, 1000} {
			fill := func(scale float64) []float32 {
				x := make([]float32, n)
				for i := range x {
					x[i] = float32(scale * rng.NormFloat64())
				}
				return x
			}
			w, g, m := fill(1), fill(1e-2), fill(1e-3)
			v := fill(1e-4)
			for i := range v {
				v[i] = float32(math.Abs(float64(v[i])))
			}
			g[0], m[n-1] = 0, 0
			vmax := append([]float32(nil), v...)
			clone := func(x []float32) []float32 { return append([]float32(nil), x...) }
			w1, g1, m1, v1, x1 := clone(w), clone(g), clone(m), clone(v), clone(vmax)
			for step := int64(1); step <= 3; step++ {
				k := makeAdamCoeffs[float32](c.cfg, 1e-3, c.decoupled, step)
				gw, gs := clone(g), clone(g)
				copy(g1, gs)
				adamUpdate(w, gw, m, v, vmax, k)
				for i := range w1 { // slices of one element: the scalar loop only
					adamUpdate(w1[i:i+1], g1[i:i+1], m1[i:i+1], v1[i:i+1], x1[i:i+1], k)
				}
				for i := range w {
					require.Equal(t, math.Float32bits(w1[i]), math.Float32bits(w[i]), "%s n %d step %d w[%d]", name, n, step, i)
					require.Equal(t, math.Float32bits(m1[i]), math.Float32bits(m[i]), "%s n %d step %d m[%d]", name, n, step, i)
					require.Equal(t, math.Float32bits(v1[i]), math.Float32bits(v[i]), "%s n %d step %d v[%d]", name, n, step, i)
					require.Zero(t, gw[i])
				}
			}
		}
	}
}
