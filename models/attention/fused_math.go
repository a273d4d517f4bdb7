package attention

import (
	"math"
	"runtime"
	"sync"
	"unsafe"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
)

// Helpers of the fused kernels (fused_*.go): the exponential in the precision of
// the element type, row-wise
// layer norm with its saved statistics, column sums, and a parallel loop over rows.

// isF32 reports whether T is float32.
func isF32[T graph.Float]() bool {
	var z T
	return unsafe.Sizeof(z) == 4
}

// as32 reinterprets a []T known to be []float32.
func as32[T graph.Float](v []T) []float32 { return *(*[]float32)(unsafe.Pointer(&v)) }

// expT returns e^x in the precision of T: graph.Exp32 for float32, math.Exp for
// float64.
func expT[T graph.Float](x T) T {
	if isF32[T]() {
		return T(graph.Exp32(float32(x)))
	}
	return T(math.Exp(float64(x)))
}

// parallelMin is the number of elements of work below which parallelFor runs on
// the calling goroutine.
const parallelMin = 1 << 15

// parallelFor runs f over [0, n) split into one contiguous range per available
// core when n*per elements are worth it, otherwise f(0, n). Ranges are computed
// independently, so results do not depend on the split.
func parallelFor(n, per int, f func(lo, hi int)) {
	parallelWorkers(n, per, func(_, lo, hi int) { f(lo, hi) })
}

// workersFor returns how many ranges parallelWorkers splits [0, n) into.
func workersFor(n, per int) int {
	w := min(runtime.GOMAXPROCS(0), n)
	if w < 2 || n*per < parallelMin {
		return 1
	}
	chunk := (n + w - 1) / w
	return (n + chunk - 1) / chunk
}

// parallelWorkers is parallelFor that also passes each range's index, below
// workersFor(n, per), for per-range scratch space.
func parallelWorkers(n, per int, f func(w, lo, hi int)) {
	workers := workersFor(n, per)
	if workers < 2 {
		f(0, 0, n)
		return
	}
	chunk := (n + workers - 1) / workers
	var wg sync.WaitGroup
	for w := 1; w*chunk < n; w++ {
		wg.Add(1)
		go func(w, lo, hi int) {
			defer wg.Done()
			f(w, lo, hi)
		}(w, w*chunk, min((w+1)*chunk, n))
	}
	f(0, 0, min(chunk, n))
	wg.Wait()
}

// colSums adds the column sums of the (rows, cols) matrix m into dst (cols).
func colSums[T graph.Float](dst, m []T, cols int) {
	dst = dst[:cols]
	for r := 0; r+cols <= len(m); r += cols {
		for j, v := range m[r : r+cols] {
			dst[j] += v
		}
	}
}

// colSumsProd adds the column sums of a*b (elementwise, (rows, cols)) into dst.
func colSumsProd[T graph.Float](dst, a, b []T, cols int) {
	dst = dst[:cols]
	for r := 0; r+cols <= len(a); r += cols {
		br := b[r : r+cols]
		for j, v := range a[r : r+cols] {
			dst[j] += v * br[j]
		}
	}
}

// mulInto sets dst = a*b elementwise; with b nil it copies a.
func mulInto[T graph.Float](dst, a, b []T) {
	if b == nil {
		copy(dst, a)
		return
	}
	b = b[:len(a)]
	dst = dst[:len(a)]
	for i, v := range a {
		dst[i] = v * b[i]
	}
}

// layerNormRows normalises each row of x (rows of width d) as graph.LayerNorm
// does, y = xhat w + bias with xhat = (x - mean) / sqrt(var + eps), and keeps xhat
// and 1/sqrt(var + eps) per row for the backward pass. Statistics are
// accumulated in float64.
func layerNormRows[T graph.Float](y, xhat []T, rstd []float64, x, w, bias []T, d int, eps float64) {
	rows := len(x) / d
	parallelFor(rows, d, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			row := x[r*d : (r+1)*d]
			var mean float64
			for _, v := range row {
				mean += float64(v)
			}
			mean /= float64(d)
			var v2 float64
			for _, v := range row {
				dv := float64(v) - mean
				v2 += dv * dv
			}
			rs := 1 / math.Sqrt(v2/float64(d)+eps)
			rstd[r] = rs
			xh, yr := xhat[r*d:(r+1)*d], y[r*d:(r+1)*d]
			for j, v := range row {
				h := T((float64(v) - mean) * rs)
				xh[j] = h
				yr[j] = h*w[j] + bias[j]
			}
		}
	})
}

// layerNormBackRows writes the gradient of a layer norm's input for the output
// gradient g: with gh = g w, dx = rstd (gh - mean(gh) - xhat mean(gh xhat)). With
// add, dx is added to dst instead of stored.
func layerNormBackRows[T graph.Float](dst, g, xhat []T, rstd []float64, w []T, d int, add bool) {
	rows := len(g) / d
	parallelFor(rows, d, func(lo, hi int) {
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

// grow returns buf resized to n elements, reallocated only when too small.
func grow[T graph.Float](buf []T, n int) []T {
	if cap(buf) < n {
		return make([]T, n)
	}
	return buf[:n]
}

// growF64 is grow for float64 statistics.
func growF64(buf []float64, n int) []float64 {
	if cap(buf) < n {
		return make([]float64, n)
	}
	return buf[:n]
}

// floats returns the row-major elements of input i, nil for a missing input.
func floats[T graph.Float](in []*tensor.Dense, i int) []T {
	if i < 0 || i >= len(in) {
		return nil
	}
	return vals[T](in[i])
}

// dispatchFloat runs f32 or f64 by dtype; f returns an error.
func dispatchFloat(dt tensor.Dtype, f32, f64 func() error) error {
	switch dt {
	case tensor.Float32:
		return f32()
	case tensor.Float64:
		return f64()
	}
	return errors.Errorf("unsupported dtype %v", dt)
}

// signMask32 returns all ones when the sign bit of x is set, else 0.
func signMask32(x float32) uint32 { return uint32(int32(math.Float32bits(x)) >> 31) }

// relu32 sets a = max(h, 0) (h's sign bit set: 0), times drop when not nil,
// without branches (the signs of pre-activations are unpredictable).
func relu32(a, h, drop []float32) {
	a = a[:len(h)]
	if drop == nil {
		for i, v := range h {
			a[i] = math.Float32frombits(math.Float32bits(v) &^ signMask32(v))
		}
		return
	}
	drop = drop[:len(h)]
	for i, v := range h {
		a[i] = math.Float32frombits(math.Float32bits(v)&^signMask32(v)) * drop[i]
	}
}

// reluBack32 sets d = d * drop where h's sign bit is clear, 0 elsewhere.
func reluBack32(d, h, drop []float32) {
	d = d[:len(h)]
	if drop == nil {
		for i, v := range h {
			d[i] = math.Float32frombits(math.Float32bits(d[i]) &^ signMask32(v))
		}
		return
	}
	drop = drop[:len(h)]
	for i, v := range h {
		d[i] = math.Float32frombits(math.Float32bits(d[i]*drop[i]) &^ signMask32(v))
	}
}
