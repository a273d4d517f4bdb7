#!/usr/bin/env python3
"""Writes models/vae/testdata/parity_{bernoulli,gaussian}.safetensors: the model
of PyTorch's examples/vae (fc1, fc21, fc22, fc3, fc4; ReLU; sigmoid output;
binary cross-entropy summed over pixels plus the analytic KL) at small sizes in
float64, with seeded weights, inputs in [0, 1] and fixed noise eps, and the
values and parameter gradients of the per-example negative ELBO
(recon + beta * kl, averaged over the batch) for triad's parity test. A second
case replaces the Bernoulli decoder by a Gaussian one with a learnt per-pixel
log-variance (torch.nn.functional.gaussian_nll_loss, full=True) and beta = 0.5.

The files are written with scripts/safetensors_write.py (the safetensors module
is not needed).

Run with Debian's python3-torch: /usr/bin/python3 scripts/fixtures_vae.py
"""
import math
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
from safetensors_write import save  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "models", "vae", "testdata")
D, H, L, B = 12, 7, 3, 5


class VAE(torch.nn.Module):
    """The network of pytorch/examples vae/main.py with sizes as arguments."""

    def __init__(self, gaussian):
        super().__init__()
        self.fc1 = torch.nn.Linear(D, H)
        self.fc21 = torch.nn.Linear(H, L)
        self.fc22 = torch.nn.Linear(H, L)
        self.fc3 = torch.nn.Linear(L, H)
        self.fc4 = torch.nn.Linear(H, D)
        self.gaussian = gaussian
        if gaussian:
            self.dec_logvar = torch.nn.Parameter(0.3 * torch.randn(D))

    def forward(self, x, eps):
        h1 = F.relu(self.fc1(x))
        mu, logvar = self.fc21(h1), self.fc22(h1)
        z = mu + eps * torch.exp(0.5 * logvar)
        out = self.fc4(F.relu(self.fc3(z)))
        return out, mu, logvar


def case(name, gaussian, beta, seed):
    torch.manual_seed(seed)
    m = VAE(gaussian).double()
    x = torch.rand(B, D, dtype=torch.float64)
    eps = torch.randn(B, L, dtype=torch.float64)
    out, mu, logvar = m(x, eps)
    if gaussian:
        var = torch.exp(m.dec_logvar).expand(B, D)
        recon = F.gaussian_nll_loss(out, x, var, full=True, reduction="sum")
    else:
        # examples/vae: binary cross-entropy of the sigmoid output, summed
        recon = F.binary_cross_entropy(torch.sigmoid(out), x, reduction="sum")
    kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    loss = (recon + beta * kl) / B
    loss.backward()
    tensors = {k: v for k, v in m.state_dict().items()}
    for k, p in m.named_parameters():
        tensors["grad." + k] = p.grad
    tensors["x"] = x
    tensors["eps"] = eps
    tensors["beta"] = torch.tensor(beta, dtype=torch.float64)
    tensors["loss"] = loss
    tensors["recon"] = recon / B
    tensors["kl"] = kl / B
    meta = {"torch": torch.__version__, "likelihood": "gaussian" if gaussian else "bernoulli"}
    save(os.path.join(OUT, "parity_%s.safetensors" % name), tensors, meta)
    print(name, "loss", loss.item(), "recon", recon.item() / B, "kl", kl.item() / B)


os.makedirs(OUT, exist_ok=True)
case("bernoulli", False, 1.0, 1234)
case("gaussian", True, 0.5, 4321)
print("torch", torch.__version__, "log(2 pi)", math.log(2 * math.pi))
