package vae

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/losses"
)

// uniformData returns n*d values in [0, 1].
func uniformData(seed uint64, n int) []float64 {
	rng := graph.NewRNG(seed, "data")
	v := make([]float64, n)
	for i := range v {
		v[i] = rng.Float64()
	}
	return v
}

// TestELBOGradients checks the gradient of the beta-weighted negative ELBO with
// respect to every parameter numerically (float64, eps held fixed by CheckGrad's
// seed) for both decoders, with and without hidden layers, beta != 1.
func TestELBOGradients(t *testing.T) {
	const batch, input, latent = 3, 6, 2
	cases := []struct {
		name string
		cfg  Config
	}{
		{"bernoulli/tanh/2 hidden", Config{Hidden: []int{5, 4}, Activation: "tanh", Likelihood: Bernoulli, Beta: 0.7}},
		{"bernoulli/relu/1 hidden", Config{Hidden: []int{5}, Activation: "relu", Likelihood: Bernoulli, Beta: 2.5}},
		{"bernoulli/linear", Config{Likelihood: Bernoulli, Beta: 0.3}},
		{"gaussian fixed/softplus", Config{Hidden: []int{4}, Activation: "softplus", Likelihood: Gaussian, Sigma: 0.7, Beta: 0.5}},
		{"gaussian learnt/tanh", Config{Hidden: []int{4, 3}, Activation: "tanh", Likelihood: Gaussian, Sigma: 0.8, LearnSigma: true, Beta: 1.5}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.cfg.Input, c.cfg.Latent = input, latent
			s := graph.NewStore(tensor.Float64, graph.NewRNG(7, "init"))
			m, err := New(s, c.cfg)
			require.NoError(t, err)
			if m.DecLogVar != nil { // vary the learnt variance across pixels
				for i := range graph.Slice[float64](m.DecLogVar.Value) {
					graph.Slice[float64](m.DecLogVar.Value)[i] += 0.1 * float64(i%3)
				}
			}
			p, err := m.BuildELBO(s, graph.Train, batch, nil)
			require.NoError(t, err)
			require.NoError(t, p.Feed(graph.FromFloat64s(tensor.Float64, uniformData(3, batch*input), batch, input), c.cfg.Beta))
			require.NoError(t, graph.CheckGrad(p.Program, graph.CheckOptions{Seed: 11}))
			// every parameter is used and checked
			require.Len(t, p.Params(), len(s.Params()))
		})
	}
}

// TestELBOTerms checks that the program's loss is recon + beta kl, that beta is
// an input (one program serves a warm-up schedule) and that the terms are the
// per-example means the definitions give, computed here directly for a linear
// Bernoulli VAE.
func TestELBOTerms(t *testing.T) {
	const batch, input, latent = 4, 5, 2
	s := graph.NewStore(tensor.Float64, graph.NewRNG(2, "init"))
	m, err := New(s, Config{Input: input, Latent: latent, Beta: 1})
	require.NoError(t, err)
	epsVals := uniformData(9, batch*latent)
	for i := range epsVals {
		epsVals[i] = 2*epsVals[i] - 1
	}
	p, err := m.BuildELBO(s, graph.Eval, batch, func(_ uint64, _ int, d *tensor.Dense) { require.NoError(t, graph.SetFloat64s(d, epsVals)) })
	require.NoError(t, err)
	p.SetNoise(graph.NewRNG(0, "unused"))
	x := uniformData(4, batch*input)
	affine := func(l *graph.Linear, in []float64, k int) []float64 {
		w, b := graph.Slice[float64](l.Weight.Value), graph.Slice[float64](l.Bias.Value)
		out := make([]float64, l.Out)
		for o := range l.Out {
			out[o] = b[o]
			for j := range k {
				out[o] += w[o*k+j] * in[j]
			}
		}
		return out
	}
	var recon, kl float64
	for e := range batch {
		xe := x[e*input : (e+1)*input]
		mu, lv := affine(m.Mu, xe, input), affine(m.LogVar, xe, input)
		z := make([]float64, latent)
		for j := range z {
			z[j] = mu[j] + math.Exp(lv[j]/2)*epsVals[e*latent+j]
			kl += -0.5 * (1 + lv[j] - mu[j]*mu[j] - math.Exp(lv[j]))
		}
		for d, o := range affine(m.Out, z, latent) {
			// -log Bernoulli(x; sigmoid(o)) with soft targets
			pr := 1 / (1 + math.Exp(-o))
			recon -= xe[d]*math.Log(pr) + (1-xe[d])*math.Log(1-pr)
		}
	}
	recon, kl = recon/batch, kl/batch
	for _, beta := range []float64{1, 0.25, 0} {
		require.NoError(t, p.Feed(graph.FromFloat64s(tensor.Float64, x, batch, input), beta))
		require.NoError(t, p.Run())
		loss, r, k := p.Values()
		require.InDelta(t, recon, r, 1e-12)
		require.InDelta(t, kl, k, 1e-12)
		require.InDelta(t, recon+beta*kl, loss, 1e-12)
	}
}

// TestReparameterizeSamples checks z = mu + exp(logvar/2) eps with several
// samples per example, and the gradients of mu and logvar summed over samples.
func TestReparameterizeSamples(t *testing.T) {
	s := graph.NewStore(tensor.Float64, graph.NewRNG(1, "init"))
	mu := s.Must("mu", []int{2, 3}, graph.Normal(0, 1))
	lv := s.Must("lv", []int{2, 3}, graph.Normal(0, 1))
	b := graph.NewBuilder(s, graph.Train)
	eps := b.Random("eps", graph.StandardNormal, 4*2, 3)
	z, err := Reparameterize(b.Param(mu), b.Param(lv), eps)
	require.NoError(t, err)
	require.Equal(t, tensor.Shape{8, 3}, z.Shape())
	r := b.Input("r", tensor.Float64, 8, 3)
	loss := b.Check(G.Sum(b.Check(G.HadamardProd(z, r))))
	b.Output("z", z)
	b.Output("eps", eps)
	p, err := b.Compile(loss)
	require.NoError(t, err)
	require.NoError(t, p.Set("r", graph.FromFloat64s(tensor.Float64, uniformData(5, 24), 8, 3)))
	require.NoError(t, graph.CheckGrad(p, graph.CheckOptions{Seed: 3}))
	p.SetNoise(graph.NewRNG(4, "noise"))
	require.NoError(t, p.Run())
	zt, _ := p.Output("z")
	et, _ := p.Output("eps")
	zv, ev := graph.Float64s(zt), graph.Float64s(et)
	m, l := graph.Slice[float64](mu.Value), graph.Slice[float64](lv.Value)
	for i := range zv {
		j := i % 6 // row i/3 of z belongs to example (i/3) % 2
		require.InDelta(t, m[j]+math.Exp(l[j]/2)*ev[i], zv[i], 1e-14)
	}
	_, err = Reparameterize(b.Param(mu), b.Param(lv), b.Input("bad", tensor.Float64, 3, 3))
	require.Error(t, err, "eps rows must be a multiple of the batch")
}

// TestNLLMatchesLosses checks the Bernoulli negative log-likelihood against
// losses.BCEWithLogits summed per example (itself checked against PyTorch), and
// the Gaussian one against its definition, with samples broadcast over x, and
// the Gaussian's gradients (means and learnt log-variance) numerically.
func TestNLLMatchesLosses(t *testing.T) {
	const S, B, D = 3, 2, 4
	s := graph.NewStore(tensor.Float64, graph.NewRNG(1, "init"))
	o := s.Must("o", []int{S * B, D}, graph.Normal(0, 2))
	lv := s.Must("dec_logvar", []int{D}, graph.Normal(0, 0.5))
	xv := uniformData(8, B*D)
	xRep := make([]float64, 0, S*B*D)
	for range S {
		xRep = append(xRep, xv...)
	}
	b := graph.NewBuilder(s, graph.Eval)
	x := b.Input("x", tensor.Float64, B, D)
	xr := b.Input("xr", tensor.Float64, S*B, D)
	bern := b.Check(graph.Apply(nllKernel{}, b.Param(o), x))
	ref := b.Check(losses.BCEWithLogits(b.Param(o), xr, losses.BCEOptions{Reduction: losses.PerExample}))
	gauss := b.Check(graph.Apply(nllKernel{gaussian: true, learned: true}, b.Param(o), x, b.Param(lv)))
	fixed := b.Check(graph.Apply(nllKernel{gaussian: true, logVar: -0.4}, b.Param(o), x))
	for name, n := range map[string]*G.Node{"bern": bern, "ref": ref, "gauss": gauss, "fixed": fixed} {
		b.Output(name, n)
	}
	p, err := b.Compile(nil)
	require.NoError(t, err)
	require.NoError(t, p.Set("x", graph.FromFloat64s(tensor.Float64, xv, B, D)))
	require.NoError(t, p.Set("xr", graph.FromFloat64s(tensor.Float64, xRep, S*B, D)))
	require.NoError(t, p.Run())
	get := func(name string) []float64 { v, _ := p.Output(name); return graph.Float64s(v) }
	require.InDeltaSlice(t, get("ref"), get("bern"), 1e-12)
	ov, lvv := graph.Slice[float64](o.Value), graph.Slice[float64](lv.Value)
	for r := range S * B {
		var g, f float64
		for d := range D {
			e := xv[(r%B)*D+d] - ov[r*D+d]
			g += 0.5 * (math.Log(2*math.Pi) + lvv[d] + e*e*math.Exp(-lvv[d]))
			f += 0.5 * (math.Log(2*math.Pi) - 0.4 + e*e*math.Exp(0.4))
		}
		require.InDelta(t, g, get("gauss")[r], 1e-12)
		require.InDelta(t, f, get("fixed")[r], 1e-12)
	}
	for _, k := range []nllKernel{{}, {gaussian: true, learned: true}, {gaussian: true, logVar: 0.3}} {
		tb := graph.NewBuilder(s, graph.Train)
		in := []*G.Node{tb.Param(o), tb.Input("x", tensor.Float64, B, D)}
		if k.learned {
			in = append(in, tb.Param(lv))
		}
		nll := tb.Check(graph.Apply(k, in...))
		w := tb.Input("w", tensor.Float64, S*B)
		loss := tb.Check(G.Sum(tb.Check(G.HadamardProd(nll, w))))
		tp, err := tb.Compile(loss)
		require.NoError(t, err, k.Key())
		require.NoError(t, tp.Set("x", graph.FromFloat64s(tensor.Float64, xv, B, D)))
		require.NoError(t, tp.Set("w", graph.FromFloat64s(tensor.Float64, uniformData(6, S*B), S*B)))
		require.NoError(t, graph.CheckGrad(tp, graph.CheckOptions{}), k.Key())
	}
}

// TestParameterNames checks the names and shapes of the default network against
// PyTorch's examples/vae state_dict, and the numbering rule for other depths.
func TestParameterNames(t *testing.T) {
	s := graph.NewStore(tensor.Float32, graph.NewRNG(1, "init"))
	_, err := New(s, DefaultConfig())
	require.NoError(t, err)
	want := map[string][]int{ // torch: {k: list(v.shape) for k, v in VAE().state_dict().items()}
		"fc1.weight": {400, 784}, "fc1.bias": {400},
		"fc21.weight": {20, 400}, "fc21.bias": {20},
		"fc22.weight": {20, 400}, "fc22.bias": {20},
		"fc3.weight": {400, 20}, "fc3.bias": {400},
		"fc4.weight": {784, 400}, "fc4.bias": {784},
	}
	require.Len(t, s.Params(), len(want))
	for _, p := range s.Params() {
		require.Equal(t, want[p.Name], []int(p.Shape()), p.Name)
	}
	require.Equal(t, 784*400+400+2*(400*20+20)+20*400+400+400*784+784, s.Count())
	enc, mu, lv, dec, out := LayerNames(2)
	require.Equal(t, []string{"fc1", "fc2"}, enc)
	require.Equal(t, []string{"fc31", "fc32"}, []string{mu, lv})
	require.Equal(t, []string{"fc4", "fc5"}, dec)
	require.Equal(t, "fc6", out)
	enc, mu, lv, dec, out = LayerNames(0)
	require.Empty(t, enc)
	require.Empty(t, dec)
	require.Equal(t, []string{"fc11", "fc12", "fc2"}, []string{mu, lv, out})
	s2 := graph.NewStore(tensor.Float32, graph.NewRNG(1, "init"))
	m, err := New(s2, Config{Input: 10, Hidden: []int{8, 6}, Latent: 2, Likelihood: Gaussian, LearnSigma: true, Sigma: 0.5})
	require.NoError(t, err)
	require.Equal(t, []int{6, 2}, []int(m.Decoder[0].Weight.Shape()), "the decoder mirrors the encoder")
	require.Equal(t, []int{8, 6}, []int(m.Decoder[1].Weight.Shape()))
	require.InDelta(t, 2*math.Log(0.5), graph.Float64s(m.DecLogVar.Value)[0], 1e-6)
}

func TestConfigErrors(t *testing.T) {
	s := graph.NewStore(tensor.Float32, graph.NewRNG(1, "init"))
	for _, cfg := range []Config{
		{Input: 0, Latent: 2},
		{Input: 4, Latent: 2, Likelihood: "poisson"},
		{Input: 4, Latent: 2, Activation: "swish"},
		{Input: 4, Latent: 2, Hidden: []int{3, 0}},
		{Input: 4, Latent: 2, LearnSigma: true},
		{Input: 4, Latent: 2, Beta: -1},
		{Input: 4, Latent: 2, Likelihood: Gaussian, Sigma: -1},
	} {
		_, err := New(s, cfg)
		require.Error(t, err, "%+v", cfg)
	}
}

func TestBetaWarmup(t *testing.T) {
	c := Config{Beta: 4, WarmupSteps: 100}
	require.Equal(t, 0.0, c.BetaAt(0))
	require.Equal(t, 1.0, c.BetaAt(25))
	require.Equal(t, 4.0, c.BetaAt(100))
	require.Equal(t, 4.0, c.BetaAt(1000))
	require.Equal(t, 0.5, Config{Beta: 0.5}.BetaAt(0))
}

// TestTrainingLowersLoss trains a small Bernoulli VAE in float32 with plain
// gradient steps on a fixed batch and checks that the negative ELBO falls.
func TestTrainingLowersLoss(t *testing.T) {
	const batch, input = 16, 10
	s := graph.NewStore(tensor.Float32, graph.NewRNG(1, "init"))
	m, err := New(s, Config{Input: input, Hidden: []int{8}, Latent: 2, Beta: 1})
	require.NoError(t, err)
	p, err := m.BuildELBO(s, graph.Train, batch, nil)
	require.NoError(t, err)
	data := make([]float32, batch*input) // two prototypes, binary
	for e := range batch {
		for d := range input {
			if (d < input/2) == (e%2 == 0) {
				data[e*input+d] = 1
			}
		}
	}
	idx := make([]int, batch)
	for i := range idx {
		idx[i] = i
	}
	require.NoError(t, FillRows(p.X(), data, input, idx))
	var first, last float64
	for step := range 300 {
		require.NoError(t, p.Feed(nil, 1))
		p.SetNoise(graph.NewRNG(uint64(step), "noise"))
		require.NoError(t, p.Run())
		loss, _, _ := p.Values()
		if step == 0 {
			first = loss
		}
		last = loss
		for _, prm := range s.Params() {
			w, g := graph.Slice[float32](prm.Value), graph.Slice[float32](prm.Grad)
			for i := range w {
				w[i] -= 0.05 * g[i]
			}
			prm.ZeroGrad()
		}
	}
	require.Less(t, last, first/2, "loss %g -> %g", first, last)
}
