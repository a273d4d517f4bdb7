#!/usr/bin/env python3
"""Writes models/gpt/testdata/gpt2_{bias,nobias}_{state,parity}.safetensors: a
GPT-2 written out below in plain PyTorch, with Hugging Face's parameter names
and Conv1D layouts (weights stored (in, out)), in float64 on seeded weights, for
the parity tests of models/gpt.

  *_state.safetensors   the model's state_dict() as it is saved: the
                        "transformer." prefix, lm_head.weight (tied to wte) and
                        each attention's causal-mask buffers attn.bias and
                        attn.masked_bias
  *_parity.safetensors  input.idx and input.targets (B, T) int64 (one target -1,
                        ignored), logits (B, T, V), loss (the mean
                        cross-entropy) and grad.<name> of every parameter

Run with Debian's python3-torch: /usr/bin/python3 scripts/fixtures_gpt.py
"""
import math
import os
import sys

import torch
from torch import nn
from torch.nn import functional as F

sys.path.insert(0, os.path.dirname(__file__))
from safetensors_write import save  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "models", "gpt", "testdata")


class Conv1D(nn.Module):
    """y = x W + b with W (in, out)."""

    def __init__(self, n_in, n_out, bias):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(n_in, n_out))
        self.bias = nn.Parameter(torch.zeros(n_out)) if bias else None

    def forward(self, x):
        y = x @ self.weight
        return y + self.bias if self.bias is not None else y


class Norm(nn.Module):
    """Layer norm over the last axis with an optional bias."""

    def __init__(self, dim, bias):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.bias = nn.Parameter(torch.zeros(dim)) if bias else None

    def forward(self, x):
        return F.layer_norm(x, self.weight.shape, self.weight, self.bias, 1e-5)


def gelu_tanh(x):
    return 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))


class SelfAttention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        e, t = cfg["embed"], cfg["block"]
        self.heads = cfg["heads"]
        self.c_attn = Conv1D(e, 3 * e, cfg["bias"])
        self.c_proj = Conv1D(e, e, cfg["bias"])
        # the causal mask, kept as buffers the way GPT-2 checkpoints carry it
        self.register_buffer("bias", torch.tril(torch.ones(t, t)).view(1, 1, t, t))
        self.register_buffer("masked_bias", torch.tensor(-1e4))

    def forward(self, x):
        b, t, e = x.shape
        d = e // self.heads
        q, k, v = self.c_attn(x).split(e, dim=2)
        q, k, v = (z.view(b, t, self.heads, d).transpose(1, 2) for z in (q, k, v))
        scores = q @ k.transpose(-2, -1) / math.sqrt(d)
        scores = scores.masked_fill(self.bias[:, :, :t, :t] == 0, float("-inf"))
        y = torch.softmax(scores, dim=-1) @ v  # (b, heads, t, d)
        return self.c_proj(y.transpose(1, 2).reshape(b, t, e))


class MLP(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        e = cfg["embed"]
        self.c_fc = Conv1D(e, 4 * e, cfg["bias"])
        self.c_proj = Conv1D(4 * e, e, cfg["bias"])

    def forward(self, x):
        return self.c_proj(gelu_tanh(self.c_fc(x)))


class Block(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.ln_1 = Norm(cfg["embed"], cfg["bias"])
        self.attn = SelfAttention(cfg)
        self.ln_2 = Norm(cfg["embed"], cfg["bias"])
        self.mlp = MLP(cfg)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(cfg["vocab"], cfg["embed"]),
            wpe=nn.Embedding(cfg["block"], cfg["embed"]),
            h=nn.ModuleList([Block(cfg) for _ in range(cfg["layers"])]),
            ln_f=Norm(cfg["embed"], cfg["bias"]),
        ))
        self.lm_head = nn.Linear(cfg["embed"], cfg["vocab"], bias=False)
        self.lm_head.weight = self.transformer.wte.weight  # tied

    def forward(self, idx, targets):
        t = idx.shape[1]
        pos = torch.arange(t)
        x = self.transformer.wte(idx) + self.transformer.wpe(pos)
        for block in self.transformer.h:
            x = block(x)
        logits = self.lm_head(self.transformer.ln_f(x))
        loss = F.cross_entropy(logits.view(-1, logits.shape[-1]), targets.view(-1), ignore_index=-1)
        return logits, loss


def case(name, bias):
    torch.manual_seed(2019)
    cfg = dict(vocab=11, block=8, layers=2, heads=2, embed=8, bias=bias)
    m = GPT(cfg).double()
    with torch.no_grad():  # random values everywhere, biases and norms included
        for p in m.parameters():
            p.normal_(0, 0.3)
        for n, p in m.named_parameters():
            if n.endswith("ln_1.weight") or n.endswith("ln_2.weight") or n.endswith("ln_f.weight"):
                p.add_(1)
    B, T = 2, 5
    idx = torch.randint(0, cfg["vocab"], (B, T))
    targets = torch.randint(0, cfg["vocab"], (B, T))
    targets[1, 2] = -1
    logits, loss = m(idx, targets)
    loss.backward()
    save(os.path.join(OUT, name + "_state.safetensors"), dict(m.state_dict()))
    ts = {"input.idx": idx, "input.targets": targets, "logits": logits, "loss": loss.reshape(1)}
    for n, p in m.named_parameters():  # the tied lm_head.weight is listed once, as wte
        ts["grad." + n] = p.grad
    save(os.path.join(OUT, name + "_parity.safetensors"), ts, {k: str(v) for k, v in cfg.items()})


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    case("gpt2_bias", True)
    case("gpt2_nobias", False)
