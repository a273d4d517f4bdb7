package vae

import (
	"fmt"
	"math"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/losses"
)

// Likelihood names the decoder's distribution p(x|z).
type Likelihood string

const (
	// Bernoulli: the decoder outputs logits; x in [0, 1] is the target of a
	// binary cross-entropy summed over pixels.
	Bernoulli Likelihood = "bernoulli"
	// Gaussian: the decoder outputs means; the variance is fixed or a learnt
	// per-pixel parameter.
	Gaussian Likelihood = "gaussian"
)

// Config describes a VAE.
type Config struct {
	// Input is the size of x (784 for MNIST).
	Input int
	// Hidden are the encoder's hidden layer sizes, first to last; the decoder
	// mirrors them (last to first). Empty: linear encoder and decoder.
	Hidden []int
	// Latent is the size of z.
	Latent int
	// Activation of the hidden layers, a graph.ActivationByName name ("" is relu).
	Activation string
	// Likelihood is Bernoulli ("" is Bernoulli) or Gaussian.
	Likelihood Likelihood
	// Sigma is the Gaussian decoder's standard deviation: fixed, or the initial
	// value of the learnt one (0 means 1).
	Sigma float64
	// LearnSigma makes the Gaussian decoder's per-pixel log-variance a parameter,
	// "dec_logvar" (Input).
	LearnSigma bool
	// Beta weights the KL term (1: the ELBO; beta-VAE for other values).
	Beta float64
	// WarmupSteps ramps the KL weight linearly from 0 to Beta over this many
	// steps (0: no warm-up).
	WarmupSteps int
}

// DefaultConfig returns the network of PyTorch's examples/vae: 784-400-20, ReLU,
// Bernoulli decoder, beta 1, no warm-up.
func DefaultConfig() Config {
	return Config{Input: 784, Hidden: []int{400}, Latent: 20, Activation: "relu", Likelihood: Bernoulli, Sigma: 1, Beta: 1}
}

// BetaAt returns the KL weight of training step t (counted from 0):
// Beta min(1, t/WarmupSteps), or Beta without warm-up.
func (c Config) BetaAt(step int) float64 {
	if c.WarmupSteps <= 0 {
		return c.Beta
	}
	return c.Beta * math.Min(1, float64(step)/float64(c.WarmupSteps))
}

// logVar returns log sigma^2 of the Gaussian decoder.
func (c Config) logVar() float64 {
	s := c.Sigma
	if s == 0 {
		s = 1
	}
	return 2 * math.Log(s)
}

// VAE holds the parameters of a variational autoencoder; its methods build them
// into graphs.
type VAE struct {
	Config Config
	// Encoder are the encoder's hidden layers, Mu and LogVar its two heads.
	Encoder    []*graph.Linear
	Mu, LogVar *graph.Linear
	// Decoder are the decoder's hidden layers, Out its output layer (logits or
	// means).
	Decoder []*graph.Linear
	Out     *graph.Linear
	// DecLogVar is the learnt per-pixel log-variance of a Gaussian decoder (nil
	// otherwise).
	DecLogVar *graph.Param

	act graph.Activation
}

// LayerNames returns the parameter prefixes of a VAE with the given number of
// hidden layers, numbered as in PyTorch's examples/vae: for one hidden layer
// encoder fc1, heads fc21 (mu) and fc22 (logvar), decoder fc3, output fc4.
func LayerNames(hidden int) (encoder []string, mu, logvar string, decoder []string, out string) {
	for l := 1; l <= hidden; l++ {
		encoder = append(encoder, fmt.Sprintf("fc%d", l))
	}
	mu, logvar = fmt.Sprintf("fc%d1", hidden+1), fmt.Sprintf("fc%d2", hidden+1)
	for l := hidden + 2; l <= 2*hidden+1; l++ {
		decoder = append(decoder, fmt.Sprintf("fc%d", l))
	}
	return encoder, mu, logvar, decoder, fmt.Sprintf("fc%d", 2*hidden+2)
}

// New creates the parameters of a VAE in s (initialised as torch.nn.Linear) and
// returns the model. The config's defaults are filled in: relu, Bernoulli.
func New(s *graph.Store, cfg Config) (*VAE, error) {
	if cfg.Activation == "" {
		cfg.Activation = "relu"
	}
	if cfg.Likelihood == "" {
		cfg.Likelihood = Bernoulli
	}
	if cfg.Sigma == 0 {
		cfg.Sigma = 1
	}
	switch {
	case cfg.Input <= 0 || cfg.Latent <= 0:
		return nil, errors.Errorf("vae: input size %d and latent size %d must be positive", cfg.Input, cfg.Latent)
	case cfg.Likelihood != Bernoulli && cfg.Likelihood != Gaussian:
		return nil, errors.Errorf("vae: unknown likelihood %q (bernoulli, gaussian)", cfg.Likelihood)
	case cfg.Sigma < 0 || math.IsInf(cfg.Sigma, 0) || math.IsNaN(cfg.Sigma):
		return nil, errors.Errorf("vae: sigma %g must be positive", cfg.Sigma)
	case cfg.Beta < 0 || math.IsNaN(cfg.Beta):
		return nil, errors.Errorf("vae: beta %g must be non-negative", cfg.Beta)
	case cfg.WarmupSteps < 0:
		return nil, errors.Errorf("vae: warm-up steps %d must be non-negative", cfg.WarmupSteps)
	case cfg.LearnSigma && cfg.Likelihood != Gaussian:
		return nil, errors.New("vae: a learnt sigma needs the gaussian likelihood")
	}
	for _, h := range cfg.Hidden {
		if h <= 0 {
			return nil, errors.Errorf("vae: hidden sizes %v must be positive", cfg.Hidden)
		}
	}
	act, err := graph.ActivationByName(cfg.Activation)
	if err != nil {
		return nil, errors.Wrap(err, "vae")
	}
	cfg.Hidden = append([]int(nil), cfg.Hidden...)
	m := &VAE{Config: cfg, act: act}
	encNames, muName, lvName, decNames, outName := LayerNames(len(cfg.Hidden))
	in := cfg.Input
	for i, h := range cfg.Hidden {
		l, err := graph.NewLinear(s, encNames[i], in, h, true)
		if err != nil {
			return nil, errors.Wrap(err, "vae")
		}
		m.Encoder = append(m.Encoder, l)
		in = h
	}
	if m.Mu, err = graph.NewLinear(s, muName, in, cfg.Latent, true); err != nil {
		return nil, errors.Wrap(err, "vae")
	}
	if m.LogVar, err = graph.NewLinear(s, lvName, in, cfg.Latent, true); err != nil {
		return nil, errors.Wrap(err, "vae")
	}
	in = cfg.Latent
	for i := range cfg.Hidden {
		h := cfg.Hidden[len(cfg.Hidden)-1-i]
		l, err := graph.NewLinear(s, decNames[i], in, h, true)
		if err != nil {
			return nil, errors.Wrap(err, "vae")
		}
		m.Decoder = append(m.Decoder, l)
		in = h
	}
	if m.Out, err = graph.NewLinear(s, outName, in, cfg.Input, true); err != nil {
		return nil, errors.Wrap(err, "vae")
	}
	if cfg.LearnSigma {
		if m.DecLogVar, err = s.New("dec_logvar", []int{cfg.Input}, graph.Constant(cfg.logVar())); err != nil {
			return nil, errors.Wrap(err, "vae")
		}
	}
	return m, nil
}

// Encode builds the encoder over x (B, Input) and returns mu and logvar (B,
// Latent). x is data: it is not differentiated.
func (m *VAE) Encode(b *graph.Builder, x *G.Node) (mu, logvar *G.Node) {
	if len(m.Encoder) == 0 {
		return DataLinear(m.Mu, b, x), DataLinear(m.LogVar, b, x)
	}
	h := m.hiddenLayer(b, m.Encoder[0], x, true)
	for _, l := range m.Encoder[1:] {
		h = m.hiddenLayer(b, l, h, false)
	}
	return m.Mu.Forward(b, h), m.LogVar.Forward(b, h)
}

// Decode builds the decoder over z (R, Latent) and returns its output (R, Input):
// logits for the Bernoulli likelihood, means for the Gaussian.
func (m *VAE) Decode(b *graph.Builder, z *G.Node) *G.Node {
	h := z
	for _, l := range m.Decoder {
		h = m.hiddenLayer(b, l, h, false)
	}
	return m.Out.Forward(b, h)
}

func (m *VAE) activate(b *graph.Builder, x *G.Node) *G.Node {
	if x == nil {
		return nil
	}
	return b.Check(m.act(x))
}

// Mean returns the mean of p(x|z) from the decoder's output: sigmoid(logits)
// for the Bernoulli likelihood, the output itself for the Gaussian.
func (m *VAE) Mean(b *graph.Builder, out *G.Node) *G.Node {
	if out == nil || m.Config.Likelihood == Gaussian {
		return out
	}
	return b.Check(G.Sigmoid(out))
}

// NLL builds -log p(x|z) per row of the decoder's output out (S*B, Input) for
// the data x (B, Input) (row r of out against row r % B of x): a vector (S*B).
func (m *VAE) NLL(b *graph.Builder, out, x *G.Node) *G.Node {
	if out == nil || x == nil {
		return nil
	}
	k := nllKernel{gaussian: m.Config.Likelihood == Gaussian, st: &nllState{}}
	in := []*G.Node{out, x}
	switch {
	case m.DecLogVar != nil:
		k.learned = true
		in = append(in, b.Param(m.DecLogVar))
	case k.gaussian:
		k.logVar = m.Config.logVar()
	}
	return b.Check(graph.Apply(k, in...))
}

// Terms are the nodes of a batch's objective, all scalars: Loss = Recon +
// beta KL, each the mean over the batch of the per-example quantity.
type Terms = losses.ELBOTerms

// ELBO builds the beta-weighted negative ELBO of a batch x (B, Input) with the
// standard normal noise eps (B, Latent) and the scalar KL weight beta, and
// returns its terms. It also returns mu and logvar.
func (m *VAE) ELBO(b *graph.Builder, x, eps, beta *G.Node) (t Terms, mu, logvar *G.Node) {
	mu, logvar = m.Encode(b, x)
	if b.Err() != nil {
		return Terms{}, nil, nil
	}
	z := b.Check(Reparameterize(mu, logvar, eps))
	nll := m.NLL(b, m.Decode(b, z), x)
	kl := b.Check(losses.KLStandardNormal(mu, logvar))
	if b.Err() != nil {
		return Terms{}, nil, nil
	}
	t, err := losses.ELBOBeta(nll, kl, beta)
	if err != nil {
		b.Fail(errors.Wrap(err, "vae"))
		return Terms{}, nil, nil
	}
	return t, mu, logvar
}

// ELBOProgram is a compiled ELBO graph for a fixed batch: input "x" (Batch,
// Input), scalar input "beta", random input "eps" (Batch, Latent); outputs "loss"
// (recon + beta kl), "recon" and "kl", batch means. A training program adds the
// gradients of "loss" into the parameters.
type ELBOProgram struct {
	*graph.Program
	Batch int
	x     *tensor.Dense
	beta  *tensor.Dense
}

// BuildELBO compiles the ELBO for a batch of the given size. noise draws eps
// before every run (nil: graph.StandardNormal, from the program's noise stream,
// which SetNoise sets); a training program (mode graph.Train) differentiates the
// loss.
func (m *VAE) BuildELBO(s *graph.Store, mode graph.Mode, batch int, noise graph.Sampler) (*ELBOProgram, error) {
	if batch <= 0 {
		return nil, errors.Errorf("vae: batch size %d", batch)
	}
	if noise == nil {
		noise = graph.StandardNormal
	}
	b := graph.NewBuilder(s, mode)
	x := b.Input("x", s.Dtype(), batch, m.Config.Input)
	beta := b.Input("beta", s.Dtype())
	eps := b.Random("eps", noise, batch, m.Config.Latent)
	t, _, _ := m.ELBO(b, x, eps, beta)
	b.Output("loss", t.Loss)
	b.Output("recon", t.Recon)
	b.Output("kl", t.KL)
	var loss *G.Node
	if mode == graph.Train {
		loss = t.Loss
	}
	p, err := b.Compile(loss)
	if err != nil {
		return nil, errors.Wrap(err, "vae: compiling the ELBO")
	}
	return &ELBOProgram{Program: p, Batch: batch, x: graph.NewDense(s.Dtype(), batch, m.Config.Input), beta: graph.NewDense(s.Dtype())}, nil
}

// X returns the program's own input buffer (Batch, Input), which Feed sends;
// fill it in place to avoid a copy.
func (p *ELBOProgram) X() *tensor.Dense { return p.x }

// Feed sets the input to the program's buffer X (or, when x is not nil, to x)
// and the KL weight to beta.
func (p *ELBOProgram) Feed(x *tensor.Dense, beta float64) error {
	if x == nil {
		x = p.x
	}
	if err := p.Set("x", x); err != nil {
		return err
	}
	setScalar(p.beta, beta)
	return p.Set("beta", p.beta)
}

// Values returns the loss, reconstruction and KL terms of the last run.
func (p *ELBOProgram) Values() (loss, recon, kl float64) {
	get := func(name string) float64 {
		t, err := p.Output(name)
		if err != nil {
			return math.NaN()
		}
		return graph.Scalar(t)
	}
	return get("loss"), get("recon"), get("kl")
}

// setScalar sets the value of a 0-d float tensor.
func setScalar(t *tensor.Dense, v float64) {
	if t.Dtype() == tensor.Float32 {
		graph.Slice[float32](t)[0] = float32(v)
	} else {
		graph.Slice[float64](t)[0] = v
	}
}

// FillRows copies rows idx of the row-major float32 matrix data (rows of width
// cols) into dst (len(idx), cols) of dtype float32 or float64.
func FillRows(dst *tensor.Dense, data []float32, cols int, idx []int) error {
	if dst.Shape().TotalSize() != len(idx)*cols {
		return errors.Errorf("vae: %d rows of %d into a tensor of shape %v", len(idx), cols, dst.Shape())
	}
	for _, i := range idx {
		if i < 0 || (i+1)*cols > len(data) {
			return errors.Errorf("vae: row %d outside the %d rows of the data", i, len(data)/cols)
		}
	}
	switch dst.Dtype() {
	case tensor.Float32:
		d := graph.Slice[float32](dst)
		for r, i := range idx {
			copy(d[r*cols:(r+1)*cols], data[i*cols:(i+1)*cols])
		}
	case tensor.Float64:
		d := graph.Slice[float64](dst)
		for r, i := range idx {
			for j, v := range data[i*cols : (i+1)*cols] {
				d[r*cols+j] = float64(v)
			}
		}
	default:
		return errors.Errorf("vae: unsupported dtype %v", dst.Dtype())
	}
	return nil
}

// Reconstructor is a compiled forward-only graph mapping a batch x (input "x",
// (Batch, Input)) to the decoder's mean at z = mu ("mean"), with "mu" and
// "logvar".
type Reconstructor struct {
	*graph.Program
	Batch int
}

// BuildReconstruct compiles the reconstruction graph for the given batch size.
func (m *VAE) BuildReconstruct(s *graph.Store, batch int) (*Reconstructor, error) {
	b := graph.NewBuilder(s, graph.Eval)
	x := b.Input("x", s.Dtype(), batch, m.Config.Input)
	mu, logvar := m.Encode(b, x)
	b.Output("mu", mu)
	b.Output("logvar", logvar)
	b.Output("mean", m.Mean(b, m.Decode(b, mu)))
	p, err := b.Compile(nil)
	if err != nil {
		return nil, errors.Wrap(err, "vae: compiling the reconstruction")
	}
	return &Reconstructor{Program: p, Batch: batch}, nil
}

// Generator is a compiled forward-only decoder: input "z" (Batch, Latent),
// output "mean" (Batch, Input), the mean of p(x|z).
type Generator struct {
	*graph.Program
	Batch  int
	latent int
	z      *tensor.Dense
}

// BuildDecode compiles the decoder for the given batch of latent points.
func (m *VAE) BuildDecode(s *graph.Store, batch int) (*Generator, error) {
	b := graph.NewBuilder(s, graph.Eval)
	z := b.Input("z", s.Dtype(), batch, m.Config.Latent)
	b.Output("mean", m.Mean(b, m.Decode(b, z)))
	p, err := b.Compile(nil)
	if err != nil {
		return nil, errors.Wrap(err, "vae: compiling the decoder")
	}
	return &Generator{Program: p, Batch: batch, latent: m.Config.Latent, z: graph.NewDense(s.Dtype(), batch, m.Config.Latent)}, nil
}

// Generate returns the decoder's means (Batch*Input values) at the latent
// points z (Batch*Latent values, row-major).
func (g *Generator) Generate(z []float64) ([]float64, error) {
	if len(z) != g.Batch*g.latent {
		return nil, errors.Errorf("vae: %d latent values for a decoder of %d x %d", len(z), g.Batch, g.latent)
	}
	g.z = graph.FromFloat64s(g.z.Dtype(), z, g.Batch, g.latent)
	if err := g.Set("z", g.z); err != nil {
		return nil, err
	}
	if err := g.Run(); err != nil {
		return nil, err
	}
	out, err := g.Output("mean")
	if err != nil {
		return nil, err
	}
	return graph.Float64s(out), nil
}
