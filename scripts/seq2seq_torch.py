#!/usr/bin/python3
"""The PyTorch counterparts of triad's sequence-to-sequence runs, for comparing
peak memory (and sanity-checking losses) on the same models and data:

  --model transformer  `triad translate --model transformer --batch 128 --dropout 0.1
                       --lr 5e-4 --warmup 400`: Multi30k de->en, word vocabularies
                       of each language's training side (triad's word tokenizer,
                       minimum count 2, specials <pad> <unk> <s> </s> first), pairs
                       longer than 50 tokens left out; nn.Transformer post-LN
                       3+3 layers, d_model 256, 8 heads, ff 512, ReLU, a final
                       norm per stack; embeddings N(0, 1/256) scaled by sqrt(256)
                       plus sinusoidal positions, dropout 0.1; a separate output
                       layer; label smoothing 0.1; Adam (0.9, 0.999, eps 1e-8)
                       at 5e-4, linear warm-up lr*(step+1)/400 then constant;
                       gradient norm clipped at 1.
  --model gru-attn     `triad translate --model gru-attn --hidden 128`: the same
                       data; embeddings 256, a bidirectional GRU of 128 per
                       direction (packed, so that padding is skipped), decoder
                       state s_0 = tanh(W_b [h_fwd; h_bwd] + b), Bahdanau order
                       (additive attention v^T tanh(W_q s_{i-1} + W_k m + b_k)
                       from the previous state, then s_i = GRU([e(y); c_i],
                       s_{i-1})), output W_g dropout(tanh(W_p [s_i; c_i; e(y)] + b_p))
                       + b_g; dropout 0.2 on embeddings and before the output
                       layer; batch 64, Adam 1e-3 with a 200-step warm-up,
                       label smoothing 0.1, clipping at 1.
  --model pointer      `triad summarize`: the Gigaword sample (lowercased, digits
                       as '#', split on white space; articles cut to 60 words,
                       headlines to 24; one vocabulary of the training articles
                       and headlines, minimum count 2, at most 10,000); the
                       pointer-generator of See et al. (2017) without coverage:
                       embeddings 128, bidirectional GRU 128, decoder 256 that
                       updates its state before attending (s_t = GRU([x_t;
                       c_{t-1}], s_{t-1})), attention 128, p_gen =
                       sigmoid(w^T [s_t; c_t; x_t] + b), copy distribution over
                       the source's extended ids; dropout 0.4; batch 64, Adam
                       1e-3, clipping at 2, the rate x0.7 per epoch from epoch 5.

Batches as triad makes them: pairs grouped into triad's length buckets (translate:
batch.SpreadBuckets over 6 buckets, joint; summarize: batch.PairBuckets), each
batch padded to its bucket's (source, target+1) shape, the batches of an epoch
shuffled (Python's generator, so not triad's order). triad splits a large
translation batch into parts of at most 2048 padded tokens (--max-tokens) and
combines their gradients; this script runs each batch whole, as a PyTorch user
would (the gradient is the same).

Evaluations as triad's defaults: at the end of every epoch and at the last step
the validation loss (teacher-forced, no label smoothing; translate in batches of
128 sorted by length and padded to a multiple of 8, summarize in its buckets of
64) and greedy decoding of the validation sources (translate: batches of 128
sorted by length, at most min(51, 1.5 x source length + 10) tokens; summarize:
chunks of 100, 24 tokens, no <unk>, no word twice); the best weights (greedy
BLEU or ROUGE) are kept in a temporary checkpoint, and the final evaluation
reloads them and adds beam search over the whole validation set (translate:
beam 5, length penalty 0.6, batches of 25 sources; summarize: beam 8, length
penalty 5, chunks of 100 sources, the same constraints), with triad's stopping
rules (Wu et al. 2016 length penalty; a beam stops when it has `beam` finished
hypotheses or none live can beat the best finished one). Decoding runs the
encoder once and carries the recurrent state; the Transformer decodes with a
key/value cache (each decoder layer's self-attention keys and values appended
step by step, the cross-attention keys and values of the memory computed once),
rows reordered with index_select for beam search.

BLEU here is a plain corpus BLEU-4 (no smoothing) over triad's word tokens,
lowercased, and ROUGE-1/2/L F1 are over white-space words, lowercased: cheap
sanity checks, not sacreBLEU's or triad's exact scorers (triad also replaces an
output <unk> by the source word it attends to most, which this script does not).

  /usr/bin/python3 scripts/seq2seq_torch.py --model transformer --max-steps 30
  /usr/bin/python3 scripts/seq2seq_torch.py --model pointer --epochs 1 --threads 1
--threads N sets torch.set_num_threads and, unless set already,
OPENBLAS_NUM_THREADS, OMP_NUM_THREADS and MKL_NUM_THREADS (torch_common.py;
Debian's torch calls OpenBLAS, which starts a thread per core otherwise). The
parameter count is checked against triad's for the same settings. Prints progress to stderr, one JSON line per evaluation and a final
JSON line with the model, parameters, steps, seconds, peak_rss_mb
(ru_maxrss / 1024) and the final figures. scripts/memory_report.sh runs it
with --max-steps 30 beside the triad runs.
"""
import argparse
import gzip
import json
import math
import os
import random
import tempfile
import time
import warnings

from torch_common import find_data, log, peak_rss_mb, pin_threads, seed_torch, word_tokens

pin_threads()  # before torch loads its BLAS (Debian's: OpenBLAS, which otherwise starts a thread a core)

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

PAD, UNK, BOS, EOS = 0, 1, 2, 3
warnings.filterwarnings("ignore", message="The PyTorch API of nested tensors")
SPECIALS = ["<pad>", "<unk>", "<s>", "</s>"]
# triad's parameter counts of the same settings (its run logs, results/translate
# and results/summarize): a different count means a different model.
TRIAD_PARAMS = {"transformer": 9227141, "gru-attn": 6554501, "pointer": 6117521}


# ---------------------------------------------------------------- text

def build_vocab(counts, min_freq, max_size=0):
    kept = sorted(((t, c) for t, c in counts.items() if c >= max(min_freq, 1) and t not in SPECIALS),
                  key=lambda tc: (-tc[1], tc[0]))
    if max_size:
        kept = kept[:max_size - len(SPECIALS)]
    itos = SPECIALS + [t for t, _ in kept]
    return {t: i for i, t in enumerate(itos)}, itos


def read_lines(path):
    op = gzip.open if path.endswith(".gz") else open
    with op(path, "rt", encoding="utf-8", newline="\n") as f:
        return [l.rstrip("\n").rstrip("\r") for l in f]


def has_splits(d):
    """Whether folder d holds a dataset's train.* or valid.* files."""
    return os.path.isdir(d) and any(f.startswith(("train.", "valid.")) for f in os.listdir(d))


# ---------------------------------------------------------------- buckets

def spread_buckets(src, tgt, n):
    """batch.SpreadBuckets: bounds at the quantiles up to the 90th, the 98th and
    the longest, rounded up to even, each at least 2 beyond the previous."""
    ss, ts = sorted(src), sorted(tgt)

    def q(s, x):
        v = s[int(math.ceil(x * (len(s) - 1)))]
        return (v + 1) // 2 * 2
    qs = [1.0] if n == 1 else [0.9, 1.0] if n == 2 else [0.9 * k / (n - 2) for k in range(1, n - 1)] + [0.98, 1.0]
    bs, bt = [], []
    for x in qs:
        s, t = q(ss, x), q(ts, x)
        if bs:
            if s <= bs[-1] and t <= bt[-1]:
                continue
            s, t = max(s, bs[-1] + 2), max(t, bt[-1] + 2)
        bs.append(s)
        bt.append(t)
    bs[-1], bt[-1] = max(bs[-1], ss[-1]), max(bt[-1], ts[-1])
    return list(zip(bs, bt))


def pair_buckets(src, tgt):
    """batch.PairBuckets: the 50th, 80th and 95th percentiles (sources rounded up
    to a multiple of 4, targets at least 2) below the longest, then the longest."""
    ss, ts = sorted(src), sorted(tgt)

    def q(s, x, step):
        v = s[int(x * (len(s) - 1))]
        return (v + step - 1) // step * step
    longest = (ss[-1], ts[-1])
    out = []
    for x in (0.5, 0.8, 0.95):
        s = (q(ss, x, 4), max(q(ts, x, 1), 2))
        if s[0] >= longest[0] or s[1] >= longest[1]:
            break
        if not out or (s[0] > out[-1][0] and s[1] > out[-1][1]):
            out.append(s)
    return out + [longest]


def bucketize(src, tgt, shapes):
    """Joint buckets: an example goes to the first shape that holds both sides."""
    members = {s: [] for s in shapes}
    for i, (a, b) in enumerate(zip(src, tgt)):
        k = max(next(j for j, s in enumerate(shapes) if a <= s[0]), next(j for j, s in enumerate(shapes) if b <= s[1]))
        members[shapes[k]].append(i)
    return {s: m for s, m in members.items() if m}


def epoch_batches(members, batch, rng):
    out = []
    for shape, m in members.items():
        idx = list(m)
        rng.shuffle(idx)
        out += [(shape, idx[i:i + batch]) for i in range(0, len(idx), batch)]
    rng.shuffle(out)
    return out


def pad(rows, length, value=PAD):
    return torch.tensor([r + [value] * (length - len(r)) for r in rows], dtype=torch.long)


# ---------------------------------------------------------------- models

def sinusoid(n, d):
    pos = torch.arange(n, dtype=torch.float32)[:, None]
    div = torch.exp(torch.arange(0, d, 2, dtype=torch.float32) * (-math.log(10000.0) / d))
    pe = torch.zeros(n, d)
    pe[:, 0::2], pe[:, 1::2] = torch.sin(pos * div), torch.cos(pos * div)
    return pe


class TransformerMT(nn.Module):
    def __init__(self, sv, tv, d=256, heads=8, ff=512, layers=3, dropout=0.1, max_len=51):
        super().__init__()
        self.d, self.heads = d, heads
        self.src_embed, self.tgt_embed = nn.Embedding(sv, d), nn.Embedding(tv, d)
        self.transformer = nn.Transformer(d, heads, layers, layers, ff, dropout, batch_first=True)
        # no nested tensors: in evaluation they would cut the memory to the longest source
        self.transformer.encoder.enable_nested_tensor = False
        for e in (self.src_embed, self.tgt_embed):
            nn.init.normal_(e.weight, 0.0, d ** -0.5)
        self.generator = nn.Linear(d, tv)
        self.drop = nn.Dropout(dropout)
        self.register_buffer("pe", sinusoid(max_len + 64, d), persistent=False)

    def embed(self, table, ids, at=0):
        return self.drop(table(ids) * math.sqrt(self.d) + self.pe[at:at + ids.shape[1]])

    def encode(self, src):
        return self.transformer.encoder(self.embed(self.src_embed, src), src_key_padding_mask=src.eq(PAD))

    def forward(self, src, tgt_in):
        mem = self.encode(src)
        t = tgt_in.shape[1]
        causal = torch.triu(torch.full((t, t), float("-inf")), 1)
        h = self.transformer.decoder(self.embed(self.tgt_embed, tgt_in), mem, tgt_mask=causal,
                                     tgt_key_padding_mask=tgt_in.eq(PAD), memory_key_padding_mask=src.eq(PAD))
        return self.generator(h)

    # cached decoding: state = (memory mask, per-layer cross K/V, per-layer self K/V, step)
    def _split(self, x):
        b, t, _ = x.shape
        return x.view(b, t, self.heads, self.d // self.heads).transpose(1, 2)

    def _attend(self, q, k, v, mask, attn):
        w = q @ k.transpose(-1, -2) / math.sqrt(self.d // self.heads)
        if mask is not None:
            w = w.masked_fill(mask[:, None, None, :], float("-inf"))
        o = (w.softmax(-1) @ v).transpose(1, 2).reshape(q.shape[0], -1, self.d)
        return attn.out_proj(o)

    def start(self, srcs):
        src = pad(srcs, max(len(s) for s in srcs))
        mem = self.encode(src)
        cross = []
        for layer in self.transformer.decoder.layers:
            a = layer.multihead_attn
            _, wk, wv = a.in_proj_weight.chunk(3)
            _, bk, bv = a.in_proj_bias.chunk(3)
            cross.append((self._split(F.linear(mem, wk, bk)), self._split(F.linear(mem, wv, bv))))
        return {"mask": src.eq(PAD), "cross": cross, "self": [None] * len(cross), "t": 0}

    def step(self, st, prev):
        x = self.embed(self.tgt_embed, prev[:, None], st["t"])
        new_self = []
        for i, layer in enumerate(self.transformer.decoder.layers):
            sa = layer.self_attn
            q, k, v = [self._split(y) for y in F.linear(x, sa.in_proj_weight, sa.in_proj_bias).chunk(3, -1)]
            if st["self"][i] is not None:
                k, v = torch.cat((st["self"][i][0], k), 2), torch.cat((st["self"][i][1], v), 2)
            new_self.append((k, v))
            x = layer.norm1(x + self._attend(q, k, v, None, sa))
            ca = layer.multihead_attn
            wq, bq = ca.in_proj_weight.chunk(3)[0], ca.in_proj_bias.chunk(3)[0]
            x = layer.norm2(x + self._attend(self._split(F.linear(x, wq, bq)), *st["cross"][i], st["mask"], ca))
            x = layer.norm3(x + layer.linear2(F.relu(layer.linear1(x))))
        x = self.transformer.decoder.norm(x)
        logp = self.generator(x[:, 0]).log_softmax(-1)
        return logp, {"mask": st["mask"], "cross": st["cross"], "self": new_self, "t": st["t"] + 1}

    def select(self, st, rows):
        sel = lambda kv: (kv[0].index_select(0, rows), kv[1].index_select(0, rows))  # noqa: E731
        return {"mask": st["mask"].index_select(0, rows), "cross": [sel(c) for c in st["cross"]],
                "self": [sel(c) for c in st["self"]], "t": st["t"]}


class AttnSeq2Seq(nn.Module):
    """triad's models/seq2seq (copy=False, Bahdanau order) and models/pointer
    (copy=True, state first): bidirectional GRU encoder, additive attention,
    GRU decoder, tanh pre-output layer, and for the pointer-generator p_gen."""

    def __init__(self, sv, tv, embed, hidden, attn_dim, dropout, copy=False, state_first=False):
        super().__init__()
        hd = 2 * hidden
        attn_dim = attn_dim or hd
        self.vocab, self.copy, self.state_first = tv, copy, state_first
        self.src_embed, self.tgt_embed = nn.Embedding(sv, embed), nn.Embedding(tv, embed)
        self.encoder = nn.GRU(embed, hidden, batch_first=True, bidirectional=True)
        self.bridge = nn.Linear(hd, hd)
        self.attn_query = nn.Linear(hd, attn_dim, bias=False)
        self.attn_key = nn.Linear(hd, attn_dim)
        self.attn_v = nn.Linear(attn_dim, 1, bias=False)
        self.decoder = nn.GRUCell(embed + hd, hd)
        self.pre_out = nn.Linear(2 * hd + embed, hd)
        self.generator = nn.Linear(hd, tv)
        self.p_gen = nn.Linear(2 * hd + embed, 1) if copy else None
        self.drop = nn.Dropout(dropout)

    def _in(self, ids):  # extended ids (copyable words) are read as <unk>
        return ids.masked_fill(ids >= self.vocab, UNK) if self.copy else ids

    def encode(self, src):
        lens = src.ne(PAD).sum(1)
        x = self.drop(self.src_embed(self._in(src)))
        packed = nn.utils.rnn.pack_padded_sequence(x, lens, batch_first=True, enforce_sorted=False)
        out, h = self.encoder(packed)
        mem, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=src.shape[1])
        h0 = torch.tanh(self.bridge(torch.cat((h[0], h[1]), -1)))
        return {"memory": mem, "keys": self.attn_key(mem), "mask": src.eq(PAD), "h": h0,
                "ctx": mem.new_zeros(mem.shape[0], mem.shape[2]), "src": src}

    def attend(self, s, keys, mem, mask):
        e = self.attn_v(torch.tanh(keys + self.attn_query(s)[:, None])).squeeze(-1)
        a = e.masked_fill(mask, float("-inf")).softmax(-1)
        return torch.bmm(a[:, None], mem).squeeze(1), a

    def cell(self, st, prev):
        e = self.drop(self.tgt_embed(self._in(prev)))
        if self.state_first:
            h = self.decoder(torch.cat((e, st["ctx"]), -1), st["h"])
            ctx, a = self.attend(h, st["keys"], st["memory"], st["mask"])
        else:
            ctx, a = self.attend(st["h"], st["keys"], st["memory"], st["mask"])
            h = self.decoder(torch.cat((e, ctx), -1), st["h"])
        return torch.cat((h, ctx, e), -1), a, dict(st, h=h, ctx=ctx)

    def head(self, feat):
        return self.generator(self.drop(torch.tanh(self.pre_out(feat))))

    def forward(self, src, tgt_in):
        st = self.encode(src)
        feats, attns = [], []
        for t in range(tgt_in.shape[1]):
            f, a, st = self.cell(st, tgt_in[:, t])
            feats.append(f)
            attns.append(a)
        feat = torch.stack(feats, 1)
        return self.head(feat), (torch.sigmoid(self.p_gen(feat)).squeeze(-1), torch.stack(attns, 1)) if self.copy else None

    def nll(self, src, tgt_in, tgt_out, smoothing=0.0):
        """Summed -log P of the target tokens and their number."""
        logits, extra = self(src, tgt_in)
        keep = tgt_out.ne(PAD)
        if not self.copy:
            loss = F.cross_entropy(logits.transpose(1, 2), tgt_out, ignore_index=PAD, label_smoothing=smoothing, reduction="sum")
            return loss, keep.sum()
        pgen, attn = extra
        inv = tgt_out < self.vocab
        pv = logits.softmax(-1).gather(-1, tgt_out.clamp(max=self.vocab - 1)[..., None]).squeeze(-1) * inv
        pc = (attn * src[:, None, :].eq(tgt_out[..., None])).sum(-1)
        p = pgen * pv + (1 - pgen) * pc
        return -(torch.log(p.clamp_min(1e-12)) * keep).sum(), keep.sum()

    def start(self, srcs):
        return self.encode(pad(srcs, max(len(s) for s in srcs)))

    def step(self, st, prev):
        f, a, st = self.cell(st, prev)
        logits = self.head(f)
        if not self.copy:
            return logits.log_softmax(-1), st
        pg = torch.sigmoid(self.p_gen(f))
        src = st["src"]
        ext = max(self.vocab, int(src.max()) + 1)
        p = F.pad(pg * logits.softmax(-1), (0, ext - self.vocab))
        p = p.scatter_add(1, src, (1 - pg) * a)
        return torch.log(p.clamp_min(1e-30)), st

    def select(self, st, rows):
        return {k: v.index_select(0, rows) for k, v in st.items()}


# ---------------------------------------------------------------- decoding

def constrain(logp, out, forbid, ngram):
    if forbid is None and not ngram:
        return logp
    logp = logp.clone()
    if forbid is not None:
        logp[forbid] = float("-inf")
    if ngram:
        k = ngram - 1
        if len(out) >= k:
            tail = out[len(out) - k:] if k else []
            ban = [out[i + k] for i in range(len(out) - k) if out[i:i + k] == tail]
            ban = [b for b in ban if b != EOS]
            if ban:
                logp[ban] = float("-inf")
    return logp


def greedy(model, srcs, limits, forbid=None, ngram=0):
    """One batch: the argmax token each step, every row to its own limit."""
    st = model.start(srcs)
    n = len(srcs)
    prev = torch.full((n,), BOS, dtype=torch.long)
    out, done = [[] for _ in srcs], [False] * n
    for t in range(max(limits)):
        if all(done):
            break
        logp, st = model.step(st, prev)
        nxt = []
        for r in range(n):
            if done[r]:
                nxt.append(EOS)
                continue
            tok = int(constrain(logp[r], out[r], forbid, ngram).argmax())
            if tok == EOS or t + 1 >= limits[r]:
                done[r] = True
                if tok != EOS:
                    out[r].append(tok)
            else:
                out[r].append(tok)
            nxt.append(tok)
        prev = torch.tensor(nxt)
    return out


class Beam:
    def __init__(self, size, alpha, limit):
        self.size, self.alpha, self.limit = size, alpha, limit
        self.live = [([], 0.0)]
        self.finished = []
        self.stopped = False

    def lp(self, n):
        return ((5 + n) / 6) ** self.alpha

    def advance(self, t, logp, forbid, ngram):
        rows = torch.stack([constrain(logp[i], toks, forbid, ngram) for i, (toks, _) in enumerate(self.live)])
        total = rows + torch.tensor([lp for _, lp in self.live])[:, None]
        v, ix = total.view(-1).topk(min(2 * self.size, total.numel()))
        keep, parents = [], []
        for rank, (score, j) in enumerate(zip(v.tolist(), ix.tolist())):
            if len(keep) == self.size or score == float("-inf"):
                break
            parent, tok = divmod(j, rows.shape[1])
            toks = self.live[parent][0]
            if tok == EOS:
                if rank < self.size:
                    self.finished.append((toks, score, score / self.lp(t + 1)))
                continue
            keep.append((toks + [tok], score))
            parents.append(parent)
        self.live = keep
        if len(self.finished) >= self.size or not keep:
            self.stopped = True
        elif self.finished and max(f[2] for f in self.finished) >= max(s for _, s in keep) / self.lp(self.limit):
            self.stopped = True
        return parents, self.stopped or t + 1 >= self.limit

    def best(self):
        hs = list(self.finished)
        if not self.stopped:
            hs += [(toks, s, s / self.lp(len(toks))) for toks, s in self.live]
        return max(hs, key=lambda h: h[2])[0] if hs else []


def beam_search(model, srcs, limits, size, alpha, forbid=None, ngram=0):
    """Beam search of a batch of sources together, each with its own beam."""
    st = model.start(srcs)
    beams = [Beam(size, alpha, lim) for lim in limits]
    active = list(range(len(srcs)))
    t = 0
    while active:
        prev = torch.tensor([toks[-1] if toks else BOS for i in active for toks, _ in beams[i].live])
        logp, st = model.step(st, prev)
        rows, base, still = [], 0, []
        for i in active:
            n = len(beams[i].live)
            parents, done = beams[i].advance(t, logp[base:base + n], forbid, ngram)
            if not done:
                rows += [base + p for p in parents]
                still.append(i)
            base += n
        if not still:
            break
        st = model.select(st, torch.tensor(rows))
        active = still
        t += 1
    return [b.best() for b in beams]


# ---------------------------------------------------------------- scores

def ngrams(toks, n):
    c = {}
    for i in range(len(toks) - n + 1):
        g = tuple(toks[i:i + n])
        c[g] = c.get(g, 0) + 1
    return c


def corpus_bleu(hyps, refs):
    match, total = [0] * 4, [0] * 4
    hl = rl = 0
    for h, r in zip(hyps, refs):
        hl, rl = hl + len(h), rl + len(r)
        for n in range(1, 5):
            hc, rc = ngrams(h, n), ngrams(r, n)
            match[n - 1] += sum(min(c, rc.get(g, 0)) for g, c in hc.items())
            total[n - 1] += max(len(h) - n + 1, 0)
    if min(match) == 0 or hl == 0:
        return 0.0
    bp = 1.0 if hl > rl else math.exp(1 - rl / hl)
    return 100 * bp * math.exp(sum(math.log(m / t) for m, t in zip(match, total)) / 4)


def rouge(hyps, refs):
    def f1(m, a, b):
        return 0.0 if m == 0 else 2 * m / (a + b)

    def lcs(a, b):
        prev = [0] * (len(b) + 1)
        for x in a:
            cur = [0]
            for j, y in enumerate(b):
                cur.append(prev[j] + 1 if x == y else max(prev[j + 1], cur[j]))
            prev = cur
        return prev[-1]
    s = [0.0, 0.0, 0.0]
    for h, r in zip(hyps, refs):
        h, r = h.lower().split(), r.lower().split()
        for n in (1, 2):
            hc, rc = ngrams(h, n), ngrams(r, n)
            m = sum(min(c, rc.get(g, 0)) for g, c in hc.items())
            s[n - 1] += f1(m, max(len(h) - n + 1, 0), max(len(r) - n + 1, 0))
        s[2] += f1(lcs(h, r), len(h), len(r))
    return [100 * x / len(hyps) for x in s]


# ---------------------------------------------------------------- tasks

class Translate:
    def __init__(self, a, data):
        self.a = a
        tr = list(zip(read_lines(os.path.join(data, "train.de.gz")), read_lines(os.path.join(data, "train.en.gz"))))
        va = list(zip(read_lines(os.path.join(data, "val.de.gz")), read_lines(os.path.join(data, "val.en.gz"))))
        counts = ({}, {})
        tok_tr = [(word_tokens(s), word_tokens(t)) for s, t in tr]
        for pair in tok_tr:
            for side, toks in zip(counts, pair):
                for w in toks:
                    side[w] = side.get(w, 0) + 1
        (self.sv, _), (self.tv, _) = build_vocab(counts[0], 2), build_vocab(counts[1], 2)
        enc = lambda v, toks: [v.get(w, UNK) for w in toks]  # noqa: E731
        self.max_len = 50
        self.train, dropped = [], 0
        for s, t in tok_tr:
            s, t = enc(self.sv, s), enc(self.tv, t)
            if not s or len(s) > self.max_len or len(t) > self.max_len:
                dropped += 1
                continue
            self.train.append((s, t))
        self.val = [(enc(self.sv, word_tokens(s)[:self.max_len]), enc(self.tv, word_tokens(t))[:self.max_len]) for s, t in va]
        self.val_refs = [[w.lower() for w in word_tokens(t)] for _, t in va]
        self.itos = {i: w for w, i in self.tv.items()}
        shapes = spread_buckets([len(s) for s, _ in self.train], [len(t) + 1 for _, t in self.train], 6)
        self.members = bucketize([len(s) for s, _ in self.train], [len(t) + 1 for _, t in self.train], shapes)
        self.batch = 128 if a.model == "transformer" else 64
        log("translate: %s de->en, word vocabularies %d/%d, %d train pairs (%d left out), %d validation, buckets %s"
            % (a.model, len(self.sv), len(self.tv), len(self.train), dropped, len(self.val),
               ", ".join("%dx%d" % s for s in self.members)))
        if a.model == "transformer":
            self.model = TransformerMT(len(self.sv), len(self.tv), dropout=0.1)
            self.lr, self.warmup, self.clip, self.smoothing = 5e-4, 400, 1.0, 0.1
        else:
            self.model = AttnSeq2Seq(len(self.sv), len(self.tv), 256, 128, 0, 0.2)
            self.lr, self.warmup, self.clip, self.smoothing = 1e-3, 200, 1.0, 0.1
        self.best_key = "val_bleu_lc_approx"

    def steps_per_epoch(self):
        return sum((len(m) + self.batch - 1) // self.batch for m in self.members.values())

    def rate(self, step, epoch):
        return self.lr * min(1.0, (step + 1) / self.warmup) if self.warmup else self.lr

    def tensors(self, pairs, shape):
        src = pad([s for s, _ in pairs], shape[0])
        return src, pad([[BOS] + t for _, t in pairs], shape[1]), pad([t + [EOS] for _, t in pairs], shape[1])

    def loss(self, pairs, shape, smoothing):
        src, tin, tout = self.tensors(pairs, shape)
        if isinstance(self.model, TransformerMT):
            logits = self.model(src, tin)
            return F.cross_entropy(logits.transpose(1, 2), tout, ignore_index=PAD, label_smoothing=smoothing, reduction="sum"), tout.ne(PAD).sum()
        return self.model.nll(src, tin, tout, smoothing)

    def val_loss(self):
        order = sorted((i for i, (s, _) in enumerate(self.val) if s), key=lambda i: (len(self.val[i][0]), len(self.val[i][1])))
        total, n = 0.0, 0
        for lo in range(0, len(order), 128):
            pairs = [self.val[i] for i in order[lo:lo + 128]]
            ls, lt = max(len(s) for s, _ in pairs), max(len(t) + 1 for _, t in pairs)
            l, k = self.loss(pairs, (min((ls + 7) // 8 * 8, 50), min((lt + 7) // 8 * 8, 51)), 0.0)
            total, n = total + l.item(), n + k.item()
        return total / n

    def limit(self, n):
        return max(1, min(51, int(1.5 * n) + 10))

    def decode(self, beam):
        order = sorted((i for i, (s, _) in enumerate(self.val) if s), key=lambda i: len(self.val[i][0]))
        size = max(1, 128 // beam) if beam > 1 else 128
        out = [[] for _ in self.val]
        for lo in range(0, len(order), size):
            chunk = order[lo:lo + size]
            srcs = [self.val[i][0] for i in chunk]
            if beam > 1:
                hyps = beam_search(self.model, srcs, [self.limit(len(s)) for s in srcs], beam, 0.6)
            else:
                hyps = greedy(self.model, srcs, [min(self.limit(len(s)), self.limit(max(map(len, srcs)))) for s in srcs])
            for i, h in zip(chunk, hyps):
                out[i] = h
        return corpus_bleu([[self.itos[t].lower() for t in h if t > EOS] for h in out], self.val_refs)

    def evaluate(self, final):
        loss = self.val_loss()
        t0 = time.time()
        m = {"val_loss": loss, "val_perplexity": math.exp(loss), "val_bleu_lc_approx": self.decode(1)}
        m["greedy_seconds"] = time.time() - t0
        if final:
            t0 = time.time()
            m["val_bleu_beam5_lc_approx"] = self.decode(5)
            m["beam_seconds"] = time.time() - t0
        return m


class Summarize:
    def __init__(self, a, data):
        self.a = a

        def norm(line):
            return "".join("#" if "0" <= c <= "9" else c for c in line.lower()).split()

        def load(art, tit):
            return [(norm(s), t) for s, t in zip(read_lines(os.path.join(data, art)), read_lines(os.path.join(data, tit)))
                    if norm(s) and norm(t)]
        tr = load("train.article.txt", "train.title.txt")
        va = load("valid.article.filter.txt", "valid.title.filter.txt")
        self.max_src, self.max_tgt = 60, 24
        counts = {}
        for words, title in tr:
            for w in words[:self.max_src] + norm(title):
                counts[w] = counts.get(w, 0) + 1
        self.voc, self.itos = build_vocab(counts, 2, 10000)
        V = len(self.itos)

        def encode(words, title):
            words = words[:self.max_src]
            src, oovs = [], {}
            for w in words:
                i = self.voc.get(w)
                src.append(i if i is not None else V + oovs.setdefault(w, len(oovs)))
            tgt = [self.voc.get(w, V + oovs[w] if w in oovs else UNK) for w in norm(title)[:self.max_tgt]]
            return src, tgt, list(oovs), title
        self.train = [encode(*p) for p in tr]
        self.val = [encode(*p) for p in va]
        lens = lambda s: ([len(p[0]) for p in s], [len(p[1]) + 1 for p in s])  # noqa: E731
        ts, tt = lens(self.train)
        vs, vt = lens(self.val)
        shapes = pair_buckets(ts + vs, tt + vt)
        self.members = bucketize(ts, tt, shapes)
        self.val_members = bucketize(vs, vt, shapes)
        self.batch = 64
        log("summarize: pointer-generator, vocabulary %d, %d train / %d validation pairs, buckets %s"
            % (V, len(self.train), len(self.val), ", ".join("%dx%d" % s for s in shapes)))
        self.model = AttnSeq2Seq(V, V, 128, 128, 128, 0.4, copy=True, state_first=True)
        self.lr, self.clip = 1e-3, 2.0
        self.best_key = "val_rouge_approx"

    def steps_per_epoch(self):
        return sum((len(m) + self.batch - 1) // self.batch for m in self.members.values())

    def rate(self, step, epoch):
        # solvers.WarmupDecay: x0.7 per epoch from the (0-based) epoch 5 on
        return self.lr * 0.7 ** (epoch - 5 + 1) if epoch >= 5 else self.lr

    def loss(self, pairs, shape, smoothing=0.0):
        src = pad([p[0] for p in pairs], shape[0])
        return self.model.nll(src, pad([[BOS] + p[1] for p in pairs], shape[1]), pad([p[1] + [EOS] for p in pairs], shape[1]))

    def val_loss(self):
        total, n = 0.0, 0
        for shape, idx in epoch_batches(self.val_members, self.batch, random.Random(self.a.seed + 1)):
            l, k = self.loss([self.val[i] for i in idx], shape)
            total, n = total + l.item(), n + k.item()
        return total / n

    def decode(self, beam):
        V = len(self.itos)
        order = sorted(range(len(self.val)), key=lambda i: len(self.val[i][0]))
        forbid = torch.tensor([UNK])
        out = [[] for _ in self.val]
        for lo in range(0, len(order), 100):
            chunk = order[lo:lo + 100]
            srcs = [self.val[i][0] for i in chunk]
            if beam > 1:
                hyps = beam_search(self.model, srcs, [24] * len(srcs), beam, 5.0, forbid, 1)
            else:
                hyps = greedy(self.model, srcs, [24] * len(srcs), forbid, 1)
            for i, h in zip(chunk, hyps):
                out[i] = h
        def word(t, oovs):
            return self.itos[t] if t < V else oovs[t - V] if t - V < len(oovs) else "<unk>"
        heads = [" ".join(word(t, self.val[i][2]) for t in h if t == UNK or t > EOS) for i, h in enumerate(out)]
        r = rouge(heads, [p[3] for p in self.val])
        return r + [sum(r) / 3]

    def evaluate(self, final):
        loss = self.val_loss()
        t0 = time.time()
        r = self.decode(1)
        m = {"val_loss": loss, "val_perplexity": math.exp(loss), "val_rouge_approx": r[3],
             "val_rouge1_2_L_approx": r[:3], "greedy_seconds": time.time() - t0}
        if final:
            t0 = time.time()
            r = self.decode(8)
            m["val_rouge_beam8_approx"], m["val_rouge1_2_L_beam8_approx"] = r[3], r[:3]
            m["beam_seconds"] = time.time() - t0
        return m


# ---------------------------------------------------------------- run

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", choices=["transformer", "gru-attn", "pointer"], default="transformer")
    ap.add_argument("--epochs", type=int, default=None, help="training epochs (default 10, as triad)")
    ap.add_argument("--max-steps", type=int, default=0, help="stop after N steps, then run the final evaluation (0: no limit)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--data", default="", help="the dataset's directory or one holding multi30k/ and gigaword-sample/ (default: $TRIAD_DATA)")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    epochs = a.epochs if a.epochs is not None else 10
    seed_torch(torch, a.threads, a.seed)
    t0 = time.time()
    if a.model == "pointer":
        task = Summarize(a, find_data(a.data, "gigaword-sample", has_splits, "seq2seq_torch.py"))
    else:
        task = Translate(a, find_data(a.data, "multi30k", has_splits, "seq2seq_torch.py"))
    m = task.model
    params = sum(p.numel() for p in m.parameters())
    log("%s: %d parameters (triad: %d)%s" % (a.model, params, TRIAD_PARAMS[a.model],
                                             "" if params == TRIAD_PARAMS[a.model] else " MISMATCH"))
    opt = torch.optim.Adam(m.parameters(), lr=task.lr, betas=(0.9, 0.999), eps=1e-8)
    spe = task.steps_per_epoch()
    total = epochs * spe
    if a.max_steps and (total == 0 or a.max_steps < total):
        total = a.max_steps
    log("%d steps per epoch, %d steps" % (spe, total))
    rng = random.Random(a.seed)
    tmp = tempfile.mkdtemp(prefix="seq2seq_torch.")
    best_path, best = os.path.join(tmp, "best.pt"), None
    batches, last = [], {}
    for step in range(total):
        epoch = step // spe
        if step % spe == 0:
            batches = epoch_batches(task.members, task.batch, rng)
        shape, idx = batches[step % spe]
        m.train()
        for g in opt.param_groups:
            g["lr"] = task.rate(step, epoch)
        loss, n = task.loss([task.train[i] for i in idx], shape, getattr(task, "smoothing", 0.0))
        opt.zero_grad(set_to_none=True)
        (loss / n).backward()
        nn.utils.clip_grad_norm_(m.parameters(), task.clip)
        opt.step()
        done = step + 1
        if done % 50 == 0 or done == 1:
            log("step %d/%d loss %.3f %.1f s rss %.0f MB" % (done, total, loss.item() / n.item(), time.time() - t0, peak_rss_mb(None)))
        if done % spe == 0 or done == total:
            m.eval()
            with torch.no_grad():
                ev = task.evaluate(final=False)
            ev.update(step=done, seconds=round(time.time() - t0, 1), peak_rss_mb=round(peak_rss_mb(None)))
            print(json.dumps(ev), flush=True)
            if best is None or ev[task.best_key] > best:
                best = ev[task.best_key]
                torch.save(m.state_dict(), best_path)
    if best is not None:
        m.load_state_dict(torch.load(best_path))
    os.remove(best_path) if os.path.exists(best_path) else None
    os.rmdir(tmp)
    m.eval()
    with torch.no_grad():
        last = task.evaluate(final=True)
    out = {"model": a.model, "parameters": params, "triad_parameters": TRIAD_PARAMS[a.model], "steps": total,
           "threads": a.threads, "seconds": round(time.time() - t0, 1), "peak_rss_mb": peak_rss_mb(),
           "torch": torch.__version__}
    out.update({k: (round(v, 4) if isinstance(v, float) else v) for k, v in last.items()})
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
