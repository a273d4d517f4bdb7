#!/usr/bin/env python3
"""Writes losses/testdata/losses.json: reference values and gradients of PyTorch's
loss functions for the tests of package losses.

Run from the repository root with a Python that has PyTorch 1.13 (Debian 12's
python3-torch: /usr/bin/python3 scripts/fixtures_losses.py).

Inputs are drawn once from a seeded generator in float64 and stored in the file,
so the Go tests need no random generator of PyTorch's. Every case records its
inputs, the loss for each reduction and, for one reduction, the gradients PyTorch's
autograd computes for the differentiable inputs. Weighted means are written out as
sum(w * loss) / sum(w) over the kept elements, which is what package losses means
by Mean with weights.
"""

import json
import os

import torch
import torch.nn.functional as F
from torch.distributions import Normal, kl_divergence

SEED = 20240611


def flat(t):
    return [float(x) for x in t.detach().reshape(-1).tolist()]


def tensor(t):
    return {"shape": list(t.shape), "data": flat(t)}


def ints(t):
    return {"shape": list(t.shape), "data": [int(x) for x in t.reshape(-1).tolist()]}


def cross_entropy(g):
    n, c = 6, 5
    logits = (2 * torch.randn(n, c, generator=g, dtype=torch.float64))
    logits[2, 1] = 60.0  # a large logit: the row stays finite
    targets = torch.tensor([1, -100, 4, 0, 2, 3])
    weights = torch.rand(n, generator=g, dtype=torch.float64)
    cases = []
    for eps in (0.0, 0.1):
        x = logits.clone().requires_grad_(True)
        none = F.cross_entropy(x, targets, reduction="none", label_smoothing=eps)
        mean = F.cross_entropy(x, targets, reduction="mean", label_smoothing=eps)
        (grad,) = torch.autograd.grad(mean, x)
        keep = (targets != -100).double()
        wmean = (weights * keep * none).sum() / (weights * keep).sum()
        cases.append({
            "label_smoothing": eps,
            "none": flat(none),
            "sum": float(F.cross_entropy(x, targets, reduction="sum", label_smoothing=eps)),
            "mean": float(mean),
            "weighted_mean": float(wmean),
            "weighted_sum": float((weights * none).sum()),
            "per_sequence": flat((weights * none).reshape(2, 3).sum(1)),
            "grad_mean": flat(grad),
        })
    return {"logits": tensor(logits), "targets": ints(targets), "weights": tensor(weights), "cases": cases}


def sequence_cross_entropy(g):
    b, t, v, pad = 2, 4, 5, 0
    logits = torch.randn(b, t, v, generator=g, dtype=torch.float64).requires_grad_(True)
    targets = torch.tensor([[3, 1, 4, 0], [2, 0, 0, 0]])
    mask = (targets != pad).double()
    # PyTorch's way: flatten to (B*T, V) and ignore the padding id
    loss = F.cross_entropy(logits.reshape(-1, v), targets.reshape(-1), ignore_index=pad)
    (grad,) = torch.autograd.grad(loss, logits)
    per_token = F.cross_entropy(logits.reshape(-1, v), targets.reshape(-1), reduction="none").reshape(b, t)
    return {
        "logits": tensor(logits), "targets": ints(targets), "mask": tensor(mask),
        "mean": float(loss), "grad_mean": flat(grad),
        "per_sequence": flat((per_token * mask).sum(1)),
    }


def bce_with_logits(g):
    n, c = 4, 3
    logits = 3 * torch.randn(n, c, generator=g, dtype=torch.float64)
    logits[0, 0], logits[1, 1], logits[2, 2], logits[3, 0] = 40.0, -40.0, 200.0, -200.0
    targets = torch.rand(n, c, generator=g, dtype=torch.float64)
    targets[0, 1], targets[1, 2], targets[2, 2], targets[3, 0] = 0.0, 1.0, 1.0, 0.0
    pos_weight = torch.tensor([0.5, 1.0, 3.0], dtype=torch.float64)
    weights = torch.rand(n, c, generator=g, dtype=torch.float64)
    cases = []
    for pw in (None, pos_weight):
        x = logits.clone().requires_grad_(True)
        y = targets.clone().requires_grad_(True)
        none = F.binary_cross_entropy_with_logits(x, y, reduction="none", pos_weight=pw)
        mean = F.binary_cross_entropy_with_logits(x, y, reduction="mean", pos_weight=pw)
        gx, gy = torch.autograd.grad(mean, (x, y))
        cases.append({
            "pos_weight": None if pw is None else flat(pw),
            "none": flat(none),
            "sum": float(F.binary_cross_entropy_with_logits(x, y, reduction="sum", pos_weight=pw)),
            "mean": float(mean),
            "weighted_mean": float((weights * none).sum() / weights.sum()),
            "per_example": flat(none.sum(1)),
            "grad_mean_logits": flat(gx),
            "grad_mean_targets": flat(gy),
        })
    return {"logits": tensor(logits), "targets": tensor(targets), "weights": tensor(weights), "cases": cases}


def mse(g):
    a = torch.randn(3, 4, generator=g, dtype=torch.float64).requires_grad_(True)
    b = torch.randn(3, 4, generator=g, dtype=torch.float64).requires_grad_(True)
    mean = F.mse_loss(a, b, reduction="mean")
    ga, gb = torch.autograd.grad(mean, (a, b))
    return {
        "input": tensor(a), "target": tensor(b),
        "none": flat(F.mse_loss(a, b, reduction="none")),
        "sum": float(F.mse_loss(a, b, reduction="sum")),
        "mean": float(mean),
        "grad_mean_input": flat(ga), "grad_mean_target": flat(gb),
    }


def kl(g):
    b, d = 4, 3
    mu1 = torch.randn(b, d, generator=g, dtype=torch.float64)
    lv1 = torch.randn(b, d, generator=g, dtype=torch.float64)
    mu2 = torch.randn(b, d, generator=g, dtype=torch.float64)
    lv2 = torch.randn(b, d, generator=g, dtype=torch.float64)
    # the closed form of the VAE paper (Kingma and Welling 2014, appendix B), as in
    # pytorch/examples' vae/main.py, kept per example
    std = -0.5 * torch.sum(1 + lv1 - mu1.pow(2) - lv1.exp(), dim=1)
    std_dist = kl_divergence(Normal(mu1, (0.5 * lv1).exp()), Normal(torch.zeros_like(mu1), torch.ones_like(mu1))).sum(1)
    two = kl_divergence(Normal(mu1, (0.5 * lv1).exp()), Normal(mu2, (0.5 * lv2).exp())).sum(1)
    return {
        "mu1": tensor(mu1), "logvar1": tensor(lv1), "mu2": tensor(mu2), "logvar2": tensor(lv2),
        "kl_standard": flat(std), "kl_standard_distributions": flat(std_dist), "kl_two": flat(two),
    }


def main():
    g = torch.Generator().manual_seed(SEED)
    out = {
        "source": "PyTorch " + torch.__version__ + ", scripts/fixtures_losses.py",
        "cross_entropy": cross_entropy(g),
        "sequence_cross_entropy": sequence_cross_entropy(g),
        "bce_with_logits": bce_with_logits(g),
        "mse": mse(g),
        "kl": kl(g),
    }
    path = os.path.join("losses", "testdata", "losses.json")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print("wrote", path)


if __name__ == "__main__":
    main()
