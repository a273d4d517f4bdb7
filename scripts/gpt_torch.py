#!/usr/bin/env python3
"""The PyTorch counterpart of `triad gpt`'s defaults (nanoGPT's CPU "baby GPT"
protocol), for comparing validation loss seed by seed: tiny-shakespeare as
characters (the vocabulary of the whole text), first 90% train / last 10%
validation; a GPT of 4 layers x 4 heads x 128 without biases or dropout (the
model of scripts/bench_torch.py: tied output layer, tanh GELU), initialised
N(0, 0.02) with the residual projections N(0, 0.02/sqrt(2 layers)); batches of
12 random windows of 64; AdamW (betas 0.9, 0.99, eps 1e-8) with weight decay 0.1
on the matrices and embeddings only; the learning rate warmed up linearly over
100 steps (lr (step+1)/100) then cosine from 1e-3 to 1e-4 at step 2000; the
gradient norm clipped at 1.0. Every 250 steps (and at 0) the loss is the mean
over 20 random batches of each split, drawn from the evaluation's own generator;
at the end also the mean over every validation character, scored in
consecutive windows of 64 (as `triad gpt eval`).

  OPENBLAS_NUM_THREADS=2 /usr/bin/python3 scripts/gpt_torch.py --data ../shared/data/tinyshakespeare/input.txt --seed 1
Prints one JSON line per evaluation and a last one with the whole validation loss.
--max-steps N stops after N steps and evaluates there as at the end
(scripts/memory_report.sh runs 30).
"""
import argparse
import json
import math
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_torch import GPT  # noqa: E402


def rate(step, a):
    if step < a.warmup:
        return a.lr * (step + 1) / a.warmup
    if step >= a.steps:
        return a.min_lr
    progress = (step - a.warmup) / (a.steps - a.warmup)
    return a.min_lr + (a.lr - a.min_lr) * (1 + math.cos(math.pi * progress)) / 2


def windows(data, n, block, gen):
    at = torch.randint(len(data) - block, (n,), generator=gen)
    return torch.stack([data[i:i + block] for i in at]), torch.stack([data[i + 1:i + 1 + block] for i in at])


def loss_of(m, x, y):
    logits = m(x)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--eval-every", type=int, default=250)
    ap.add_argument("--eval-iters", type=int, default=20)
    ap.add_argument("--batch", type=int, default=12)
    ap.add_argument("--block", type=int, default=64)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--embed", type=int, default=128)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--min-lr", type=float, default=1e-4)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--max-steps", type=int, default=0,
                    help="stop after N steps (the schedule still that of --steps), evaluating then as at the end (0: --steps)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    text = open(a.data, encoding="utf-8").read()
    chars = sorted(set(text))
    index = {c: i for i, c in enumerate(chars)}
    data = torch.tensor([index[c] for c in text])
    cut = int(len(data) * 0.9)
    train, val = data[:cut], data[cut:]

    m = GPT(len(chars), a.block, a.layers, a.heads, a.embed, bias=False)
    for name, p in m.named_parameters():
        if p.dim() == 2:
            std = 0.02 / math.sqrt(2 * a.layers) if name.endswith(("attn_proj.weight", "mlp_proj.weight")) else 0.02
            nn.init.normal_(p, 0.0, std)
    decay = [p for p in m.parameters() if p.dim() >= 2]
    rest = [p for p in m.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": rest, "weight_decay": 0.0}],
                            lr=a.lr, betas=(0.9, 0.99), eps=1e-8)
    batches = torch.Generator().manual_seed(a.seed)
    evals = torch.Generator().manual_seed(a.seed + 1000)
    stop = min(a.steps, a.max_steps) if a.max_steps > 0 else a.steps
    t0 = time.time()
    for step in range(stop + 1):
        if step % a.eval_every == 0 or step == stop:
            m.eval()
            with torch.no_grad():
                out = {"step": step, "seconds": round(time.time() - t0, 1)}
                for split, d in (("train", train), ("val", val)):
                    out[split] = sum(loss_of(m, *windows(d, a.batch, a.block, evals)).item()
                                     for _ in range(a.eval_iters)) / a.eval_iters
            print(json.dumps(out), flush=True)
            m.train()
        if step == stop:
            break
        for g in opt.param_groups:
            g["lr"] = rate(step, a)
        loss = loss_of(m, *windows(train, a.batch, a.block, batches))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0)
        opt.step()
    # every validation character once: consecutive windows of block, the last one shorter
    m.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for i in range(0, len(val) - 1, a.block):
            x, y = val[i:min(i + a.block, len(val) - 1)], val[i + 1:min(i + a.block, len(val) - 1) + 1]
            total += F.cross_entropy(m(x[None])[0], y, reduction="sum").item()
            count += len(y)
    print(json.dumps({"step": stop, "val_full": total / count, "tokens": count,
                      "seconds": round(time.time() - t0, 1)}), flush=True)


if __name__ == "__main__":
    main()
