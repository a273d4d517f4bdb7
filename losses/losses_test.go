package losses

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
)

func TestBCEWithLogitsMatchesPyTorch(t *testing.T) {
	f := loadFixtures(t).BCE
	eachCase(t, f.Cases, func(dt tensor.Dtype, c logitCase, tol float64, msg func(string) string) {
		run := func(r Reduction, weighted bool) *graph.Program {
			h := newHarness(t, dt)
			opt := BCEOptions{Reduction: r}
			if c.PosWeight != nil {
				opt.PosWeight = h.floatInput("pw", fx{Shape: []int{len(c.PosWeight)}, Data: c.PosWeight})
			}
			if weighted {
				opt.Weights = h.floatInput("w", f.Weights)
			}
			x, y := h.param("logits", f.Logits), h.param("targets", f.Targets)
			return h.compile(h.b.Check(BCEWithLogits(x, y, opt)))
		}
		none := value(t, run(None, false))
		for i, v := range none {
			require.False(t, math.IsNaN(v) || math.IsInf(v, 0), "element %d = %v", i, v)
		}
		requireClose(t, c.None, none, tol, msg("none"))
		requireClose(t, []float64{c.Sum}, value(t, run(Sum, false)), tol, msg("sum"))
		p := run(Mean, false)
		requireClose(t, []float64{c.Mean}, value(t, p), tol, msg("mean"))
		requireClose(t, c.GradMeanLogits, graph.Float64s(p.Params()[0].Grad), tol, msg("gradient of mean wrt logits"))
		requireClose(t, c.GradMeanTargets, graph.Float64s(p.Params()[1].Grad), tol, msg("gradient of mean wrt targets"))
		requireClose(t, []float64{c.WeightedMean}, value(t, run(Mean, true)), tol, msg("weighted mean"))
		requireClose(t, c.PerExample, value(t, run(PerExample, false)), tol, msg("per example"))
	})
}

func TestBCEWithLogitsGradients(t *testing.T) {
	shape := []int{3, 4}
	for _, pw := range []string{"", "row", "full"} {
		for _, r := range []Reduction{Mean, Sum, None, PerExample} {
			h := newHarness(t, tensor.Float64)
			opt := BCEOptions{Reduction: r, Weights: h.floatInput("w", fx{Shape: shape, Data: []float64{1, 0, 0.5, 2, 1, 1, 0, 1, 3, 1, 1, 0.25}})}
			switch pw {
			case "row":
				opt.PosWeight = h.floatInput("pw", fx{Shape: []int{4}, Data: []float64{0.5, 1, 2, 4}})
			case "full":
				opt.PosWeight = h.floatInput("pw", fx{Shape: shape, Data: []float64{1, 2, 3, 4, 0.5, 0.25, 1, 1, 2, 2, 0.1, 5}})
			}
			x := h.param("logits", fx{Shape: shape})
			// soft targets strictly inside (0, 1)
			y := h.param("targets", fx{Shape: shape, Data: []float64{0.1, 0.9, 0.5, 0.3, 0.7, 0.2, 0.4, 0.6, 0.05, 0.95, 0.35, 0.8}})
			gradCheck(t, h.compile(h.b.Check(BCEWithLogits(x, y, opt))))
		}
	}
}

func TestMSEMatchesPyTorch(t *testing.T) {
	f := loadFixtures(t).MSE
	for _, dt := range dtypes {
		tol := tolerance(dt)
		run := func(r Reduction) *graph.Program {
			h := newHarness(t, dt)
			return h.compile(h.b.Check(MSE(h.param("input", f.Input), h.param("target", f.Target), Options{Reduction: r})))
		}
		requireClose(t, f.None, value(t, run(None)), tol, "none")
		requireClose(t, []float64{f.Sum}, value(t, run(Sum)), tol, "sum")
		p := run(Mean)
		requireClose(t, []float64{f.Mean}, value(t, p), tol, "mean")
		requireClose(t, f.GradMeanInput, graph.Float64s(p.Params()[0].Grad), tol, "gradient wrt input")
		requireClose(t, f.GradMeanTarget, graph.Float64s(p.Params()[1].Grad), tol, "gradient wrt target")
	}
}

func TestMSEGradients(t *testing.T) {
	for _, r := range []Reduction{Mean, Sum, None, PerExample} {
		for _, weighted := range []bool{false, true} {
			h := newHarness(t, tensor.Float64)
			opt := Options{Reduction: r}
			if weighted {
				opt.Weights = h.floatInput("w", fx{Shape: []int{2, 3}, Data: []float64{1, 0, 2, 0.5, 1, 1}})
			}
			gradCheck(t, h.compile(h.b.Check(MSE(h.param("a", fx{Shape: []int{2, 3}}), h.param("b", fx{Shape: []int{2, 3}}), opt))))
		}
	}
}

func TestKLMatchesPyTorch(t *testing.T) {
	f := loadFixtures(t).KL
	requireClose(t, f.KLStandard, f.KLStandardDistributions, 1e-14, "the two PyTorch forms agree")
	for _, dt := range dtypes {
		tol := tolerance(dt)
		h := newHarness(t, dt)
		p := h.compile(h.b.Check(KLStandardNormal(h.param("mu", f.Mu1), h.param("logvar", f.Logvar1))))
		requireClose(t, f.KLStandard, value(t, p), tol, "standard normal "+dt.String())
		if dt == tensor.Float64 {
			gradCheck(t, p)
		}
		h = newHarness(t, dt)
		p = h.compile(h.b.Check(KLDiagGaussians(h.param("mu1", f.Mu1), h.param("logvar1", f.Logvar1), h.param("mu2", f.Mu2), h.param("logvar2", f.Logvar2))))
		requireClose(t, f.KLTwo, value(t, p), tol, "two gaussians "+dt.String())
		if dt == tensor.Float64 {
			gradCheck(t, p)
		}
	}
}

func TestKLOfEqualGaussiansIsZero(t *testing.T) {
	h := newHarness(t, tensor.Float64)
	mu := fx{Shape: []int{2, 3}, Data: []float64{1, -2, 0.5, 0, 3, -1}}
	lv := fx{Shape: []int{2, 3}, Data: []float64{0.1, -0.3, 2, 0, 1, -1}}
	p := h.compile(h.b.Check(KLDiagGaussians(h.param("mu1", mu), h.param("lv1", lv), h.floatInput("mu2", mu), h.floatInput("lv2", lv))))
	requireClose(t, []float64{0, 0}, value(t, p), 1e-15, "KL(q || q)")
	// a 1-D latent vector gives a scalar
	h = newHarness(t, tensor.Float64)
	out := h.b.Check(KLStandardNormal(h.param("mu", fx{Shape: []int{3}, Data: []float64{1, 0, 0}}), h.param("lv", fx{Shape: []int{3}, Data: []float64{0, 0, 0}})))
	require.True(t, out.Shape().IsScalar())
	requireClose(t, []float64{0.5}, value(t, h.compile(out)), 1e-15, "KL(N(e1, I) || N(0, I)) = |e1|^2 / 2")
}

func TestELBO(t *testing.T) {
	// recon = (1, 2, 3, 4), kl = (0.5, 0.5, 1, 2), beta = 0.5:
	// Recon = 10/4 = 2.5, KL = 4/4 = 1, Loss = 2.5 + 0.5 * 1 = 3
	recon := fx{Shape: []int{4}, Data: []float64{1, 2, 3, 4}}
	kl := fx{Shape: []int{4}, Data: []float64{0.5, 0.5, 1, 2}}
	for _, dt := range dtypes {
		for _, annealed := range []bool{false, true} {
			h := newHarness(t, dt)
			r, k := h.param("recon", recon), h.param("kl", kl)
			var terms ELBOTerms
			var err error
			if annealed {
				beta := h.b.Input("beta", dt)
				h.feeds["beta"] = graph.FromFloat64s(dt, []float64{0.5}, 1)
				terms, err = ELBOBeta(r, k, beta)
			} else {
				terms, err = ELBO(r, k, 0.5)
			}
			require.NoError(t, err)
			h.b.Output("recon", terms.Recon)
			h.b.Output("kl", terms.KL)
			p := h.compile(terms.Loss)
			require.Equal(t, []float64{3}, value(t, p))
			for name, want := range map[string]float64{"recon": 2.5, "kl": 1} {
				out, err := p.Output(name)
				require.NoError(t, err)
				require.Equal(t, want, graph.Scalar(out), name)
			}
			// dLoss/drecon_b = 1/B, dLoss/dkl_b = beta/B
			require.Equal(t, []float64{0.25, 0.25, 0.25, 0.25}, graph.Float64s(h.params["recon"].Grad))
			require.Equal(t, []float64{0.125, 0.125, 0.125, 0.125}, graph.Float64s(h.params["kl"].Grad))
			if dt == tensor.Float64 {
				gradCheck(t, p)
			}
		}
	}
}

// A VAE loss end to end: Bernoulli reconstruction per example plus the KL of the
// posterior, through ELBO, checked numerically.
func TestELBOOfVAEGradients(t *testing.T) {
	h := newHarness(t, tensor.Float64)
	logits := h.param("logits", fx{Shape: []int{3, 5}})
	x := h.floatInput("x", fx{Shape: []int{3, 5}, Data: []float64{0, 1, 1, 0, 0.5, 1, 1, 0, 0, 0, 0.2, 0.8, 1, 0, 1}})
	recon := h.b.Check(BCEWithLogits(logits, x, BCEOptions{Reduction: PerExample}))
	kl := h.b.Check(KLStandardNormal(h.param("mu", fx{Shape: []int{3, 2}}), h.param("logvar", fx{Shape: []int{3, 2}})))
	terms, err := ELBO(recon, kl, 4)
	require.NoError(t, err)
	gradCheck(t, h.compile(terms.Loss))
}

func TestReduce(t *testing.T) {
	// values (2, 3) = [[1, 2, 3], [4, +Inf, 6]], weights [[1, 0.5, 0], [2, 0, 1]]:
	// the Inf has weight 0 and must not reach the result or the gradient.
	vals := fx{Shape: []int{2, 3}, Data: []float64{1, 2, 3, 4, math.Inf(1), 6}}
	w := fx{Shape: []int{2, 3}, Data: []float64{1, 0.5, 0, 2, 0, 1}}
	cases := []struct {
		r    Reduction
		want []float64
		grad []float64 // for loss = sum(out) (or out for a scalar)
	}{
		{Mean, []float64{16.0 / 4.5}, []float64{1 / 4.5, 0.5 / 4.5, 0, 2 / 4.5, 0, 1 / 4.5}},
		{Sum, []float64{16}, []float64{1, 0.5, 0, 2, 0, 1}},
		{None, []float64{1, 1, 0, 8, 0, 6}, nil},
		{PerSequence, []float64{2, 14}, nil},
	}
	for _, c := range cases {
		h := newHarness(t, tensor.Float64)
		p := h.compile(h.b.Check(Reduce(h.param("v", vals), h.floatInput("w", w), c.r)))
		require.Equal(t, c.want, value(t, p), c.r.String())
		g := graph.Float64s(h.params["v"].Grad)
		require.Equal(t, 0.0, g[4], "gradient of a zero-weight element")
		if c.grad != nil {
			requireClose(t, c.grad, g, 1e-15, c.r.String())
		}
	}
	// unweighted, finite values: numeric check of every reduction
	for _, r := range []Reduction{Mean, Sum, None, PerSequence} {
		h := newHarness(t, tensor.Float64)
		gradCheck(t, h.compile(h.b.Check(Reduce(h.param("v", fx{Shape: []int{2, 3, 2}}), nil, r))))
	}
}

func TestParseReduction(t *testing.T) {
	for _, r := range []Reduction{Mean, Sum, None, PerSequence} {
		got, err := ParseReduction(r.String())
		require.NoError(t, err)
		require.Equal(t, r, got)
	}
	got, err := ParseReduction("per_example")
	require.NoError(t, err)
	require.Equal(t, PerExample, got)
	_, err = ParseReduction("avg")
	require.ErrorContains(t, err, `unknown reduction "avg"`)
}

func TestLossesRejectBadArguments(t *testing.T) {
	g := G.NewGraph()
	a := G.NewMatrix(g, tensor.Float64, G.WithShape(2, 3), G.WithName("a"))
	b := G.NewMatrix(g, tensor.Float64, G.WithShape(3, 2), G.WithName("b"))
	a32 := G.NewMatrix(g, tensor.Float32, G.WithShape(2, 3), G.WithName("a32"))
	_, err := MSE(a, b, Options{})
	require.ErrorContains(t, err, "target shape (3, 2) differs from prediction shape (2, 3)")
	_, err = MSE(a, a32, Options{})
	require.ErrorContains(t, err, "target dtype float32, prediction dtype float64")
	_, err = BCEWithLogits(a, b, BCEOptions{})
	require.ErrorContains(t, err, "targets shape (3, 2) differs from logits shape (2, 3)")
	pw := G.NewVector(g, tensor.Float64, G.WithShape(2), G.WithName("pw"))
	_, err = BCEWithLogits(a, a, BCEOptions{PosWeight: pw})
	require.ErrorContains(t, err, "pos_weight shape (2)")
	_, err = KLStandardNormal(a, b)
	require.ErrorContains(t, err, "input shapes differ")
	_, err = Reduce(a, b, Mean)
	require.ErrorContains(t, err, "weights shape (3, 2) differs from values shape (2, 3)")
	v := G.NewVector(g, tensor.Float64, G.WithShape(2), G.WithName("v"))
	_, err = ELBO(v, G.NewVector(g, tensor.Float64, G.WithShape(3), G.WithName("v3")), 1)
	require.ErrorContains(t, err, "want per-example (B) vectors")
	_, err = ELBOBeta(v, v, v)
	require.ErrorContains(t, err, "beta shape (2), want a scalar")
}
