// Package vae implements the variational autoencoder of Kingma and Welling
// (2014, "Auto-Encoding Variational Bayes") with fully connected encoder and
// decoder, the beta-VAE weighting of Higgins et al. (2017) with an optional
// linear KL warm-up (Bowman et al. 2016), and the importance-weighted bound of
// Burda et al. (2016) to estimate the log-likelihood of a trained model.
//
// # Model
//
// The encoder q(z|x) = N(mu(x), diag(exp(logvar(x)))) is an MLP with hidden
// layers h_1..h_L (sizes Config.Hidden, activation Config.Activation) followed
// by two linear heads, both computed by the encoder:
//
//	h_0 = x,   h_l = act(W_l h_{l-1} + b_l),   mu = W_mu h_L + b_mu,   logvar = W_lv h_L + b_lv
//
// A latent sample is drawn by the reparameterisation trick, with eps a standard
// normal input drawn from the program's seeded noise stream before every run:
//
//	z = mu + exp(logvar / 2) * eps,   eps ~ N(0, I)
//
// The decoder mirrors the encoder's hidden sizes and ends in a linear layer
// whose output o(z) has the size of x. Two likelihoods p(x|z) are offered:
//
//	Bernoulli:  o are logits;  -log p(x|z) = sum_d softplus(o_d) - x_d o_d
//	            (binary cross-entropy with logits, x_d in [0, 1], summed over pixels)
//	Gaussian:   o are means;   -log p(x|z) = 1/2 sum_d (log 2 pi + s_d + (x_d - o_d)^2 exp(-s_d))
//	            with s_d = log sigma^2 fixed, or a learnt per-pixel parameter "dec_logvar"
//
// The decoder produces only the mean (or the logits): the variances the model
// learns per example are the encoder's.
//
// # Objective
//
// Training minimises the batch mean of the beta-weighted negative evidence lower
// bound, one sample of eps per example:
//
//	-ELBO_beta(x) = -log p(x|z) + beta_t KL(q(z|x) || N(0, I))
//	KL = -1/2 sum_j (1 + logvar_j - mu_j^2 - exp(logvar_j))          (Kingma and Welling, appendix B)
//	beta_t = beta min(1, t / warmup_steps)   (beta_t = beta without warm-up)
//
// beta_t is a scalar input of the training program, fed at every step. With
// beta = 1 the objective is the plain negative ELBO, which evaluation programs
// always report (recon + kl).
//
// # Log-likelihood
//
// The importance-weighted bound with k samples (Burda et al. 2016, eq. 8)
//
//	log p(x) >= L_k = E[ log 1/k sum_i p(x, z_i) / q(z_i|x) ],   z_i ~ q(z|x)
//	log p(x, z) - log q(z|x) = log p(x|z) - 1/2 sum_j z_j^2 + 1/2 sum_j (eps_j^2 + logvar_j)
//
// is exact in the limit of k and equals the ELBO (up to the KL being sampled)
// for k = 1. ImportanceWeighted computes it with a forward-only program and a
// streaming log-mean-exp in float64.
//
// # Speed
//
// Hidden layers with the relu activation are one node each (x W^T + b and the
// relu, fused.go), and the Bernoulli likelihood keeps exp(-|o|) from its forward
// pass for its gradient sigmoid(o) - x, evaluating the exponential in float32
// arithmetic for float32 programs (graph.Exp32) and the softplus terms as
// max(o, 0) plus the logarithm of a product of up to 256 factors 1 + exp(-|o|)
// per block of pixels, one logarithm per block. Both are compared with the
// plain forms in float64 (fused_test.go, TestNLLMatchesLosses).
//
// # Parameters
//
// Layers are named as in PyTorch's examples/vae (fc1, fc21, fc22, fc3, fc4 for
// the default 784-400-20 network), so that a state_dict moves between the two.
// The rule, for L hidden layers, numbers the layers in order: encoder layers
// fc1..fcL, the two heads fc{L+1}1 (mu) and fc{L+1}2 (logvar), decoder layers
// fc{L+2}..fc{2L+1} and the output layer fc{2L+2}; each has .weight (out, in)
// and .bias (out), as torch.nn.Linear.
package vae
