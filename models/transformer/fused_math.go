package transformer

import (
	"math"

	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
)

// Helpers of the fused kernels (fused_*.go): column sums of products,
// elementwise products, buffers that grow, the inputs' elements and a
// branch-free relu. The exponential, the layer norm, the column sums and the
// parallel loop over rows are graph's (graph.Exp, graph.LayerNormRows,
// graph.AddColumnSums, graph.ParallelRows).

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

// floats returns the row-major elements of input i, nil for a missing input.
func floats[T graph.Float](in []*tensor.Dense, i int) []T {
	if i < 0 || i >= len(in) {
		return nil
	}
	return graph.RowMajor[T](in[i])
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
