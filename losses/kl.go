package losses

import (
	"math"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
)

// KLStandardNormal is the Kullback-Leibler divergence of the diagonal Gaussian
// N(mu, exp(logvar)) from the standard normal N(0, I), per example: mu and logvar
// have shape (..., D) and the result (...), summed over the last (latent) axis,
//
//	KL = -1/2 sum_j (1 + logvar_j - mu_j^2 - exp(logvar_j))
//
// (Kingma and Welling 2014, appendix B). It equals
// torch.distributions.kl_divergence(Normal(mu, (0.5*logvar).exp()),
// Normal(0, 1)).sum(-1), and pytorch/examples' VAE term
// -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp()) kept per example.
// Gradients: dKL/dmu = mu, dKL/dlogvar = (exp(logvar) - 1) / 2.
func KLStandardNormal(mu, logvar *G.Node) (*G.Node, error) {
	if err := sameFloat("kl standard normal", []string{"mu", "logvar"}, mu, logvar); err != nil {
		return nil, err
	}
	out, err := graph.Apply(klKernel{two: false}, mu, logvar)
	return out, errors.Wrap(err, "kl standard normal")
}

// KLDiagGaussians is KL(N(mu1, exp(logvar1)) || N(mu2, exp(logvar2))) of two
// diagonal Gaussians, per example: the four inputs have one shape (..., D) and the
// result (...), summed over the last axis,
//
//	KL = 1/2 sum_j (logvar2_j - logvar1_j + (exp(logvar1_j) + (mu1_j - mu2_j)^2) / exp(logvar2_j) - 1).
//
// It equals torch.distributions.kl_divergence(Normal(mu1, (0.5*logvar1).exp()),
// Normal(mu2, (0.5*logvar2).exp())).sum(-1). All four inputs are differentiated
// (a learnt prior, as in a conditional VAE, gets gradients too).
func KLDiagGaussians(mu1, logvar1, mu2, logvar2 *G.Node) (*G.Node, error) {
	if err := sameFloat("kl diag gaussians", []string{"mu1", "logvar1", "mu2", "logvar2"}, mu1, logvar1, mu2, logvar2); err != nil {
		return nil, err
	}
	out, err := graph.Apply(klKernel{two: true}, mu1, logvar1, mu2, logvar2)
	return out, errors.Wrap(err, "kl diag gaussians")
}

// klKernel computes KLStandardNormal (inputs mu, logvar) or, with two,
// KLDiagGaussians (inputs mu1, logvar1, mu2, logvar2).
type klKernel struct{ two bool }

func (k klKernel) Key() string {
	if k.two {
		return "losses.kl_diag_gaussians"
	}
	return "losses.kl_standard_normal"
}

func (k klKernel) OutputShape(in []tensor.Shape) (tensor.Shape, error) {
	if err := graph.WantInputs(in, 2, k.two, k.two); err != nil { // mu2, logvar2
		return nil, err
	}
	if in[0].Dims() == 0 {
		return nil, errors.New("scalar input: want (..., D)")
	}
	for _, s := range in[1:] {
		if !s.Eq(in[0]) {
			return nil, errors.Errorf("input shapes differ: %v and %v", in[0], s)
		}
	}
	return dropLast(in[0]), nil
}

func (k klKernel) Differentiable(n int) []bool {
	d := make([]bool, n)
	for i := range d {
		d[i] = true
	}
	return d
}

// params returns mu1, logvar1, mu2, logvar2 (zeros for the standard normal).
func (k klKernel) params(in []*tensor.Dense) (mu1, lv1, mu2, lv2 []float64) {
	mu1, lv1 = values(in[0]), values(in[1])
	if k.two {
		return mu1, lv1, values(in[2]), values(in[3])
	}
	z := make([]float64, len(mu1))
	return mu1, lv1, z, z
}

func (k klKernel) ForwardInto(dst *tensor.Dense, in []*tensor.Dense) error {
	mu1, lv1, mu2, lv2 := k.params(in)
	s := in[0].Shape()
	d := s[s.Dims()-1]
	out := make([]float64, len(mu1)/max(d, 1))
	for i := range mu1 {
		dm := mu1[i] - mu2[i]
		out[i/d] += 0.5 * (lv2[i] - lv1[i] + math.Exp(lv1[i]-lv2[i]) + dm*dm*math.Exp(-lv2[i]) - 1)
	}
	if len(out) == 0 {
		out = []float64{0}
	}
	return graph.SetFloat64s(dst, out)
}

func (k klKernel) BackwardInto(dst *tensor.Dense, wrt int, in []*tensor.Dense, _, g *tensor.Dense) error {
	mu1, lv1, mu2, lv2 := k.params(in)
	gs := values(g)
	s := in[0].Shape()
	d := s[s.Dims()-1]
	grad := make([]float64, len(mu1))
	for i := range mu1 {
		dm, r, gi := mu1[i]-mu2[i], math.Exp(lv1[i]-lv2[i]), gs[i/d]
		switch wrt {
		case 0: // mu1
			grad[i] = gi * dm * math.Exp(-lv2[i])
		case 1: // logvar1
			grad[i] = gi * 0.5 * (r - 1)
		case 2: // mu2
			grad[i] = -gi * dm * math.Exp(-lv2[i])
		case 3: // logvar2
			grad[i] = gi * 0.5 * (1 - r - dm*dm*math.Exp(-lv2[i]))
		}
	}
	return graph.SetFloat64s(dst, grad)
}

// Overwrites implements graph.Overwriter: every element is written.
func (klKernel) Overwrites(int) bool { return true }
