package graph

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// smOp builds an op over an input node "x" and an optional mask node "mask".
type smOp func(b *Builder, x, mask *G.Node) (*G.Node, error)

// smEval runs op forward over x (and mask, when not nil) and returns a copy of the
// output.
func smEval(t *testing.T, x, mask *tensor.Dense, op smOp) *tensor.Dense {
	t.Helper()
	b := NewBuilder(NewStore(x.Dtype(), NewRNG(1, "init")), Eval)
	xn := b.Input("x", x.Dtype(), x.Shape()...)
	var mn *G.Node
	if mask != nil {
		mn = b.Input("mask", mask.Dtype(), mask.Shape()...)
	}
	b.Output("y", b.Check(op(b, xn, mn)))
	p, err := b.Compile(nil)
	require.NoError(t, err)
	require.NoError(t, p.Set("x", x))
	if mask != nil {
		require.NoError(t, p.Set("mask", mask))
	}
	require.NoError(t, p.Run())
	y, err := p.Output("y")
	require.NoError(t, err)
	return y.Clone().(*tensor.Dense)
}

// smGradCheck makes x a float64 parameter, builds loss = sum(op(x) * r) with r a
// fixed random tensor (zero where zeroR is true, to keep constant outputs out of
// the finite differences) and runs CheckGrad after the setup functions (which feed
// further inputs). It returns the parameter, whose
// gradient CheckGrad leaves zeroed, and the program.
func smGradCheck(t *testing.T, shape []int, mask *tensor.Dense, zeroR func(i int) bool, op smOp, setup ...func(*Program)) (*Param, *Program) {
	t.Helper()
	s := NewStore(tensor.Float64, NewRNG(7, "init"))
	x := s.Must("x", shape, Normal(0, 1.5))
	b := NewBuilder(s, Train)
	var mn *G.Node
	if mask != nil {
		mn = b.Input("mask", tensor.Float64, mask.Shape()...)
	}
	y := b.Check(op(b, b.Param(x), mn))
	require.NoError(t, b.Err())
	r := b.Input("r", tensor.Float64, y.Shape()...)
	vals := make([]float64, y.Shape().TotalSize())
	NormalFloat64s(NewRNG(3, "weights"), vals)
	if zeroR != nil {
		for i := range vals {
			if zeroR(i) {
				vals[i] = 0
			}
		}
	}
	var loss *G.Node
	if y.Shape().IsScalar() {
		loss = b.Check(G.Mul(y, r))
	} else {
		loss = b.Check(G.Sum(b.Check(G.HadamardProd(y, r))))
	}
	p, err := b.Compile(loss)
	require.NoError(t, err)
	require.NoError(t, p.Set("r", FromFloat64s(tensor.Float64, vals, y.Shape()...)))
	if mask != nil {
		require.NoError(t, p.Set("mask", mask))
	}
	for _, f := range setup {
		f(p)
	}
	require.NoError(t, CheckGrad(p, CheckOptions{}))
	return x, p
}

func softmaxOp(axis int, log bool) smOp {
	return func(_ *Builder, x, mask *G.Node) (*G.Node, error) {
		if log {
			return LogSoftMax(x, axis, mask)
		}
		return SoftMax(x, axis, mask)
	}
}

// refSoftmax is the textbook softmax of x+mask along axis of a (d0, d1, d2) tensor,
// without stabilisation (the test values are small), skipping -Inf mask entries.
func refSoftmax(x, mask []float64, shape []int, axis int, log bool) []float64 {
	l := layoutAlong(tensor.Shape(shape), axis)
	y := make([]float64, len(x))
	l.rows(func(_, base, stride int) {
		var sum float64
		for i := 0; i < l.n; i++ {
			if idx := base + i*stride; mask == nil || !math.IsInf(mask[idx], -1) {
				sum += math.Exp(x[idx])
			}
		}
		for i := 0; i < l.n; i++ {
			idx := base + i*stride
			switch {
			case mask != nil && math.IsInf(mask[idx], -1) && log:
				y[idx] = MaskedLogProb
			case mask != nil && math.IsInf(mask[idx], -1):
				y[idx] = 0
			case log:
				y[idx] = x[idx] - math.Log(sum)
			default:
				y[idx] = math.Exp(x[idx]) / sum
			}
		}
	})
	return y
}

func randomTensor(seed uint64, shape ...int) ([]float64, *tensor.Dense) {
	n := tensor.Shape(shape).TotalSize()
	vals := make([]float64, n)
	NormalFloat64s(NewRNG(seed, "x"), vals)
	return vals, FromFloat64s(tensor.Float64, vals, shape...)
}

// partialMask excludes (with -Inf) every third element, which never empties a row
// of length 3 or 4 along any axis of the (2, 3, 4) test tensor.
func partialMask(n int) []float64 {
	m := make([]float64, n)
	for i := range m {
		if i%3 == 1 {
			m[i] = math.Inf(-1)
		}
	}
	return m
}

func TestSoftMaxMatchesDefinitionAlongEveryAxis(t *testing.T) {
	shape := []int{2, 3, 4}
	xs, x := randomTensor(1, shape...)
	ms := partialMask(len(xs))
	mask := FromFloat64s(tensor.Float64, ms, shape...)
	for _, log := range []bool{false, true} {
		for _, axis := range []int{0, 1, 2, -1, -3} {
			norm := (axis + 3) % 3
			y := smEval(t, x, nil, softmaxOp(axis, log))
			require.InDeltaSlice(t, refSoftmax(xs, nil, shape, norm, log), Float64s(y), 1e-12, "log=%v axis=%d", log, axis)
			ym := smEval(t, x, mask, softmaxOp(axis, log))
			require.InDeltaSlice(t, refSoftmax(xs, ms, shape, norm, log), Float64s(ym), 1e-12, "masked log=%v axis=%d", log, axis)
		}
	}
}

// Reference values from PyTorch 1.13.1: torch.softmax, torch.log_softmax and
// torch.logsumexp of torch.tensor([1., 2., 3.], dtype=torch.float64).
func TestSoftMaxKnownValues(t *testing.T) {
	x := FromFloat64s(tensor.Float64, []float64{1, 2, 3}, 3)
	y := smEval(t, x, nil, softmaxOp(0, false))
	require.InDeltaSlice(t, []float64{0.09003057317038045, 0.2447284710547976, 0.6652409557748218}, Float64s(y), 1e-15)
	ly := smEval(t, x, nil, softmaxOp(0, true))
	require.InDeltaSlice(t, []float64{-2.4076059644443806, -1.4076059644443804, -0.4076059644443804}, Float64s(ly), 1e-15)
	lse := smEval(t, x, nil, func(_ *Builder, x, _ *G.Node) (*G.Node, error) { return LogSumExp(x, 0) })
	require.Equal(t, 0, lse.Dims())
	require.InDelta(t, 3.4076059644443806, Scalar(lse), 1e-15)
}

// Gorgonia's own softmax subtracts the first row's maximum from every row and
// returns NaN on the second row here. PyTorch 1.13.1 (float32) gives
// [[1/3, 1/3, 1/3], [1, 3.7835059e-44, 3.7835059e-44]] and log-softmax
// [[-1.0986123, x3], [0, -100, -100]].
func TestSoftMaxLargeValueFloat32(t *testing.T) {
	x := tensor.New(tensor.WithShape(2, 3), tensor.WithBacking([]float32{0, 0, 0, 100, 0, 0}))
	y := smEval(t, x, nil, softmaxOp(1, false))
	require.Equal(t, tensor.Float32, y.Dtype())
	got := Slice[float32](y)
	for i := 0; i < 3; i++ {
		require.InDelta(t, 1.0/3, got[i], 1e-7)
	}
	require.Equal(t, float32(1), got[3])
	// triad's float32 exponential gives 0 below e^-86.9 (2e-38), where PyTorch
	// keeps the subnormal
	require.InDelta(t, 3.783505853677006e-44, got[4], 4e-44)
	require.InDelta(t, 3.783505853677006e-44, got[5], 4e-44)

	ly := Slice[float32](smEval(t, x, nil, softmaxOp(-1, true)))
	require.InDeltaSlice(t, []float32{-1.0986123, -1.0986123, -1.0986123, 0, -100, -100}, ly, 1e-6)

	lse := Slice[float32](smEval(t, x, nil, func(_ *Builder, x, _ *G.Node) (*G.Node, error) { return LogSumExp(x, 1) }))
	require.InDeltaSlice(t, []float32{float32(math.Log(3)), 100}, lse, 1e-6)
}

// Row 0 is unmasked, row 1 excludes positions 1 and 3, row 2 excludes everything.
func maskedRows[T Float](fill float64) []T {
	m := make([]T, 12)
	m[5], m[7] = T(fill), T(fill)
	for i := 8; i < 12; i++ {
		m[i] = T(fill)
	}
	return m
}

func TestSoftMaxFullyMaskedRow(t *testing.T) {
	xs := []float64{0.5, -1, 2, 0, 3, 1, -2, 0.25, 4, 1, -1, 2}
	for _, fill := range []float64{math.Inf(-1), -1e9, -1e4} {
		for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
			x := FromFloat64s(dt, xs, 3, 4)
			var mask *tensor.Dense
			if dt == tensor.Float32 {
				mask = tensor.New(tensor.WithShape(3, 4), tensor.WithBacking(maskedRows[float32](fill)))
			} else {
				mask = tensor.New(tensor.WithShape(3, 4), tensor.WithBacking(maskedRows[float64](fill)))
			}
			y := Float64s(smEval(t, x, mask, softmaxOp(1, false)))
			ly := Float64s(smEval(t, x, mask, softmaxOp(1, true)))
			for i := range y {
				require.False(t, math.IsNaN(y[i]) || math.IsInf(y[i], 0), "softmax[%d] = %v", i, y[i])
				require.False(t, math.IsNaN(ly[i]) || math.IsInf(ly[i], 0), "log-softmax[%d] = %v", i, ly[i])
			}
			require.Equal(t, []float64{0, 0, 0, 0}, y[8:], "fully masked row: all probabilities zero")
			require.Equal(t, []float64{MaskedLogProb, MaskedLogProb, MaskedLogProb, MaskedLogProb}, ly[8:])
			require.Equal(t, 0.0, y[5])
			require.Equal(t, 0.0, y[7])
			// kept positions of row 1: softmax of {3, -2} = {1/(1+e^-5), e^-5/(1+e^-5)}
			tol := 1e-12
			if dt == tensor.Float32 {
				tol = 1e-6
			}
			require.InDelta(t, 1/(1+math.Exp(-5)), y[4], tol)
			require.InDelta(t, math.Exp(-5)/(1+math.Exp(-5)), y[6], tol)
			require.InDelta(t, -math.Log1p(math.Exp(-5)), ly[4], tol)
			require.InDelta(t, -5-math.Log1p(math.Exp(-5)), ly[6], 10*tol)
			require.InDeltaSlice(t, refSoftmax(xs[:4], nil, []int{1, 4}, 1, false), y[:4], tol)
		}
	}
}

func TestSoftMaxAndLogSoftMaxAreDistinctNodes(t *testing.T) {
	// Gorgonia merges its SoftMax and LogSoftMax of one input into one node.
	x := FromFloat64s(tensor.Float64, []float64{1, 2, 3}, 1, 3)
	y := smEval(t, x, nil, func(b *Builder, x, _ *G.Node) (*G.Node, error) {
		p := b.Check(SoftMax(x, 1, nil))
		lp := b.Check(LogSoftMax(x, 1, nil))
		return G.Sub(p, lp) // p - log p
	})
	want := []float64{0.09003057317038045 + 2.4076059644443806, 0.2447284710547976 + 1.4076059644443804, 0.6652409557748218 + 0.4076059644443804}
	require.InDeltaSlice(t, want, Float64s(y), 1e-14)
}

func TestSoftMaxGradients(t *testing.T) {
	shape := []int{2, 3, 4}
	ms := partialMask(24)
	mask := FromFloat64s(tensor.Float64, ms, shape...)
	for _, log := range []bool{false, true} {
		for _, axis := range []int{0, 1, -1} {
			smGradCheck(t, shape, nil, nil, softmaxOp(axis, log))
			// masked log-softmax outputs are the constant MaskedLogProb: keep them
			// out of the loss so that finite differences do not cancel 1e9s
			smGradCheck(t, shape, mask, func(i int) bool { return math.IsInf(ms[i], -1) }, softmaxOp(axis, log))
		}
	}
}

func TestSoftMaxGradientOfMaskedRowsIsZero(t *testing.T) {
	for _, fill := range []float64{math.Inf(-1), -1e9} {
		mask := tensor.New(tensor.WithShape(3, 4), tensor.WithBacking(maskedRows[float64](fill)))
		for _, log := range []bool{false, true} {
			ms := Float64s(mask)
			x, p := smGradCheck(t, []int{3, 4}, mask, func(i int) bool { return ms[i] < 0 }, softmaxOp(1, log))
			require.NoError(t, p.Run())
			g := Float64s(x.Grad)
			require.Equal(t, []float64{0, 0, 0, 0}, g[8:], "log=%v fill=%v", log, fill)
			require.Equal(t, 0.0, g[5])
			require.Equal(t, 0.0, g[7])
			require.NotEqual(t, 0.0, g[4])
		}
	}
}

func TestLogSumExpGradients(t *testing.T) {
	for _, axis := range []int{0, 1, 2, -1} {
		smGradCheck(t, []int{2, 3, 4}, nil, nil, func(_ *Builder, x, _ *G.Node) (*G.Node, error) { return LogSumExp(x, axis) })
	}
	smGradCheck(t, []int{5}, nil, nil, func(_ *Builder, x, _ *G.Node) (*G.Node, error) { return LogSumExp(x, 0) })
}

func TestLogSumExpShapesAndInfinities(t *testing.T) {
	inf := math.Inf(-1)
	x := FromFloat64s(tensor.Float64, []float64{inf, inf, 1000, 1000, -5, inf}, 3, 2)
	y := smEval(t, x, nil, func(_ *Builder, x, _ *G.Node) (*G.Node, error) { return LogSumExp(x, -1) })
	require.Equal(t, tensor.Shape{3}, y.Shape())
	require.Equal(t, []float64{inf, 1000 + math.Ln2, -5}, Float64s(y))
}

func TestSoftMaxRejectsBadArguments(t *testing.T) {
	g := G.NewGraph()
	x := G.NewMatrix(g, tensor.Float64, G.WithShape(2, 3), G.WithName("x"))
	_, err := SoftMax(x, 2, nil)
	require.ErrorContains(t, err, "axis 2 out of range")
	_, err = LogSoftMax(x, -3, nil)
	require.ErrorContains(t, err, "axis -3 out of range")
	_, err = LogSumExp(x, 5)
	require.ErrorContains(t, err, "axis 5 out of range")
	m := G.NewMatrix(g, tensor.Float64, G.WithShape(3, 2), G.WithName("m"))
	_, err = SoftMax(x, 1, m)
	require.ErrorContains(t, err, "mask shape (3, 2) differs from input shape (2, 3)")
	m32 := G.NewMatrix(g, tensor.Float32, G.WithShape(2, 3), G.WithName("m32"))
	_, err = SoftMax(x, 1, m32)
	require.ErrorContains(t, err, "mask dtype float32")
	xi := G.NewMatrix(g, tensor.Int, G.WithShape(2, 3), G.WithName("xi"))
	_, err = SoftMax(xi, 1, nil)
	require.ErrorContains(t, err, "dtype int")
}

// Inputs produced by Gorgonia's Slice and Transpose are read in row-major order
// (the kernels also copy any strided view they are handed before reading it).
func TestSoftMaxOfViews(t *testing.T) {
	xs, x := randomTensor(5, 3, 4)
	y := smEval(t, x, nil, func(b *Builder, x, _ *G.Node) (*G.Node, error) {
		cols := b.Check(G.Slice(x, nil, G.S(1, 3))) // (3, 2): columns 1 and 2
		return SoftMax(b.Check(G.Transpose(cols)), 1, nil)
	})
	var picked []float64
	for c := 1; c < 3; c++ {
		for r := 0; r < 3; r++ {
			picked = append(picked, xs[r*4+c])
		}
	}
	require.InDeltaSlice(t, refSoftmax(picked, nil, []int{2, 3}, 1, false), Float64s(y), 1e-12)
	smGradCheck(t, []int{3, 4}, nil, nil, func(b *Builder, x, _ *G.Node) (*G.Node, error) {
		return LogSoftMax(b.Check(G.Slice(x, nil, G.S(1, 3))), 0, nil)
	})
}

// A tensor above parallelMinWork elements is split across goroutines; every row
// must still match the definition, along the last and a middle axis.
func TestSoftMaxLargeTensor(t *testing.T) {
	shape := []int{40, 30, 32}
	xs, x := randomTensor(6, shape...)
	require.Greater(t, len(xs), parallelMinWork)
	for _, axis := range []int{2, 1} {
		y := smEval(t, x, nil, softmaxOp(axis, false))
		require.InDeltaSlice(t, refSoftmax(xs, nil, shape, axis, false), Float64s(y), 1e-12)
	}
	tg := make([]int, 40*30)
	for i := range tg {
		tg[i] = i % 32
	}
	ce, err := ceEval(t, x, intTensor(tg, 40, 30), CEOptions{})
	require.NoError(t, err)
	ly := Float64s(smEval(t, x, nil, softmaxOp(2, true)))
	for r, id := range tg {
		require.InDelta(t, -ly[r*32+id], Float64s(ce)[r], 1e-12)
	}
}
