package losses

import (
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// ELBOTerms is the negative evidence lower bound of a batch and its two parts, all
// scalar nodes: Loss = Recon + beta KL.
type ELBOTerms struct {
	// Loss is the quantity to minimise: the batch mean of recon + beta kl.
	Loss *G.Node
	// Recon is the batch mean of the reconstruction negative log-likelihood.
	Recon *G.Node
	// KL is the batch mean of the KL divergence of the posterior from the prior.
	KL *G.Node
}

// ELBO returns the negative evidence lower bound of a VAE (Kingma and Welling
// 2014), weighted by beta as in beta-VAE (Higgins et al. 2017):
//
//	Loss = 1/B sum_b (recon_b + beta kl_b)
//
// from per-example (B) nodes: recon the reconstruction negative log-likelihood
// (e.g. BCEWithLogits with PerExample reduction for Bernoulli pixels) and kl the
// divergence (e.g. KLStandardNormal). pytorch/examples' VAE minimises
// sum_b (recon_b + kl_b); divide its number by B to compare. beta = 1 is the
// plain ELBO.
func ELBO(recon, kl *G.Node, beta float64) (ELBOTerms, error) {
	if recon == nil {
		return ELBOTerms{}, errors.New("elbo: nil recon")
	}
	var b *G.Node
	switch recon.Dtype() {
	case tensor.Float32:
		b = G.NewConstant(float32(beta), G.WithName("elbo.beta"))
	default:
		b = G.NewConstant(beta, G.WithName("elbo.beta"))
	}
	return ELBOBeta(recon, kl, b)
}

// ELBOBeta is ELBO with beta given as a scalar node of the inputs' dtype, for a
// beta schedule (KL annealing): declare beta as a scalar input and feed the
// schedule's value before each step.
func ELBOBeta(recon, kl, beta *G.Node) (ELBOTerms, error) {
	if err := sameFloat("elbo", []string{"recon", "kl", "beta"}, recon, kl, beta); err != nil {
		return ELBOTerms{}, err
	}
	if !beta.Shape().IsScalar() {
		return ELBOTerms{}, errors.Errorf("elbo: beta shape %v, want a scalar", beta.Shape())
	}
	if recon.Dims() != 1 || !kl.Shape().Eq(recon.Shape()) {
		return ELBOTerms{}, errors.Errorf("elbo: recon %v and kl %v, want per-example (B) vectors", recon.Shape(), kl.Shape())
	}
	var t ELBOTerms
	var err error
	if t.Recon, err = Reduce(recon, nil, Mean); err != nil {
		return ELBOTerms{}, errors.Wrap(err, "elbo: recon")
	}
	if t.KL, err = Reduce(kl, nil, Mean); err != nil {
		return ELBOTerms{}, errors.Wrap(err, "elbo: kl")
	}
	weighted, err := G.Mul(beta, t.KL)
	if err != nil {
		return ELBOTerms{}, errors.Wrap(err, "elbo: beta * kl")
	}
	if t.Loss, err = G.Add(t.Recon, weighted); err != nil {
		return ELBOTerms{}, errors.Wrap(err, "elbo: recon + beta * kl")
	}
	return t, nil
}
