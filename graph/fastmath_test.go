package graph

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/triadml/triad/internal/avx2"
)

// TestFastMath32 bounds the float32 activations' error against float64's math on
// a dense grid over [-100, 100] and random arguments: within 3 units of float32
// rounding (2^-24 relative: half the float32 epsilon) of the exact value, or, for
// the sigmoid near 0 where only the absolute error matters, within 2^-24 absolute.
// A float64 evaluation rounded to float32 errs by half a unit. Both the Go loops
// and, where the processor has them, the AVX2 kernels are checked; the latter
// also with lengths that are not multiples of 8.
func TestFastMath32(t *testing.T) {
	const ulp = 1.0 / (1 << 24)
	rng := NewRNG(1, "fastmath")
	xs := []float64{0, 1e-30, -1e-30, 1e-8, 0.625, -0.625, 0.62499997, 87, -87, 88, 89, -89, 100, -100, 1e30, -1e30}
	for x := -100.0; x <= 100; x += 1.0 / 1024 {
		xs = append(xs, x)
	}
	for i := 0; i < 100000; i++ {
		xs = append(xs, rng.NormFloat64()*3)
	}
	x := make([]float32, len(xs)+5) // a tail that is not a multiple of 8
	for i := range x {
		x[i] = float32(xs[i%len(xs)])
	}
	check := func(name string, got []float32, f func(float64) float64, absOK float64) {
		t.Helper()
		for i, g := range got {
			xe := float64(x[i])
			want := f(xe)
			err := math.Abs(float64(g) - want)
			if err > 3*ulp*math.Abs(want) && err > absOK {
				t.Fatalf("%s(%g) = %.9g, want %.9g (error %.3g relative)", name, xe, g, want, err/math.Abs(want))
			}
		}
	}
	sig := func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }
	impls := []struct {
		name string
		sig  func([]float32)
		tanh func(dst, src []float32)
	}{{"go", sigmoids32Go, tanhs32Go}, {"dispatch", sigmoids32, tanhs32}}
	for _, im := range impls {
		y := append([]float32(nil), x...)
		im.sig(y)
		check(im.name+" sigmoid", y, sig, ulp)
		im.tanh(y, x)
		check(im.name+" tanh", y, math.Tanh, 1e-38)
	}
	if !avx2.Available {
		t.Log("no AVX2 kernels on this processor or build: checked the Go loops only")
	}
}

func BenchmarkSigmoid32(b *testing.B)   { benchAct(b, func(v []float32) { Sigmoids(v) }) }
func BenchmarkTanh32(b *testing.B)      { benchAct(b, func(v []float32) { Tanhs(v, v) }) }
func BenchmarkSigmoid32Go(b *testing.B) { benchAct(b, sigmoids32Go) }
func BenchmarkTanh32Go(b *testing.B)    { benchAct(b, func(v []float32) { tanhs32Go(v, v) }) }
func BenchmarkSigmoid64(b *testing.B) {
	benchAct(b, func(v []float32) {
		for i, x := range v {
			v[i] = float32(1 / (1 + math.Exp(-float64(x))))
		}
	})
}
func BenchmarkTanh64(b *testing.B) {
	benchAct(b, func(v []float32) {
		for i, x := range v {
			v[i] = float32(math.Tanh(float64(x)))
		}
	})
}

func benchAct(b *testing.B, f func([]float32)) {
	rng := NewRNG(1, "bench")
	x := make([]float32, 4096)
	for i := range x {
		x[i] = float32(rng.NormFloat64() * 2)
	}
	y := make([]float32, len(x))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		copy(y, x)
		f(y)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(x)), "ns/value")
}

// ExpsShifted32 gives e^(x - shift), the difference taken in float32, within
// Exp32's relative 3e-7 of the exact value, exactly 0 for -Inf and below -86.9,
// eight lanes at a time and in the scalar tail alike, and returns the sum of
// what it wrote.
func TestExpsShifted32(t *testing.T) {
	rng := NewRNG(2, "exps")
	for _, n := range []int{0, 1, 7, 8, 9, 64, 1001} {
		src := make([]float32, n)
		for i := range src {
			src[i] = float32(rng.NormFloat64() * 20)
			switch i % 13 {
			case 3:
				src[i] = float32(math.Inf(-1))
			case 5:
				src[i] = -200
			}
		}
		const shift = 3.5
		dst := make([]float32, n)
		sum := ExpsShifted32(dst, src, shift)
		var want float64
		for i, x := range src {
			d := float64(x - shift)
			if d < exp32Lo {
				require.Zero(t, dst[i], "e^(%g - %g)", x, shift)
				continue
			}
			e := math.Exp(d)
			require.InDelta(t, e, float64(dst[i]), 3e-7*e, "e^(%g - %g), n %d", x, shift, n)
			want += float64(dst[i])
		}
		require.Equal(t, want, sum)
	}
}

func BenchmarkExpsShifted32(b *testing.B) {
	benchAct(b, func(v []float32) { ExpsShifted32(v, v, 1) })
}

// max32 finds the largest value, -Inf among others and alone, and a NaN
// anywhere, in the eight-wide part and in the tail.
func TestMax32(t *testing.T) {
	inf := float32(math.Inf(-1))
	for _, n := range []int{0, 1, 7, 8, 9, 16, 17, 1000} {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(-i)
		}
		m, nan := max32(x)
		if n == 0 {
			require.Equal(t, inf, m)
		} else {
			require.Equal(t, float32(0), m)
		}
		require.False(t, nan)
		for at := 0; at < n; at += max(1, n/5) {
			y := append([]float32(nil), x...)
			y[at] = 5
			m, _ := max32(y)
			require.Equal(t, float32(5), m, "n %d, at %d", n, at)
			y[at] = float32(math.NaN())
			_, nan := max32(y)
			require.True(t, nan, "n %d, NaN at %d", n, at)
			for i := range y {
				y[i] = inf
			}
			m, nan = max32(y)
			require.Equal(t, inf, m)
			require.False(t, nan)
		}
	}
}
