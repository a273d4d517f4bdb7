//go:build amd64 && !purego

package avx2

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// DotRows32 and MixRows32 give the products of one row against a matrix, to
// float32 rounding, for any number of rows (none included) and widths that are
// multiples of 8.
func TestDotAndMixRows(t *testing.T) {
	if !Available {
		t.Skip("no AVX2 here")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, d := range []int{8, 32, 64} {
		for _, rows := range []int{0, 1, 5, 21} {
			ld := d + 8*(rows%2) // rows apart by their width or more
			x, w := make([]float32, d), make([]float32, rows)
			m := make([]float32, rows*ld)
			for i := range x {
				x[i] = float32(rng.NormFloat64())
			}
			for i := range w {
				w[i] = float32(rng.Float64())
			}
			for i := range m {
				m[i] = float32(rng.NormFloat64())
				if i%ld >= d {
					m[i] = float32(math.NaN()) // between rows: never read
				}
			}
			dots := make([]float32, rows)
			DotRows32(dots, x, m, ld)
			for j := range dots {
				var want float64
				for i := range x {
					want += float64(x[i]) * float64(m[j*ld+i])
				}
				require.InDelta(t, want, float64(dots[j]), 1e-5*math.Sqrt(float64(d)), "d %d row %d", d, j)
			}
			mix := make([]float32, d)
			for i := range mix {
				mix[i] = float32(math.NaN()) // overwritten
			}
			MixRows32(mix, w, m, ld)
			for i := range mix {
				var want float64
				for j := range w {
					want += float64(w[j]) * float64(m[j*ld+i])
				}
				require.InDelta(t, want, float64(mix[i]), 1e-5*float64(rows+1), "d %d element %d", d, i)
			}
		}
	}
}

// Add32 adds element by element, each sum as Go's.
func TestAdd32(t *testing.T) {
	if !Available {
		t.Skip("no AVX2 here")
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{0, 8, 64} {
		dst, src := make([]float32, n), make([]float32, n+3)
		for i := range dst {
			dst[i] = float32(rng.NormFloat64())
		}
		for i := range src {
			src[i] = float32(rng.NormFloat64())
		}
		want := make([]float32, n)
		copy(want, dst)
		for i := range want {
			want[i] += src[i]
		}
		Add32(dst, src)
		require.Equal(t, want, dst)
	}
}

// LogProbs32 equals the scalar (v - max) - logSum lane by lane, the masked
// value at -Inf; Widen32 converts exactly.
func TestLogProbsAndWiden32(t *testing.T) {
	if !Available {
		t.Skip("no AVX2 here")
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{0, 8, 72} {
		src := make([]float32, n+3)
		for i := range src {
			src[i] = float32(rng.NormFloat64() * 10)
			if rng.IntN(5) == 0 {
				src[i] = float32(math.Inf(-1))
			}
		}
		src = src[:n]
		const max, logSum, masked = 1.25, 3.7, -1e9
		dst := make([]float32, n)
		LogProbs32(dst, src, max, logSum, masked)
		wide := make([]float64, n)
		Widen32(wide, src)
		for i, v := range src {
			want := float32(masked)
			if !math.IsInf(float64(v), -1) {
				want = (v - max) - logSum
			}
			require.Equal(t, math.Float32bits(want), math.Float32bits(dst[i]), "element %d", i)
			require.Equal(t, float64(v), wide[i], "element %d", i)
		}
	}
}
