package graph

import (
	"math"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
	"gorgonia.org/tensor"
)

// sampled fills a new tensor of dtype and n elements with s from key, on the
// given number of threads.
func sampled(s Sampler, key uint64, dtype tensor.Dtype, n, threads int) *tensor.Dense {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(threads))
	d := tensor.New(tensor.Of(dtype), tensor.WithShape(n))
	s(key, 0, d)
	return d
}

// Element i of a mask is 0 exactly when the uniform of Counter(key, i) is
// below p, whatever the dtype and the number of threads; the masks of two keys
// differ, and about a fraction p of the elements is dropped.
func TestBernoulliMaskIsCounterUniformBelowP(t *testing.T) {
	const n = 3*parallelMinWork + 7 // split over threads, with a ragged end
	for _, p := range []float64{0, 0.1, 1.0 / 3, 0.5, 0.999} {
		keep := 1 / (1 - p)
		one := sampled(BernoulliMask(p), 11, tensor.Float64, n, 1)
		require.Equal(t, one.Data(), sampled(BernoulliMask(p), 11, tensor.Float64, n, 2).Data(), "p %v: 1 and 2 threads", p)
		v32 := Slice[float32](sampled(BernoulliMask(p), 11, tensor.Float32, n, 2))
		dropped := 0
		for i, v := range Slice[float64](one) {
			want := keep
			if float64(Counter(11, i)>>11)/(1<<53) < p {
				want, dropped = 0, dropped+1
			}
			require.Equal(t, want, v, "p %v: element %d", p, i)
			require.Equal(t, float32(want), v32[i], "p %v: float32 element %d", p, i)
		}
		require.InDelta(t, p, float64(dropped)/n, 0.01, "p %v", p)
		tail := tensor.New(tensor.Of(tensor.Float64), tensor.WithShape(n-5))
		BernoulliMask(p)(11, 5, tail)
		require.Equal(t, Slice[float64](one)[5:], Slice[float64](tail), "p %v: from counter 5", p)
		if p > 0 {
			require.NotEqual(t, one.Data(), sampled(BernoulliMask(p), 12, tensor.Float64, n, 1).Data(), "another key")
		}
	}
}

// The normal noise is the same for any number of threads, with mean 0 and
// variance 1.
func TestStandardNormalIsCounterBased(t *testing.T) {
	const n = 4 * parallelMinWork
	one := sampled(StandardNormal, 5, tensor.Float64, n, 1)
	require.Equal(t, one.Data(), sampled(StandardNormal, 5, tensor.Float64, n, 2).Data())
	var sum, sq float64
	for _, v := range Slice[float64](one) {
		require.False(t, math.IsInf(v, 0) || math.IsNaN(v))
		sum += v
		sq += v * v
	}
	mean := sum / n
	tail := tensor.New(tensor.Of(tensor.Float64), tensor.WithShape(n-3))
	StandardNormal(5, 3, tail)
	require.Equal(t, Slice[float64](one)[3:], Slice[float64](tail), "from counter 3")
	require.InDelta(t, 0, mean, 0.02)
	require.InDelta(t, 1, sq/n-mean*mean, 0.02)
}

// Counter is SplitMix64: its values for key 0 are the first outputs of the
// stream seeded with 0 (Steele, Lea and Flood 2014; the values of the
// reference C implementation, splitmix64.c).
func TestCounterIsSplitMix64(t *testing.T) {
	require.Equal(t, uint64(0xe220a8397b1dcdaf), Counter(0, 0))
	require.Equal(t, uint64(0x6e789e6aa1b965f4), Counter(0, 1))
	require.Equal(t, uint64(0x06c45d188009454f), Counter(0, 2))
}

// BenchmarkBernoulliMask fills a float32 dropout mask of a million elements
// (p = 0.1) on one goroutine.
func BenchmarkBernoulliMask(b *testing.B) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	dst := tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(1<<20))
	mask := BernoulliMask(0.1)
	b.SetBytes(4 << 20)
	for i := 0; b.Loop(); i++ {
		mask(7, i<<20, dst)
	}
}
