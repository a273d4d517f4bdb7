package vae

import (
	"fmt"
	"math"
	"slices"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"

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
	var in int
	if m.Encoder, in, err = newLinears(s, encNames, cfg.Input, cfg.Hidden); err != nil {
		return nil, err
	}
	if m.Mu, err = graph.NewLinear(s, muName, in, cfg.Latent, true); err != nil {
		return nil, errors.Wrap(err, "vae")
	}
	if m.LogVar, err = graph.NewLinear(s, lvName, in, cfg.Latent, true); err != nil {
		return nil, errors.Wrap(err, "vae")
	}
	decoder := slices.Clone(cfg.Hidden)
	slices.Reverse(decoder)
	if m.Decoder, in, err = newLinears(s, decNames, cfg.Latent, decoder); err != nil {
		return nil, err
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

// newLinears creates the layers names, with biases, from in features through
// each of widths in turn, and returns them with their output width.
func newLinears(s *graph.Store, names []string, in int, widths []int) ([]*graph.Linear, int, error) {
	var layers []*graph.Linear
	for i, w := range widths {
		l, err := graph.NewLinear(s, names[i], in, w, true)
		if err != nil {
			return nil, 0, errors.Wrap(err, "vae")
		}
		layers = append(layers, l)
		in = w
	}
	return layers, in, nil
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
