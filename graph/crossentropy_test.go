package graph

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func intTensor(ids []int, shape ...int) *tensor.Dense {
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(append([]int(nil), ids...)))
}

// ceEval runs SoftmaxCrossEntropy forward and returns the per-row losses.
func ceEval(t *testing.T, logits *tensor.Dense, targets *tensor.Dense, opts CEOptions) (*tensor.Dense, error) {
	t.Helper()
	b := NewBuilder(NewStore(logits.Dtype(), NewRNG(1, "init")), Eval)
	x := b.Input("x", logits.Dtype(), logits.Shape()...)
	tg := b.Input("t", tensor.Int, targets.Shape()...)
	b.Output("loss", b.Check(SoftmaxCrossEntropy(x, tg, opts)))
	p, err := b.Compile(nil)
	require.NoError(t, err)
	require.NoError(t, p.Set("x", logits))
	require.NoError(t, p.Set("t", targets))
	if err := p.Run(); err != nil {
		return nil, err
	}
	out, err := p.Output("loss")
	require.NoError(t, err)
	return out.Clone().(*tensor.Dense), nil
}

// Reference values from PyTorch 1.13.1:
// F.cross_entropy(x, t, reduction="none"[, label_smoothing=0.1]) with
// x = [[1, 2, 3], [1, 2, 3], [0.5, -1, 4]] (float64) and t = [2, 0, -100].
func TestSoftmaxCrossEntropyMatchesPyTorch(t *testing.T) {
	x := FromFloat64s(tensor.Float64, []float64{1, 2, 3, 1, 2, 3, 0.5, -1, 4}, 3, 3)
	tg := intTensor([]int{2, 0, -100}, 3)
	got, err := ceEval(t, x, tg, CEOptions{})
	require.NoError(t, err)
	require.InDeltaSlice(t, []float64{0.4076059644443804, 2.4076059644443806, 0}, Float64s(got), 1e-15)
	got, err = ceEval(t, x, tg, CEOptions{LabelSmoothing: 0.1})
	require.NoError(t, err)
	require.InDeltaSlice(t, []float64{0.5076059644443804, 2.3076059644443805, 0}, Float64s(got), 1e-15)

	// float32 gives the same to float32 precision
	got, err = ceEval(t, FromFloat64s(tensor.Float32, Float64s(x), 3, 3), tg, CEOptions{LabelSmoothing: 0.1})
	require.NoError(t, err)
	require.Equal(t, tensor.Float32, got.Dtype())
	require.InDeltaSlice(t, []float32{0.5076059644443804, 2.3076059644443805, 0}, Slice[float32](got), 1e-6)
}

func TestSoftmaxCrossEntropyCustomIgnoreAndLargeLogits(t *testing.T) {
	// class 0 as padding: row 1 is ignored, row 0 has target 1 with logits
	// (100, 0, 0): loss = 100 + log(1 + 2e^-100) - 0, which is 100 in float32
	x := tensor.New(tensor.WithShape(2, 3), tensor.WithBacking([]float32{100, 0, 0, 5, 6, 7}))
	got, err := ceEval(t, x, intTensor([]int{1, 0}, 2), CEOptions{IgnoreIndex: IgnoreClass(0)})
	require.NoError(t, err)
	require.Equal(t, []float32{100, 0}, Slice[float32](got))
	// -100 is an error when another ignore index is set
	_, err = ceEval(t, x, intTensor([]int{1, -100}, 2), CEOptions{IgnoreIndex: IgnoreClass(0)})
	require.ErrorContains(t, err, "target -100 of row 1 outside [0, 3)")
	_, err = ceEval(t, x, intTensor([]int{3, 1}, 2), CEOptions{})
	require.ErrorContains(t, err, "target 3 of row 0 outside [0, 3)")
}

func TestSoftmaxCrossEntropySequenceLayout(t *testing.T) {
	// (B, T, V) = (2, 2, 3) logits against (2, 2) targets equal the flat (4, 3) case
	xs, x := randomTensor(4, 2, 2, 3)
	tg := intTensor([]int{0, 2, -100, 1}, 2, 2)
	got, err := ceEval(t, x, tg, CEOptions{LabelSmoothing: 0.25})
	require.NoError(t, err)
	require.Equal(t, tensor.Shape{2, 2}, got.Shape())
	flat, err := ceEval(t, FromFloat64s(tensor.Float64, xs, 4, 3), intTensor([]int{0, 2, -100, 1}, 4), CEOptions{LabelSmoothing: 0.25})
	require.NoError(t, err)
	require.Equal(t, Float64s(flat), Float64s(got))
	// definition: (1-eps)(lse - x_t) + eps mean_c(lse - x_c)
	for r, id := range []int{0, 2, -100, 1} {
		if id < 0 {
			require.Equal(t, 0.0, Float64s(got)[r])
			continue
		}
		row := xs[3*r : 3*r+3]
		lse := math.Log(math.Exp(row[0]) + math.Exp(row[1]) + math.Exp(row[2]))
		want := 0.75*(lse-row[id]) + 0.25*(3*lse-row[0]-row[1]-row[2])/3
		require.InDelta(t, want, Float64s(got)[r], 1e-14)
	}
}

func TestSoftmaxCrossEntropyGradients(t *testing.T) {
	cases := []struct {
		shape   []int
		targets []int
		opts    CEOptions
	}{
		{[]int{4, 5}, []int{0, 4, 2, 1}, CEOptions{}},
		{[]int{4, 5}, []int{0, -100, 2, 4}, CEOptions{LabelSmoothing: 0.2}},
		{[]int{4, 5}, []int{3, 3, 1, 2}, CEOptions{IgnoreIndex: IgnoreClass(3), LabelSmoothing: 1}},
		{[]int{2, 3, 5}, []int{1, 0, -100, 4, 4, 2}, CEOptions{LabelSmoothing: 0.1}},
	}
	for _, c := range cases {
		tshape := c.shape[:len(c.shape)-1]
		var tg *tensor.Dense
		x, p := smGradCheck(t, c.shape, nil, nil, func(b *Builder, x, _ *G.Node) (*G.Node, error) {
			n := b.Input("t", tensor.Int, tshape...)
			return SoftmaxCrossEntropy(x, n, c.opts)
		}, func(p *Program) {
			tg = intTensor(c.targets, tshape...)
			require.NoError(t, p.Set("t", tg))
		})
		// ignored rows get exactly zero gradient
		require.NoError(t, p.Run())
		ncls := c.shape[len(c.shape)-1]
		g := Float64s(x.Grad)
		for r, id := range c.targets {
			for j := 0; j < ncls; j++ {
				if id == c.opts.Ignored() {
					require.Equal(t, 0.0, g[r*ncls+j])
				} else {
					require.NotEqual(t, 0.0, g[r*ncls+j])
				}
			}
		}
	}
}

func TestSoftmaxCrossEntropyRejectsBadArguments(t *testing.T) {
	g := G.NewGraph()
	x := G.NewMatrix(g, tensor.Float64, G.WithShape(4, 3), G.WithName("x"))
	tf := G.NewVector(g, tensor.Float64, G.WithShape(4), G.WithName("tf"))
	_, err := SoftmaxCrossEntropy(x, tf, CEOptions{})
	require.ErrorContains(t, err, "targets dtype float64, want int")
	t5 := G.NewVector(g, tensor.Int, G.WithShape(5), G.WithName("t5"))
	_, err = SoftmaxCrossEntropy(x, t5, CEOptions{})
	require.ErrorContains(t, err, "targets shape (5), want (4)")
	t4 := G.NewVector(g, tensor.Int, G.WithShape(4), G.WithName("t4"))
	_, err = SoftmaxCrossEntropy(x, t4, CEOptions{LabelSmoothing: 1.5})
	require.ErrorContains(t, err, "label smoothing 1.5 outside [0, 1]")
	v := G.NewVector(g, tensor.Float64, G.WithShape(4), G.WithName("v"))
	_, err = SoftmaxCrossEntropy(v, G.NewScalar(g, tensor.Int, G.WithName("s")), CEOptions{})
	require.ErrorContains(t, err, "at least 2 dimensions")
}

// The float32 path (vectorised exponentials after the row's maximum) gives the
// float64 losses and gradients to float32 precision, for rows of lengths that
// are and are not a multiple of the vector width, with masked (-Inf) logits,
// an ignored row and label smoothing.
func TestSoftmaxCrossEntropyFloat32MatchesFloat64(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, c := range []int{3, 8, 37, 800} {
		for _, eps := range []float64{0, 0.1} {
			n := 6
			x64, g64 := make([]float64, n*c), make([]float64, n)
			for i := range x64 {
				x64[i] = 8 * rng.NormFloat64()
			}
			x64[c+1] = math.Inf(-1) // a masked logit in row 1
			ids := make([]int, n)
			for r := range ids {
				ids[r] = rng.IntN(c)
				g64[r] = rng.Float64()
			}
			ids[1], ids[4] = 0, -100
			x32, g32 := make([]float32, len(x64)), make([]float32, n)
			for i, v := range x64 {
				x32[i] = float32(v)
				x64[i] = float64(x32[i]) // the same logits on both paths
			}
			for i, v := range g64 {
				g32[i] = float32(v)
				g64[i] = float64(g32[i])
			}
			l64, l32 := make([]float64, n), make([]float32, n)
			d64, d32 := make([]float64, n*c), make([]float32, n*c)
			if eps != 0 {
				x64[c+1], x32[c+1] = -30, -30 // smoothing needs a finite mean
			}
			ceForward(x64, ids, l64, n, c, -100, eps)
			ceForward(x32, ids, l32, n, c, -100, eps)
			ceBackward(x64, ids, l64, g64, d64, n, c, -100, eps)
			ceBackward(x32, ids, l32, g32, d32, n, c, -100, eps)
			for r := range l64 {
				require.InDelta(t, l64[r], float64(l32[r]), 2e-6*(1+math.Abs(l64[r])), "c %d eps %v row %d", c, eps, r)
			}
			for i := range d64 {
				require.InDelta(t, d64[i], float64(d32[i]), 2e-6, "c %d eps %v element %d", c, eps, i)
			}
		}
	}
}
