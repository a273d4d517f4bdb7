#!/usr/bin/env python3
"""PyTorch counterparts of `triad bench`'s reference configurations: one training
step (forward, backward, Adam) on random data, float32, or for gpt2-small-generate
one cached greedy generation (prompt 16, 128 new tokens), for transformer-greedy
and transformer-beam5 the cached decoding of a batch of 32 sentences; median of --steps steps
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
import math
import os
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

from torch_common import peak_rss_mb


def train_step(m, loss_fn, opt=None):
    """The step of a training configuration: forward, backward and the solver
    (Adam with lr 1e-3 unless the configuration brings its own)."""
    opt = opt or torch.optim.Adam(m.parameters(), lr=1e-3)

    def step():
        opt.zero_grad(set_to_none=False)
        loss_fn().backward()
        opt.step()

    return step


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
    return train_step(m, lambda: m(x, y)), T * B, "tokens"


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
    return train_step(m, lambda: m(x)), 128, "images"


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
    return train_step(m, lambda: m(s, t, y)), B * L, "tokens"


class CachedTranslator(nn.Module):
    """The translation experiment's Transformer (post-LayerNorm nn.Transformer,
    sinusoidal positions, embeddings scaled by sqrt(d)) with a cached decoding
    loop as Hugging Face's generate runs one: each step feeds one position per
    row, appends its self-attention keys and values to per-layer caches and
    attends over the memory's keys and values, projected once; beam search
    reorders the caches with index_select."""

    def __init__(self, V=8000, d=256, heads=8, ff=512, layers=3, max_len=64):
        super().__init__()
        self.d, self.heads = d, heads
        self.src, self.tgt = nn.Embedding(V, d), nn.Embedding(V, d)
        self.tf = nn.Transformer(d_model=d, nhead=heads, num_encoder_layers=layers, num_decoder_layers=layers,
                                 dim_feedforward=ff, dropout=0.0, batch_first=True)
        self.head = nn.Linear(d, V)
        pos = torch.arange(max_len)[:, None]
        div = torch.exp(torch.arange(0, d, 2) * (-math.log(10000.0) / d))
        pe = torch.zeros(max_len, d)
        pe[:, 0::2], pe[:, 1::2] = torch.sin(pos * div), torch.cos(pos * div)
        self.register_buffer("pe", pe)

    def split(self, t):
        return t.view(t.shape[0], t.shape[1], self.heads, -1).transpose(1, 2)

    def attend(self, q, k, v, out_proj):
        y = F.softmax((q @ k.transpose(-2, -1)) / math.sqrt(q.shape[-1]), dim=-1) @ v
        return out_proj(y.transpose(1, 2).reshape(q.shape[0], -1, self.d))

    def encode(self, s, beam):
        """The memory's keys and values per decoder layer, each row repeated beam times."""
        mem = self.tf.encoder(self.src(s) * math.sqrt(self.d) + self.pe[:s.shape[1]])
        mem = mem.repeat_interleave(beam, 0)
        cross = []
        for l in self.tf.decoder.layers:
            w, b = l.multihead_attn.in_proj_weight, l.multihead_attn.in_proj_bias
            k, v = F.linear(mem, w[self.d:], b[self.d:]).chunk(2, -1)
            cross.append((self.split(k), self.split(v)))
        return cross

    def step(self, tok, pos, cache, cross):
        """The log-probabilities of the next token of every row after tok at pos."""
        x = self.tgt(tok[:, None]) * math.sqrt(self.d) + self.pe[pos]
        for i, l in enumerate(self.tf.decoder.layers):
            q, k, v = (self.split(t) for t in F.linear(x, l.self_attn.in_proj_weight, l.self_attn.in_proj_bias).chunk(3, -1))
            if i < len(cache):
                k, v = torch.cat((cache[i][0], k), 2), torch.cat((cache[i][1], v), 2)
                cache[i] = (k, v)
            else:
                cache.append((k, v))
            x = l.norm1(x + self.attend(q, k, v, l.self_attn.out_proj))
            w, b = l.multihead_attn.in_proj_weight, l.multihead_attn.in_proj_bias
            q = self.split(F.linear(x, w[:self.d], b[:self.d]))
            x = l.norm2(x + self.attend(q, cross[i][0], cross[i][1], l.multihead_attn.out_proj))
            x = l.norm3(x + l.linear2(F.relu(l.linear1(x))))
        return F.log_softmax(self.head(self.tf.decoder.norm(x))[:, -1], -1)


def transformer_decode(beam):
    """Decoding a batch of 32 sentences of 16 tokens for 20 steps (EOS forbidden,
    as triad's configuration does), greedy or beam search over all of them at once."""
    B, S, steps, V, bos, eos = 32, 16, 20, 8000, 1, 2
    m = CachedTranslator(V).eval()
    src = torch.randint(3, V, (B, S))

    @torch.inference_mode()
    def run():
        cross, cache = m.encode(src, beam), []
        tok = torch.full((B * beam,), bos)
        scores = torch.zeros(B, beam)
        scores[:, 1:] = float("-inf")  # the first step extends one hypothesis per sentence
        for t in range(steps):
            logp = m.step(tok, t, cache, cross)
            logp[:, eos] = float("-inf")
            if beam == 1:
                tok = logp.argmax(-1)
                continue
            cand = (scores[:, :, None] + logp.view(B, beam, V)).view(B, -1)
            scores, idx = cand.topk(beam, -1)
            rows = (torch.arange(B)[:, None] * beam + idx // V).view(-1)
            tok = (idx % V).view(-1)
            cache[:] = [(k.index_select(0, rows), v.index_select(0, rows)) for k, v in cache]

    return run, B, "sentences"


class LayerNorm(nn.Module):
    """Layer normalisation with an optional bias (torch 1.13's nn.LayerNorm always has one)."""

    def __init__(self, width, bias=True):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(width))
        self.bias = nn.Parameter(torch.zeros(width)) if bias else None

    def forward(self, x):
        return F.layer_norm(x, self.weight.shape, self.weight, self.bias, 1e-5)


class GPT(nn.Module):
    """A GPT-2-style decoder: learned positions, pre-LayerNorm blocks with a fused QKV
    projection and a 4x tanh-GELU MLP, the output layer tied to the token embedding.
    forward(x, cache) appends the new positions' keys and values to cache (a list of
    per-layer (k, v) pairs, as Hugging Face's past_key_values) when one is given."""

    def __init__(self, vocab, block, layers, heads, width, bias=True, dropout=0.0):
        super().__init__()
        self.heads, self.dropout = heads, dropout
        self.wte, self.wpe = nn.Embedding(vocab, width), nn.Embedding(block, width)
        self.blocks = nn.ModuleList()
        for _ in range(layers):
            b = nn.Module()
            b.ln_1, b.ln_2 = LayerNorm(width, bias), LayerNorm(width, bias)
            b.c_attn, b.attn_proj = nn.Linear(width, 3 * width, bias=bias), nn.Linear(width, width, bias=bias)
            b.c_fc, b.mlp_proj = nn.Linear(width, 4 * width, bias=bias), nn.Linear(4 * width, width, bias=bias)
            self.blocks.append(b)
        self.ln_f = LayerNorm(width, bias)
        self.register_buffer("causal", torch.tril(torch.ones(block, block, dtype=torch.bool)))

    def attend(self, b, x, cache, layer):
        B, T, E = x.shape
        q, k, v = b.c_attn(x).split(E, dim=2)
        q, k, v = (t.view(B, T, self.heads, E // self.heads).transpose(1, 2) for t in (q, k, v))
        past = 0
        if cache is not None:
            if layer < len(cache):
                past = cache[layer][0].shape[2]
                k, v = torch.cat((cache[layer][0], k), 2), torch.cat((cache[layer][1], v), 2)
                cache[layer] = (k, v)
            else:
                cache.append((k, v))
        scores = (q @ k.transpose(-2, -1)) / math.sqrt(k.shape[-1])
        scores = scores.masked_fill(~self.causal[past:past + T, :past + T], float("-inf"))
        y = self.drop(F.softmax(scores, dim=-1)) @ v
        return self.drop(b.attn_proj(y.transpose(1, 2).reshape(B, T, E)))

    def drop(self, x):
        return F.dropout(x, self.dropout, self.training) if self.dropout else x

    def forward(self, x, cache=None, past=0):
        pos = torch.arange(past, past + x.shape[1])
        h = self.drop(self.wte(x) + self.wpe(pos))
        for i, b in enumerate(self.blocks):
            h = h + self.attend(b, b.ln_1(h), cache, i)
            h = h + self.drop(b.mlp_proj(F.gelu(b.c_fc(b.ln_2(h)), approximate="tanh")))
        return self.ln_f(h) @ self.wte.weight.t()


def gpt_train(B, T, layers, heads, width, dropout):
    # a character-level GPT as nanoGPT's shakespeare_char runs train it: no biases, AdamW
    V = 65
    m = GPT(V, T, layers, heads, width, bias=False, dropout=dropout)
    x, y = torch.randint(V, (B, T)), torch.randint(V, (B, T))
    opt = torch.optim.AdamW(m.parameters(), lr=1e-3, betas=(0.9, 0.99), weight_decay=0.1)
    return train_step(m, lambda: F.cross_entropy(m(x).reshape(-1, V), y.reshape(-1)), opt), B * T, "tokens"


def gpt2_small_generate():
    prompt, new = 16, 128
    m = GPT(50257, 1024, 12, 12, 768).eval()
    ids = torch.randint(50257, (1, prompt))

    @torch.inference_mode()
    def generate():
        cache = []
        logits = m(ids, cache)
        past = prompt
        for _ in range(new):
            nxt = logits[:, -1].argmax(-1, keepdim=True)
            logits = m(nxt, cache, past)
            past += 1

    return generate, new, "tokens"


CONFIGS = {
    "charlstm-2x128": lambda: char_lm("lstm", 2, 128),
    "charlstm-2x512": lambda: char_lm("lstm", 2, 512),
    "chargru-2x128": lambda: char_lm("gru", 2, 128),
    "charrnn-1x128": lambda: char_lm("rnn", 1, 128),
    "vae": vae,
    "transformer": transformer,
    "transformer-greedy": lambda: transformer_decode(1),
    "transformer-beam5": lambda: transformer_decode(5),
    "gpt-baby": lambda: gpt_train(12, 64, 4, 4, 128, 0.0),  # nanoGPT's CPU "baby GPT"
    "gpt-6x384": lambda: gpt_train(16, 128, 6, 6, 384, 0.2),
    "gpt2-small-generate": gpt2_small_generate,
}


def measure(step, n, times, cpu):
    """Runs n steps, appending each one's wall and CPU seconds."""
    for _ in range(n):
        t0, c0 = time.perf_counter(), time.process_time()
        step()
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--only", default="")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--json", action="store_true", help="one JSON object per configuration")
    ap.add_argument("--rounds", action="store_true",
                    help="with --only and --json: after warm-up print {\"ready\": true}, then run the step count of each "
                         "line of standard input and print that round's times, and at its end the summary "
                         "(as `triad bench --rounds`)")
    ap.add_argument("--list", action="store_true", help="print the configuration names and exit")
    a = ap.parse_args()
    if a.list:
        print("\n".join(CONFIGS))
        return
    if a.rounds and not (a.only and a.json):
        ap.error("--rounds needs --only and --json")
    if a.only and a.only not in CONFIGS:
        ap.error("unknown configuration %r (%s)" % (a.only, ", ".join(CONFIGS)))
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    for name, make in CONFIGS.items():
        if a.only and name != a.only:
            continue
        step, items, what = make()
        for _ in range(a.warmup):
            step()
        times, cpu = [], []
        if a.rounds:
            print(json.dumps({"ready": True}), flush=True)
            for r, line in enumerate(sys.stdin):
                n = int(line)
                if n < 1:
                    raise SystemExit("round %d: want a positive step count, got %r" % (r, line))
                first = len(times)
                measure(step, n, times, cpu)
                print(json.dumps({"round": r, "times_s": times[first:], "cpu_s": cpu[first:]}), flush=True)
            if not times:
                raise SystemExit("no rounds were asked for")
        else:
            measure(step, a.steps, times, cpu)
        med = statistics.median(times)
        rss = peak_rss_mb(None)
        if a.json:
            print(json.dumps({
                "name": name, "threads": a.threads, "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS", ""),
                "steps": len(times), "median_s": med, "min_s": min(times), "max_s": max(times),
                "cpu_median_s": statistics.median(cpu),
                "items_per_s": items / med, "items": what, "peak_rss_mb": rss,
                "torch": torch.__version__, "times_s": times}), flush=True)
            continue
        print("%-15s median %.4f s/step (min %.4f, max %.4f, %d steps, CPU %.4f s)  %.0f %s/s  peak RSS %.0f MB (process)  torch threads %d  torch %s"
              % (name, med, min(times), max(times), a.steps, statistics.median(cpu), items / med, what, rss, a.threads, torch.__version__), flush=True)


if __name__ == "__main__":
    main()
