package losses

import (
	"testing"

	"github.com/stretchr/testify/require"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
)

func TestCrossEntropyMatchesPyTorch(t *testing.T) {
	f := loadFixtures(t).CrossEntropy
	eachCase(t, f.Cases, func(dt tensor.Dtype, c logitCase, tol float64, msg func(string) string) {
		run := func(r Reduction, weighted bool, seq bool) *graph.Program {
			h := newHarness(t, dt)
			logits, targets, weights := f.Logits, f.Targets.dense(), f.Weights
			if seq { // the same numbers as (B, T, C) = (2, 3, 5)
				logits = fx{Shape: []int{2, 3, 5}, Data: logits.Data}
				targets = tensor.New(tensor.WithShape(2, 3), tensor.WithBacking(f.Targets.Data))
				weights = fx{Shape: []int{2, 3}, Data: weights.Data}
			}
			opt := CEOptions{LabelSmoothing: c.LabelSmoothing, Reduction: r}
			if weighted {
				opt.Weights = h.floatInput("w", weights)
			}
			x := h.param("logits", logits)
			return h.compile(h.b.Check(CrossEntropy(x, h.input("t", targets), opt)))
		}
		requireClose(t, c.None, value(t, run(None, false, false)), tol, msg("none"))
		requireClose(t, []float64{c.Sum}, value(t, run(Sum, false, false)), tol, msg("sum"))
		p := run(Mean, false, false)
		requireClose(t, []float64{c.Mean}, value(t, p), tol, msg("mean"))
		requireClose(t, c.GradMean, graph.Float64s(p.Params()[0].Grad), tol, msg("gradient of mean"))
		requireClose(t, []float64{c.WeightedMean}, value(t, run(Mean, true, false)), tol, msg("weighted mean"))
		requireClose(t, []float64{c.WeightedSum}, value(t, run(Sum, true, false)), tol, msg("weighted sum"))
		requireClose(t, c.PerSequence, value(t, run(PerSequence, true, true)), tol, msg("per sequence"))
		requireClose(t, []float64{c.Mean}, value(t, run(Mean, false, true)), tol, msg("mean of (B, T, C)"))
	})
}

func TestCrossEntropyGradients(t *testing.T) {
	f := loadFixtures(t).CrossEntropy
	seqLogits := fx{Shape: []int{2, 3, 5}}
	seqTargets := tensor.New(tensor.WithShape(2, 3), tensor.WithBacking(f.Targets.Data))
	for _, eps := range []float64{0, 0.3} {
		for _, r := range []Reduction{Mean, Sum, None, PerSequence} {
			for _, weighted := range []bool{false, true} {
				h := newHarness(t, tensor.Float64)
				opt := CEOptions{LabelSmoothing: eps, Reduction: r}
				if weighted {
					opt.Weights = h.floatInput("w", fx{Shape: []int{2, 3}, Data: f.Weights.Data})
				}
				x := h.param("logits", seqLogits)
				p := h.compile(h.b.Check(CrossEntropy(x, h.input("t", seqTargets), opt)))
				gradCheck(t, p)
			}
		}
	}
}

func TestCrossEntropyCustomIgnoreIndexAndAllIgnored(t *testing.T) {
	// every target is the padding id 2: PyTorch's mean is 0/0 = NaN, here 0
	h := newHarness(t, tensor.Float64)
	x := h.param("logits", fx{Shape: []int{3, 4}})
	targets := tensor.New(tensor.WithShape(3), tensor.WithBacking([]int{2, 2, 2}))
	p := h.compile(h.b.Check(CrossEntropy(x, h.input("t", targets), CEOptions{IgnoreIndex: graph.IgnoreClass(2), LabelSmoothing: 0.1})))
	require.Equal(t, []float64{0}, value(t, p))
	require.Equal(t, make([]float64, 12), graph.Float64s(p.Params()[0].Grad))

	// ignoring class 2 keeps row 1 only: the mean is that row's loss
	h = newHarness(t, tensor.Float64)
	x = h.param("logits", fx{Shape: []int{3, 4}, Data: []float64{1, 2, 3, 4, 0, 0, 0, 0, 5, 5, 5, 5}})
	targets = tensor.New(tensor.WithShape(3), tensor.WithBacking([]int{2, 3, 2}))
	p = h.compile(h.b.Check(CrossEntropy(x, h.input("t", targets), CEOptions{IgnoreIndex: graph.IgnoreClass(2)})))
	// row 1 is uniform over 4 classes: -log(1/4) = log 4
	requireClose(t, []float64{1.3862943611198906}, value(t, p), 1e-15, "mean over the one kept row")
}

func TestSequenceCrossEntropyMatchesPyTorch(t *testing.T) {
	f := loadFixtures(t).SequenceCrossEntropy
	for _, dt := range dtypes {
		tol := tolerance(dt)
		h := newHarness(t, dt)
		x := h.param("logits", f.Logits)
		p := h.compile(h.b.Check(SequenceCrossEntropy(x, h.input("t", f.Targets.dense()), h.floatInput("mask", f.Mask), CEOptions{})))
		requireClose(t, []float64{f.Mean}, value(t, p), tol, "mean "+dt.String())
		requireClose(t, f.GradMean, graph.Float64s(p.Params()[0].Grad), tol, "gradient "+dt.String())
		if dt == tensor.Float64 {
			gradCheck(t, p)
		}

		h = newHarness(t, dt)
		x = h.param("logits", f.Logits)
		p = h.compile(h.b.Check(SequenceCrossEntropy(x, h.input("t", f.Targets.dense()), h.floatInput("mask", f.Mask), CEOptions{Reduction: PerSequence})))
		requireClose(t, f.PerSequence, value(t, p), tol, "per sequence "+dt.String())
		if dt == tensor.Float64 {
			gradCheck(t, p)
		}
	}
}

func TestSequenceCrossEntropyFullyMaskedBatch(t *testing.T) {
	h := newHarness(t, tensor.Float32)
	x := h.param("logits", fx{Shape: []int{2, 3, 4}})
	targets := tensor.New(tensor.WithShape(2, 3), tensor.WithBacking([]int{0, 1, 2, 3, 0, 1}))
	mask := h.floatInput("mask", fx{Shape: []int{2, 3}, Data: make([]float64, 6)})
	p := h.compile(h.b.Check(SequenceCrossEntropy(x, h.input("t", targets), mask, CEOptions{LabelSmoothing: 0.1})))
	require.Equal(t, []float64{0}, value(t, p))
	require.Equal(t, make([]float64, 24), graph.Float64s(p.Params()[0].Grad))
}

func TestCrossEntropyRejectsBadArguments(t *testing.T) {
	g := G.NewGraph()
	x := G.NewTensor(g, tensor.Float64, 3, G.WithShape(2, 3, 4), G.WithName("x"))
	tg := G.NewMatrix(g, tensor.Int, G.WithShape(2, 3), G.WithName("t"))
	w := G.NewVector(g, tensor.Float64, G.WithShape(6), G.WithName("w"))
	_, err := CrossEntropy(x, tg, CEOptions{Weights: w})
	require.ErrorContains(t, err, "weights shape (6), targets shape (2, 3)")
	_, err = CrossEntropy(x, tg, CEOptions{Reduction: Reduction(9)})
	require.ErrorContains(t, err, "unknown reduction 9")
	m := G.NewMatrix(g, tensor.Float64, G.WithShape(3, 2), G.WithName("m"))
	_, err = SequenceCrossEntropy(x, tg, m, CEOptions{})
	require.ErrorContains(t, err, "mask shape (3, 2), targets shape (2, 3)")
	m32 := G.NewMatrix(g, tensor.Float32, G.WithShape(2, 3), G.WithName("m32"))
	_, err = SequenceCrossEntropy(x, tg, m32, CEOptions{})
	require.ErrorContains(t, err, "mask dtype float32")
	x2 := G.NewMatrix(g, tensor.Float64, G.WithShape(6, 4), G.WithName("x2"))
	_, err = SequenceCrossEntropy(x2, tg, m, CEOptions{})
	require.ErrorContains(t, err, "want (B, T, V) and (B, T)")
}
