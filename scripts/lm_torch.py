#!/usr/bin/env python3
"""The PyTorch counterpart of `triad lm`'s defaults, for comparing validation loss
at equal steps: tiny-shakespeare, first 90% train / last 10% validation, characters
(the vocabulary of the training split), embedding 128 -> 2-layer LSTM 128 ->
linear, batch 50 contiguous streams, window 50 with the state carried across
windows (truncated BPTT, reset each epoch), RMSProp lr 2e-3 alpha 0.95, every
gradient component clipped to [-5, 5], validation = mean loss per character over
the validation stream in windows of 50 on 50 streams.

  OPENBLAS_NUM_THREADS=2 /usr/bin/python3 scripts/lm_torch.py --data ../shared/data/tinyshakespeare/input.txt
Prints one JSON line per evaluation. --max-steps N stops after N steps with an
evaluation there (scripts/memory_report.sh runs 30).
"""
import argparse
import json
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def batchify(ids, b):
    n = len(ids) // b
    return torch.tensor(ids[: n * b]).view(b, n).t().contiguous()  # (steps, b)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--eval-every", type=int, default=250)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--forget-bias", type=float, default=1.0)
    ap.add_argument("--max-steps", type=int, default=0,
                    help="stop after N steps, evaluating then (a short run as `triad lm --max-steps N`; 0: --steps)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    text = open(a.data, encoding="utf-8").read()
    cut = int(len(text) * 0.9)
    chars = sorted(set(text[:cut]))
    idx = {c: i for i, c in enumerate(chars)}
    tr = batchify([idx[c] for c in text[:cut]], 50)
    va = batchify([idx.get(c, 0) for c in text[cut:]], 50)
    V, H, T = len(chars), 128, 50

    class LM(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(V, H)
            self.rnn = nn.LSTM(H, H, 2)
            self.head = nn.Linear(H, V)

        def forward(self, x, state):
            out, state = self.rnn(self.embed(x), state)
            return self.head(out), state

    m = LM()
    with torch.no_grad():
        for l in range(2):
            getattr(m.rnn, "bias_ih_l%d" % l)[H:2 * H].fill_(a.forget_bias)
    opt = torch.optim.RMSprop(m.parameters(), lr=2e-3, alpha=0.95)
    windows = (tr.shape[0] - 1) // T

    def evaluate():
        m.eval()
        state, total, n = None, 0.0, 0
        with torch.no_grad():
            for w in range((va.shape[0] - 1) // T):
                x, y = va[w * T:(w + 1) * T], va[w * T + 1:(w + 1) * T + 1]
                logits, state = m(x, state)
                total += F.cross_entropy(logits.reshape(-1, V), y.reshape(-1)).item()
                n += 1
        m.train()
        return total / n

    steps = min(a.steps, a.max_steps) if a.max_steps > 0 else a.steps
    state, t0 = None, time.time()
    for step in range(steps):
        pos = step % windows
        if pos == 0:
            state = None
        x, y = tr[pos * T:(pos + 1) * T], tr[pos * T + 1:(pos + 1) * T + 1]
        logits, state = m(x, state)
        state = tuple(s.detach() for s in state)
        loss = F.cross_entropy(logits.reshape(-1, V), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        for p in m.parameters():
            p.grad.clamp_(-5, 5)
        opt.step()
        if (step + 1) % a.eval_every == 0 or (a.max_steps > 0 and step + 1 == steps):
            print(json.dumps({"step": step + 1, "train_loss": loss.item(), "val_loss": evaluate(), "seconds": time.time() - t0}), flush=True)


if __name__ == "__main__":
    main()
