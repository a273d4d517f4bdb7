package graph

import (
	"fmt"
	"math"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// MaskThreshold is the mask value at or below which a position of a masked softmax
// is excluded: it gets a probability of exactly zero and no gradient. Additive masks
// conventionally hold 0 for kept positions and -Inf, -1e9 or -1e4 for excluded
// ones; all of those are at or below the threshold.
const MaskThreshold = -1e4

// MaskedLogProb is the value LogSoftMax gives an excluded position (a masked one,
// or one whose input is -Inf): a finite stand-in for log 0, so that p*log p and
// sums over a row stay free of NaN. exp(MaskedLogProb) is exactly zero in float32
// and float64.
const MaskedLogProb = -1e9

// SoftMax returns exp(z_i - max z) / sum_j exp(z_j - max z) along axis, with
// z = x + mask, computed per row (every index of the other axes): a row holding
// one large value is exact and finite.
//
// mask is optional (nil for none): an additive mask of x's shape and dtype that
// is not differentiated. A position whose mask is at or below MaskThreshold
// (-Inf, -1e9, ...), or whose input is -Inf, is excluded: its probability is
// exactly 0 and its gradient exactly 0. A row with every position excluded (a
// fully masked row) has all probabilities 0, not a uniform distribution and not
// NaN, and a zero gradient. axis may be negative (counted from the end).
//
// Backward: dx = y * (g - sum_j g_j y_j) along the axis. It mirrors
// torch.softmax(x + mask, dim=axis) wherever a row keeps at least one position.
func SoftMax(x *G.Node, axis int, mask *G.Node) (*G.Node, error) {
	return applySoftmax(x, axis, mask, false)
}

// LogSoftMax returns z_i - log sum_j exp(z_j) along axis with z = x + mask,
// computed stably per row (the row's maximum is subtracted first). Masking follows
// SoftMax: excluded positions, and every position of a fully masked row, hold
// MaskedLogProb (finite) and get a zero gradient.
//
// Backward: dx_i = g_i - exp(y_i) * sum_j g_j, the sum over the kept positions
// of the row. It mirrors torch.log_softmax(x + mask, dim=axis) wherever a row keeps
// at least one position (PyTorch gives -Inf where the mask is -Inf).
func LogSoftMax(x *G.Node, axis int, mask *G.Node) (*G.Node, error) {
	return applySoftmax(x, axis, mask, true)
}

// LogSumExp returns log sum_i exp(x_i) along axis, removing the axis (a 1-D input
// gives a scalar). It is computed as m + log sum_i exp(x_i - m) with m the row's
// maximum, so it is exact for large values; a row of only -Inf gives -Inf and a
// zero gradient. Backward: dx_i = g * exp(x_i - y). It mirrors
// torch.logsumexp(x, dim=axis).
func LogSumExp(x *G.Node, axis int) (*G.Node, error) {
	if x == nil {
		return nil, errors.New("logsumexp: nil input")
	}
	if err := checkFloatNode("logsumexp", x); err != nil {
		return nil, err
	}
	ax, err := normaliseAxis(axis, x.Dims())
	if err != nil {
		return nil, errors.Wrap(err, "logsumexp")
	}
	return Apply(logSumExpKernel{axis: ax}, x)
}

func applySoftmax(x *G.Node, axis int, mask *G.Node, log bool) (*G.Node, error) {
	name := "softmax"
	if log {
		name = "logsoftmax"
	}
	if x == nil {
		return nil, errors.Errorf("%s: nil input", name)
	}
	if err := checkFloatNode(name, x); err != nil {
		return nil, err
	}
	ax, err := normaliseAxis(axis, x.Dims())
	if err != nil {
		return nil, errors.Wrap(err, name)
	}
	k := softmaxKernel{axis: ax, log: log, masked: mask != nil}
	if mask == nil {
		return Apply(k, x)
	}
	if mask.Dtype() != x.Dtype() {
		return nil, errors.Errorf("%s: mask dtype %v, input dtype %v", name, mask.Dtype(), x.Dtype())
	}
	return Apply(k, x, mask)
}

// checkFloatNode returns an error unless n is float32 or float64.
func checkFloatNode(op string, n *G.Node) error {
	if dt := n.Dtype(); dt != tensor.Float32 && dt != tensor.Float64 {
		return errors.Errorf("%s: dtype %v, want float32 or float64", op, dt)
	}
	return nil
}

// normaliseAxis maps a possibly negative axis into [0, dims).
func normaliseAxis(axis, dims int) (int, error) {
	if dims == 0 {
		return 0, errors.New("scalar input has no axis")
	}
	a := axis
	if a < 0 {
		a += dims
	}
	if a < 0 || a >= dims {
		return 0, errors.Errorf("axis %d out of range for %d dimensions", axis, dims)
	}
	return a, nil
}

// axisLayout views a row-major tensor as (outer, n, inner): the elements of one
// row along the axis are base, base+inner, ..., base+(n-1)*inner with
// base = o*n*inner + k.
type axisLayout struct{ outer, n, inner int }

func layoutAlong(s tensor.Shape, axis int) axisLayout {
	l := axisLayout{outer: 1, n: s[axis], inner: 1}
	for _, d := range s[:axis] {
		l.outer *= d
	}
	for _, d := range s[axis+1:] {
		l.inner *= d
	}
	return l
}

// rows calls f(r, base, stride) for each row along the axis, the row index r
// running over outer*inner rows in row-major order of the remaining axes. Large
// tensors are split into contiguous ranges of rows run in parallel (see
// ParallelRows); f must only write its own row.
func (l axisLayout) rows(f func(r, base, stride int)) {
	l.rowRange(func(lo, hi int) {
		for r := lo; r < hi; r++ {
			f(r, l.base(r), l.inner)
		}
	})
}

// rowRange runs f over ranges of row indices covering [0, outer*inner).
func (l axisLayout) rowRange(f func(lo, hi int)) {
	ParallelRows(l.outer*l.inner, l.n, f)
}

// base returns the index of the first element of row r.
func (l axisLayout) base(r int) int { return (r/l.inner)*l.n*l.inner + r%l.inner }

// excluded reports whether a softmax position takes no part in its row.
func excluded(x float64, mask float64, masked bool) bool {
	return math.IsInf(x, -1) || (masked && mask <= MaskThreshold)
}

type softmaxKernel struct {
	axis   int
	log    bool
	masked bool
}

func (k softmaxKernel) Key() string {
	name := "softmax"
	if k.log {
		name = "logsoftmax"
	}
	if k.masked {
		return fmt.Sprintf("%s(axis=%d,masked)", name, k.axis)
	}
	return fmt.Sprintf("%s(axis=%d)", name, k.axis)
}

func (k softmaxKernel) OutputShape(in []tensor.Shape) (tensor.Shape, error) {
	if err := WantInputs(in, 1, k.masked); err != nil {
		return nil, err
	}
	if k.axis >= in[0].Dims() {
		return nil, errors.Errorf("axis %d out of range for shape %v", k.axis, in[0])
	}
	if k.masked && !in[1].Eq(in[0]) {
		return nil, errors.Errorf("mask shape %v differs from input shape %v", in[1], in[0])
	}
	return in[0].Clone(), nil
}

func (k softmaxKernel) Differentiable(n int) []bool {
	d := make([]bool, n)
	d[0] = true
	return d
}

func (k softmaxKernel) ForwardInto(out *tensor.Dense, in []*tensor.Dense) error {
	l := layoutAlong(in[0].Shape(), k.axis)
	return Dispatch(in[0].Dtype(),
		func() {
			softmaxRows(l, RowMajor[float32](in[0]), maskData[float32](in, k.masked), Slice[float32](out), k.log)
		},
		func() {
			softmaxRows(l, RowMajor[float64](in[0]), maskData[float64](in, k.masked), Slice[float64](out), k.log)
		})
}

func (k softmaxKernel) BackwardInto(dx *tensor.Dense, _ int, in []*tensor.Dense, out, g *tensor.Dense) error {
	l := layoutAlong(in[0].Shape(), k.axis)
	return Dispatch(in[0].Dtype(),
		func() {
			softmaxBackRows(l, RowMajor[float32](in[0]), maskData[float32](in, k.masked), RowMajor[float32](out), RowMajor[float32](g), Slice[float32](dx), k.log)
		},
		func() {
			softmaxBackRows(l, RowMajor[float64](in[0]), maskData[float64](in, k.masked), RowMajor[float64](out), RowMajor[float64](g), Slice[float64](dx), k.log)
		})
}

// Overwrites implements Overwriter: every element of the output and of the
// gradient is written.
func (softmaxKernel) Overwrites(int) bool { return true }

func maskData[T Float](in []*tensor.Dense, masked bool) []T {
	if !masked {
		return nil
	}
	return RowMajor[T](in[1])
}

// softmaxRows writes the (log-)softmax of x+mask along each row of l into y,
// computing in float64 (float32 rows that lie contiguous: softmaxRows32).
func softmaxRows[T Float](l axisLayout, x, mask, y []T, log bool) {
	if Is32[T]() && l.inner == 1 {
		softmaxRows32(l, As32(x), As32(mask), As32(y), log)
		return
	}
	masked := mask != nil
	l.rowRange(func(lo, hi int) {
		z := make([]float64, l.n) // the row's x+mask, -Inf where excluded
		for r := lo; r < hi; r++ {
			base, stride := l.base(r), l.inner
			m := math.Inf(-1)
			for i, idx := 0, base; i < l.n; i, idx = i+1, idx+stride {
				v := float64(x[idx])
				if masked {
					mv := float64(mask[idx])
					if mv <= MaskThreshold {
						v = math.Inf(-1)
					} else {
						v += mv
					}
				}
				z[i] = v
				if v > m {
					m = v
				}
			}
			if math.IsInf(m, -1) { // every position excluded
				fill := T(0)
				if log {
					fill = MaskedLogProb
				}
				for i, idx := 0, base; i < l.n; i, idx = i+1, idx+stride {
					y[idx] = fill
				}
				continue
			}
			var sum float64
			for i, v := range z {
				e := math.Exp(v - m) // 0 for excluded positions
				sum += e
				if !log {
					z[i] = e
				}
			}
			if log {
				logSum := math.Log(sum)
				for i, idx := 0, base; i < l.n; i, idx = i+1, idx+stride {
					if math.IsInf(z[i], -1) {
						y[idx] = MaskedLogProb
					} else {
						y[idx] = T((z[i] - m) - logSum)
					}
				}
				continue
			}
			inv := 1 / sum
			for i, idx := 0, base; i < l.n; i, idx = i+1, idx+stride {
				y[idx] = T(z[i] * inv)
			}
		}
	})
}

// softmaxRows32 is softmaxRows for float32 rows that lie contiguous (a softmax
// along the last axis): the exponentials eight at a time (ExpsShifted32), their
// sum and its logarithm in float64, the rest in float32. A row holding a NaN
// gives NaNs, as the float64 arithmetic does.
func softmaxRows32(l axisLayout, x, mask, y []float32, log bool) {
	l.rowRange(func(lo, hi int) {
		var z []float32 // the row's x+mask, -Inf where excluded
		if mask != nil {
			z = make([]float32, l.n)
		}
		for r := lo; r < hi; r++ {
			base := l.base(r)
			xr, yr := x[base:base+l.n], y[base:base+l.n]
			if mask == nil {
				z = xr
			} else {
				for i, v := range xr {
					if mv := mask[base+i]; float64(mv) <= MaskThreshold {
						v = float32(math.Inf(-1))
					} else {
						v += mv
					}
					z[i] = v
				}
			}
			m, nan := max32(z)
			switch {
			case nan:
				for i := range yr {
					yr[i] = float32(math.NaN())
				}
				continue
			case math.IsInf(float64(m), -1): // every position excluded
				fill := float32(0)
				if log {
					fill = MaskedLogProb
				}
				for i := range yr {
					yr[i] = fill
				}
				continue
			}
			sum := ExpsShifted32(yr, z, m)
			if !log {
				inv := float32(1 / sum)
				for i := range yr {
					yr[i] *= inv
				}
				continue
			}
			logProbs32(yr, z, m, float32(math.Log(sum)))
		}
	})
}

// softmaxBackRows writes the gradient of the (log-)softmax with respect to x.
func softmaxBackRows[T Float](l axisLayout, x, mask, y, g, dx []T, log bool) {
	masked := mask != nil
	keep := func(idx int) bool {
		if masked && float64(mask[idx]) <= MaskThreshold {
			return false
		}
		return !math.IsInf(float64(x[idx]), -1)
	}
	l.rows(func(_, base, stride int) {
		var s float64
		for i, idx := 0, base; i < l.n; i, idx = i+1, idx+stride {
			if !keep(idx) {
				continue
			}
			if log {
				s += float64(g[idx])
			} else {
				s += float64(g[idx]) * float64(y[idx])
			}
		}
		for i, idx := 0, base; i < l.n; i, idx = i+1, idx+stride {
			switch {
			case !keep(idx):
				dx[idx] = 0
			case log:
				dx[idx] = T(float64(g[idx]) - math.Exp(float64(y[idx]))*s)
			default:
				dx[idx] = T(float64(y[idx]) * (float64(g[idx]) - s))
			}
		}
	})
}

type logSumExpKernel struct{ axis int }

func (k logSumExpKernel) Key() string { return fmt.Sprintf("logsumexp(axis=%d)", k.axis) }

func (k logSumExpKernel) OutputShape(in []tensor.Shape) (tensor.Shape, error) {
	if err := WantInputs(in, 1); err != nil {
		return nil, err
	}
	if k.axis >= in[0].Dims() {
		return nil, errors.Errorf("axis %d out of range for shape %v", k.axis, in[0])
	}
	out := append(append(tensor.Shape{}, in[0][:k.axis]...), in[0][k.axis+1:]...)
	return out, nil
}

func (logSumExpKernel) Differentiable(int) []bool { return []bool{true} }

func (k logSumExpKernel) ForwardInto(out *tensor.Dense, in []*tensor.Dense) error {
	l := layoutAlong(in[0].Shape(), k.axis)
	return Dispatch(in[0].Dtype(),
		func() { logSumExpRows(l, RowMajor[float32](in[0]), Slice[float32](out)) },
		func() { logSumExpRows(l, RowMajor[float64](in[0]), Slice[float64](out)) })
}

func (k logSumExpKernel) BackwardInto(dx *tensor.Dense, _ int, in []*tensor.Dense, out, g *tensor.Dense) error {
	l := layoutAlong(in[0].Shape(), k.axis)
	return Dispatch(in[0].Dtype(),
		func() {
			logSumExpBackRows(l, RowMajor[float32](in[0]), RowMajor[float32](out), RowMajor[float32](g), Slice[float32](dx))
		},
		func() {
			logSumExpBackRows(l, RowMajor[float64](in[0]), RowMajor[float64](out), RowMajor[float64](g), Slice[float64](dx))
		})
}

// Overwrites implements Overwriter: every element of the output and of the
// gradient is written.
func (logSumExpKernel) Overwrites(int) bool { return true }

// LogSumExpRow returns log sum_j exp(x_j) in float64, computed stably from
// the row's maximum; -Inf for a row of only -Inf.
func LogSumExpRow[T Float](x []T) float64 {
	m := math.Inf(-1)
	for _, v := range x {
		if f := float64(v); f > m {
			m = f
		}
	}
	if math.IsInf(m, 0) {
		return m
	}
	var sum float64
	for _, v := range x {
		sum += math.Exp(float64(v) - m)
	}
	return m + math.Log(sum)
}

func logSumExpRows[T Float](l axisLayout, x, y []T) {
	l.rowRange(func(lo, hi int) {
		var row []T // a row along an inner axis, gathered
		for r := lo; r < hi; r++ {
			base := l.base(r)
			if l.inner == 1 {
				y[r] = T(LogSumExpRow(x[base : base+l.n]))
				continue
			}
			row = Grow(row, l.n)
			for i := range row {
				row[i] = x[base+i*l.inner]
			}
			y[r] = T(LogSumExpRow(row))
		}
	})
}

func logSumExpBackRows[T Float](l axisLayout, x, y, g, dx []T) {
	l.rows(func(r, base, stride int) {
		lse, gr := float64(y[r]), float64(g[r])
		for i := 0; i < l.n; i++ {
			idx := base + i*stride
			if math.IsInf(lse, -1) {
				dx[idx] = 0
				continue
			}
			dx[idx] = T(gr * math.Exp(float64(x[idx])-lse))
		}
	})
}
