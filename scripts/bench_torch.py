#!/usr/bin/env python3
"""PyTorch counterparts of `triad bench`'s reference configurations: one training
step (forward, backward, Adam) on random data, float32; median of --steps steps
after --warmup steps, printed in the same format as triad's lines, or with --json
as one JSON object per configuration (the fields of `triad bench --json` that
apply). Peak RSS is the process's: run one configuration per process (--only)
to get each configuration's own.

Run with Debian's python3-torch, pinning the threads as triad does, e.g.
  OPENBLAS_NUM_THREADS=1 /usr/bin/python3 scripts/bench_torch.py --threads 1
  OPENBLAS_NUM_THREADS=2 /usr/bin/python3 scripts/bench_torch.py --threads 1   # PyTorch's best on 2 cores here
scripts/bench_report.sh runs both tools and writes docs/BENCHMARKS.md.
"""
import argparse
import json
import os
import resource
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class CharLM(nn.Module):
    def __init__(self, cell, layers, hidden, vocab=65):
        super().__init__()
        self.embed = nn.Embedding(vocab, hidden)
        self.rnn = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}[cell](hidden, hidden, layers)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, x, y):
        out, _ = self.rnn(self.embed(x))
        return F.cross_entropy(self.head(out).reshape(-1, self.head.out_features), y.reshape(-1))


def char_lm(cell, layers, hidden):
    T, B, V = 50, 50, 65
    m = CharLM(cell, layers, hidden, V)
    x, y = torch.randint(V, (T, B)), torch.randint(V, (T, B))
    return m, (lambda: m(x, y)), T * B, "tokens"


class VAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc21, self.fc22 = nn.Linear(784, 400), nn.Linear(400, 20), nn.Linear(400, 20)
        self.fc3, self.fc4 = nn.Linear(20, 400), nn.Linear(400, 784)

    def forward(self, x):
        h = F.relu(self.fc1(x))
        mu, logvar = self.fc21(h), self.fc22(h)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        logits = self.fc4(F.relu(self.fc3(z)))
        bce = F.binary_cross_entropy_with_logits(logits, x, reduction="sum")
        kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
        return (bce + kld) / x.shape[0]


def vae():
    m = VAE()
    x = torch.rand(128, 784)
    return m, (lambda: m(x)), 128, "images"


class Seq2Seq(nn.Module):
    def __init__(self, V=8000, d=256):
        super().__init__()
        self.src, self.tgt = nn.Embedding(V, d), nn.Embedding(V, d)
        self.tf = nn.Transformer(d_model=d, nhead=4, num_encoder_layers=3, num_decoder_layers=3,
                                 dim_feedforward=1024, dropout=0.1, batch_first=True)
        self.head = nn.Linear(d, V)

    def forward(self, s, t, y):
        mask = self.tf.generate_square_subsequent_mask(t.shape[1])
        out = self.tf(self.src(s), self.tgt(t), tgt_mask=mask)
        return F.cross_entropy(self.head(out).reshape(-1, 8000), y.reshape(-1))


def transformer():
    B, L, V = 64, 32, 8000
    m = Seq2Seq(V)
    s, t, y = torch.randint(V, (B, L)), torch.randint(V, (B, L)), torch.randint(V, (B, L))
    return m, (lambda: m(s, t, y)), B * L, "tokens"


CONFIGS = {
    "charlstm-2x128": lambda: char_lm("lstm", 2, 128),
    "charlstm-2x512": lambda: char_lm("lstm", 2, 512),
    "chargru-2x128": lambda: char_lm("gru", 2, 128),
    "charrnn-1x128": lambda: char_lm("rnn", 1, 128),
    "vae": vae,
    "transformer": transformer,
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--only", default="")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--json", action="store_true", help="one JSON object per configuration")
    ap.add_argument("--list", action="store_true", help="print the configuration names and exit")
    a = ap.parse_args()
    if a.list:
        print("\n".join(CONFIGS))
        return
    if a.only and a.only not in CONFIGS:
        ap.error("unknown configuration %r (%s)" % (a.only, ", ".join(CONFIGS)))
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    for name, make in CONFIGS.items():
        if a.only and name != a.only:
            continue
        m, loss_fn, items, what = make()
        opt = torch.optim.Adam(m.parameters(), lr=1e-3)

        def step():
            opt.zero_grad(set_to_none=False)
            loss_fn().backward()
            opt.step()

        for _ in range(a.warmup):
            step()
        times, cpu = [], []
        for _ in range(a.steps):
            t0, c0 = time.perf_counter(), time.process_time()
            step()
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
        med = statistics.median(times)
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        if a.json:
            print(json.dumps({
                "name": name, "threads": a.threads, "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS", ""),
                "steps": a.steps, "median_s": med, "min_s": min(times), "max_s": max(times),
                "cpu_median_s": statistics.median(cpu),
                "items_per_s": items / med, "items": what, "peak_rss_mb": rss,
                "torch": torch.__version__, "times_s": times}), flush=True)
            continue
        print("%-15s median %.4f s/step (min %.4f, max %.4f, %d steps, CPU %.4f s)  %.0f %s/s  peak RSS %.0f MB (process)  torch threads %d  torch %s"
              % (name, med, min(times), max(times), a.steps, statistics.median(cpu), items / med, what, rss, a.threads, torch.__version__), flush=True)


if __name__ == "__main__":
    main()
