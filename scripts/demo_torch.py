#!/usr/bin/python3
"""The PyTorch counterpart of `triad demo`'s defaults (experiments/demo), for
comparing peak memory and time on the same model and data:

Data (datasets/dates.go, experiments/demo/task.go): date normalisation, a date
drawn uniformly from 1900-01-01 .. 2099-12-31, then one of the 32 formats
(English, French, German, Spanish, Italian and day-first numeric dates, as
dates.go writes them) uniformly, then a letter case (as written, capitalised
words, upper case) -> the ISO date. 1,000 distinct held-out sources; training
pairs drawn fresh, in pools of 16 batches of 64 that skip the held-out sources,
sorted by source length (stable) and taken in a random order of the 16, each
batch's sources padded to their longest rounded up to a multiple of 8 (at most
the longest possible source, rounded so). Vocabularies: <pad> <s> </s> <unk>,
then the source alphabet (every character dates.go can write, sorted by code
point, as datasets.DateAlphabet: 73 characters) and the target alphabet
"-0123456789"; targets are the 10 characters and </s> (11 positions).

Model (models/seq2seq, rnn model, gru cell, bahdanau attention): embeddings 32
(N(0, 1)), a bidirectional GRU encoder of 32 a direction over the packed
sources (padding skipped), decoder state s_0 = tanh(W_b [h_fwd; h_bwd] + b_b),
then per target step in Bahdanau order: additive attention
v^T tanh(W_q s_{i-1} + W_k m + b_k) of width 32 over the memory (padding
masked), s_i = GRUCell([e(y_{i-1}); c_i], s_{i-1}) of 64 units, logits
W_g tanh(W_p [s_i; c_i; e(y_{i-1})] + b_p) + b_g. PyTorch's default
initialisation (triad draws the same distributions); no dropout, no label
smoothing. Loss: mean cross-entropy per target token (</s> included). Adam
(0.9, 0.999, eps 1e-8), learning rate 3e-3 with triad's CosineOver schedule
(linear warm-up lr*(step+1)/W, W = min(100, steps-1), then half a cosine to
lr/10 at the last step), global gradient norm clipped at 1.

Evaluation as triad's defaults for a run of --max-steps N (evaluations every
200 steps and at the last one): greedy decoding of the 1,000 held-out dates in
chunks of 250, at most 11 steps (val_exact, val_char_acc); then the final
report: greedy decoding of the 1,000 again (exact_match), beam search of width
4 with length penalty ((5+n)/6)^0.6 over the first 100 (beam_exact_match;
triad's stopping rules: a beam stops when 4 hypotheses have finished or when no
live one can beat the best finished one), and the greedy decoding of the three
sources whose attention triad draws.

What differs from triad: the random streams (triad draws with Go's PCG seeded
per stream name; this script with Python's random.Random and torch's generator,
so the dates, their order and the initial weights are other draws of the same
distributions); the heat-map PNGs, checkpoints, metrics files and TensorBoard
events triad writes are not written; decoding runs the encoder once per chunk
and carries the state, as triad's step decoder does.

  /usr/bin/python3 scripts/demo_torch.py --threads 1 --max-steps 30

--threads N sets torch.set_num_threads and, unless set already,
OPENBLAS_NUM_THREADS, OMP_NUM_THREADS and MKL_NUM_THREADS (torch_common.py).
Prints the parameter count beside triad's, one JSON line per evaluation, and
last one JSON line: experiment, parameters, steps, seconds, peak_rss_mb
(ru_maxrss / 1024) and the final figures.
"""
import argparse
import datetime
import json
import math
import random
import re
import time

from torch_common import log, peak_rss_mb, pin_threads, run_args, seed_torch

pin_threads()  # before torch loads its BLAS (Debian's: OpenBLAS, which otherwise starts a thread a core)

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence  # noqa: E402

PAD, BOS, EOS, UNK = 0, 1, 2, 3
TRIAD_PARAMS = 66319  # `triad demo`'s log line: "rnn model, 66319 parameters"
STEPS_PER_EPOCH = 100
POOL_BATCHES = 16
CHUNK = 250
TGT_CHARS = "-0123456789"
TGT_LEN = 11  # an ISO date and </s>


# ---------------------------------------------------------------- dates (datasets/dates.go)

LANGS = [
    dict(months="january february march april may june july august september october november december".split(),
         abbr="jan. feb. mar. apr. may jun. jul. aug. sep. oct. nov. dec.".split(),
         weekdays="sunday monday tuesday wednesday thursday friday saturday".split(),
         formats=["{MONTH} {D}, {YYYY}", "{MON} {D}, {YYYY}", "{WD}, {MONTH} {D}, {YYYY}", "{D} {MONTH} {YYYY}",
                  "{D} {MON} {YYYY}", "{WD}, {D} {MON} {YYYY}", "{MONTH} {ORD}, {YYYY}", "the {ORD} of {MONTH} {YYYY}",
                  "{WD} {ORD} {MONTH} {YYYY}"]),
    dict(months="janvier février mars avril mai juin juillet août septembre octobre novembre décembre".split(),
         abbr="janv. févr. mars avr. mai juin juil. août sept. oct. nov. déc.".split(),
         weekdays="dimanche lundi mardi mercredi jeudi vendredi samedi".split(),
         formats=["{D1} {MONTH} {YYYY}", "{WD} {D1} {MONTH} {YYYY}", "le {D1} {MONTH} {YYYY}", "{D1} {MON} {YYYY}"]),
    dict(months="januar februar märz april mai juni juli august september oktober november dezember".split(),
         abbr="jan. feb. märz apr. mai juni juli aug. sept. okt. nov. dez.".split(),
         weekdays="sonntag montag dienstag mittwoch donnerstag freitag samstag".split(),
         formats=["{D}. {MONTH} {YYYY}", "{WD}, {D}. {MONTH} {YYYY}", "{D}. {MON} {YYYY}", "{WD}, den {D}. {MONTH} {YYYY}"]),
    dict(months="enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre".split(),
         abbr="ene. feb. mar. abr. may. jun. jul. ago. sept. oct. nov. dic.".split(),
         weekdays="domingo lunes martes miércoles jueves viernes sábado".split(),
         formats=["{D} de {MONTH} de {YYYY}", "{WD}, {D} de {MONTH} de {YYYY}", "{D} {MON} {YYYY}"]),
    dict(months="gennaio febbraio marzo aprile maggio giugno luglio agosto settembre ottobre novembre dicembre".split(),
         abbr="gen feb mar apr mag giu lug ago set ott nov dic".split(),
         weekdays="domenica lunedì martedì mercoledì giovedì venerdì sabato".split(),
         formats=["{D} {MONTH} {YYYY}", "{WD} {D} {MONTH} {YYYY}", "{D} {MON} {YYYY}"]),
    dict(months=None, abbr=None, weekdays=None,
         formats=["{DD}/{MM}/{YYYY}", "{D}/{M}/{YYYY}", "{DD}.{MM}.{YYYY}", "{D}.{M}.{YYYY}", "{DD}-{MM}-{YYYY}",
                  "{YYYY}/{MM}/{DD}", "{YYYY}.{MM}.{DD}", "{YYYY}{MM}{DD}", "{YYYY}-{MM}-{DD}"]),
]
FORMATS = [(l, f) for l in LANGS for f in l["formats"]]
FIRST = datetime.date(1900, 1, 1)
DAYS = (datetime.date(2100, 1, 1) - FIRST).days
PLACEHOLDER = re.compile(r"\{[A-Z0-9]+\}")


def ordinal(d):
    suffix = "th"
    if d < 11 or d > 13:
        suffix = {1: "st", 2: "nd", 3: "rd"}.get(d % 10, "th")
    return "%d%s" % (d, suffix)


def capitalise(s):
    out, start = [], True
    for r in s:
        if start and r.isalpha():
            r = r.upper()
        start = r == " "
        out.append(r)
    return "".join(out)


def format_date(d, lang, template, case):
    wd = (d.weekday() + 1) % 7  # Go's time.Weekday: Sunday is 0
    vals = {"{DD}": "%02d" % d.day, "{D1}": "1er" if d.day == 1 else str(d.day), "{D}": str(d.day),
            "{ORD}": ordinal(d.day), "{MM}": "%02d" % d.month, "{M}": str(d.month), "{YYYY}": "%04d" % d.year}
    if lang["months"]:
        vals.update({"{MONTH}": lang["months"][d.month - 1], "{MON}": lang["abbr"][d.month - 1],
                     "{WD}": lang["weekdays"][wd]})
    s = PLACEHOLDER.sub(lambda m: vals[m.group(0)], template)
    if case == 1:
        return capitalise(s)
    if case == 2:
        return s.upper()
    return s


def random_date(rng):
    """datasets.RandomDate's draws in its order: the day, the format, the case."""
    d = FIRST + datetime.timedelta(days=rng.randrange(DAYS))
    lang, template = FORMATS[rng.randrange(len(FORMATS))]
    return format_date(d, lang, template, rng.randrange(3)), d.isoformat()


def date_alphabet():
    """datasets.DateAlphabet: every character of every day of 2024 in every
    format and case, sorted, and the longest source."""
    seen, longest = set(), 0
    d = datetime.date(2024, 1, 1)
    while d.year == 2024:
        for lang, template in FORMATS:
            for c in range(3):
                s = format_date(d, lang, template, c)
                longest = max(longest, len(s))
                seen.update(s)
        d += datetime.timedelta(days=1)
    return "".join(sorted(seen)), longest


class Vocab:
    def __init__(self, chars):
        self.chars = chars
        self.ids = {c: 4 + i for i, c in enumerate(chars)}

    def __len__(self):
        return 4 + len(self.chars)

    def encode(self, s):
        return [self.ids.get(c, UNK) for c in s]

    def decode(self, ids):
        return "".join(self.chars[i - 4] if 4 <= i < 4 + len(self.chars) else "?" for i in ids)


# ---------------------------------------------------------------- model (models/seq2seq)

class DateNet(nn.Module):
    def __init__(self, sv, tv, embed=32, hidden=32, attn=32):
        super().__init__()
        hd = 2 * hidden
        self.src_embed = nn.Embedding(sv, embed)
        self.tgt_embed = nn.Embedding(tv, embed)
        self.encoder = nn.GRU(embed, hidden, batch_first=True, bidirectional=True)
        self.bridge = nn.Linear(hd, hd)
        self.query = nn.Linear(hd, attn, bias=False)
        self.key = nn.Linear(hd, attn)
        self.v = nn.Linear(attn, 1, bias=False)
        self.decoder = nn.GRUCell(embed + hd, hd)
        self.pre_out = nn.Linear(2 * hd + embed, hd)
        self.generator = nn.Linear(hd, tv)

    def encode(self, src, lens):
        """src (B, S) padded, lens (B): memory (B, S, 2H) (zeros on padding),
        keys (B, S, A), the additive mask (B, S) and s_0 (B, 2H)."""
        packed = pack_padded_sequence(self.src_embed(src), lens, batch_first=True, enforce_sorted=False)
        out, h = self.encoder(packed)
        mem, _ = pad_packed_sequence(out, batch_first=True, total_length=src.shape[1])
        mask = torch.zeros(src.shape, dtype=mem.dtype)
        mask.masked_fill_(src == PAD, float("-inf"))
        s0 = torch.tanh(self.bridge(torch.cat([h[0], h[1]], dim=1)))
        return mem, self.key(mem), mask, s0

    def step(self, s, prev, mem, keys, mask):
        """One decoder step: logits (B, V), the new state and the attention weights."""
        e = self.tgt_embed(prev)
        scores = self.v(torch.tanh(keys + self.query(s).unsqueeze(1))).squeeze(2) + mask
        w = torch.softmax(scores, dim=1)
        ctx = torch.bmm(w.unsqueeze(1), mem).squeeze(1)
        s = self.decoder(torch.cat([e, ctx], dim=1), s)
        logits = self.generator(torch.tanh(self.pre_out(torch.cat([s, ctx, e], dim=1))))
        return logits, s, w

    def forward(self, src, lens, tgt_in):
        mem, keys, mask, s = self.encode(src, lens)
        out = []
        for t in range(tgt_in.shape[1]):
            logits, s, _ = self.step(s, tgt_in[:, t], mem, keys, mask)
            out.append(logits)
        return torch.stack(out, dim=1)  # (B, T, V)


def pad_sources(ids, length):
    src = torch.full((len(ids), length), PAD, dtype=torch.long)
    for i, x in enumerate(ids):
        src[i, :len(x)] = torch.tensor(x)
    return src, torch.tensor([len(x) for x in ids])


@torch.no_grad()
def greedy(model, srcs, sv, tv, src_max):
    """decode.Greedy in chunks of 250: the most probable token, at most 11 steps,
    </s> fed to finished rows."""
    out = []
    for lo in range(0, len(srcs), CHUNK):
        ids = [sv.encode(s) for s in srcs[lo:lo + CHUNK]]
        src, lens = pad_sources(ids, max(len(x) for x in ids))
        mem, keys, mask, s = model.encode(src, lens)
        prev = torch.full((len(ids),), BOS, dtype=torch.long)
        toks = [[] for _ in ids]
        done = [False] * len(ids)
        for _ in range(TGT_LEN):
            logits, s, _ = model.step(s, prev, mem, keys, mask)
            best = logits.argmax(dim=1).tolist()
            for r, tok in enumerate(best):
                if done[r]:
                    best[r] = EOS
                elif tok == EOS:
                    done[r] = True
                else:
                    toks[r].append(tok)
            prev = torch.tensor(best)
            if all(done):
                break
        out.extend(tv.decode(t) for t in toks)
    return out


def length_penalty(n, alpha):
    return ((5 + n) / 6) ** alpha


@torch.no_grad()
def beam_search(model, src_ids, beam, alpha):
    """decode.BeamSearch of one source (Wu et al. 2016): the 2*beam best
    extensions (ties by parent, then token), those ending in </s> among the first
    beam finish with score logp / lp(t+1); stops when beam have finished, when no
    live one can beat the best finished one, or after 11 steps."""
    src, lens = pad_sources([src_ids], len(src_ids))
    mem, keys, mask, s = model.encode(src, lens)
    live = [([], 0.0)]  # (tokens, logp)
    finished = []  # (score, tokens)
    stopped = False
    for t in range(TGT_LEN):
        n = len(live)
        prev = torch.tensor([toks[-1] if toks else BOS for toks, _ in live])
        logits, s_next, _ = model.step(s.expand(n, -1) if s.shape[0] != n else s, prev,
                                       mem.expand(n, -1, -1), keys.expand(n, -1, -1), mask.expand(n, -1))
        logp = torch.log_softmax(logits.double(), dim=1)
        total = (logp + torch.tensor([lp for _, lp in live], dtype=torch.float64).unsqueeze(1)).reshape(-1)
        order = sorted(range(total.numel()), key=lambda k: -total[k].item())[:2 * beam]  # stable: (parent, token)
        keep, parents = [], []
        V = logp.shape[1]
        for rank, k in enumerate(order):
            if len(keep) == beam:
                break
            p, tok, lp = k // V, k % V, total[k].item()
            if tok == EOS:
                if rank < beam:
                    finished.append((lp / length_penalty(t + 1, alpha), live[p][0]))
                continue
            keep.append((live[p][0] + [tok], lp))
            parents.append(p)
        live = keep
        if len(finished) >= beam or not live:
            stopped = True
        elif finished and max(f[0] for f in finished) >= max(lp for _, lp in live) / length_penalty(TGT_LEN, alpha):
            stopped = True
        if stopped:
            break
        s = s_next[torch.tensor(parents)]
    if not stopped:
        finished += [(lp / length_penalty(len(toks), alpha), toks) for toks, lp in live]
    finished.sort(key=lambda f: -f[0])
    return finished[0][1] if finished else None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    run_args(ap, "unused: the demo's data are synthetic (accepted for symmetry)", 8, "epochs of 100 steps", eval_every=200)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--test-size", type=int, default=1000)
    ap.add_argument("--beam", type=int, default=4)
    ap.add_argument("--length-penalty", type=float, default=0.6)
    ap.add_argument("--beam-eval", type=int, default=100)
    a = ap.parse_args()
    seed_torch(torch, a.threads, a.seed)
    t0 = time.time()

    chars, longest = date_alphabet()
    src_max = (longest + 7) // 8 * 8
    sv, tv = Vocab(chars), Vocab(TGT_CHARS)
    rng = random.Random("%d/demo/test" % a.seed)
    test, held = [], set()
    while len(test) < a.test_size:
        src, tgt = random_date(rng)
        if src not in held:
            held.add(src)
            test.append((src, tgt))

    model = DateNet(len(sv), len(tv))
    n_params = sum(p.numel() for p in model.parameters())
    log("demo_torch: %d parameters (triad: %d), %d source / %d target characters, %d held-out dates, longest source %d"
        % (n_params, TRIAD_PARAMS, len(chars), len(TGT_CHARS), len(test), longest))
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    total = a.epochs * STEPS_PER_EPOCH
    if a.max_steps > 0 and a.max_steps < total:
        total = a.max_steps
    warm = min(100, max(total - 1, 0))
    final_lr = a.lr / 10

    def lr_at(step):
        if step < warm:
            return a.lr * (step + 1) / warm
        prog = (step - warm) / (total - warm)
        return final_lr + (a.lr - final_lr) * (1 + math.cos(math.pi * prog)) / 2

    pool, pool_id, perm = [], -1, []

    def batch(step):
        nonlocal pool, pool_id, perm
        pid = step // POOL_BATCHES
        if pid != pool_id:
            r = random.Random("%d/demo/train/%d" % (a.seed, pid))
            pool = []
            while len(pool) < POOL_BATCHES * a.batch:
                p = random_date(r)
                if p[0] not in held:
                    pool.append(p)
            pool.sort(key=lambda p: len(p[0]))
            perm = list(range(POOL_BATCHES))
            r.shuffle(perm)
            pool_id = pid
        k = perm[step % POOL_BATCHES]
        return pool[k * a.batch:(k + 1) * a.batch]

    def evaluate():
        model.eval()
        got = greedy(model, [s for s, _ in test], sv, tv, src_max)
        model.train()
        exact = sum(g == w for g, (_, w) in zip(got, test))
        chars_ok = sum(j < len(g) and g[j] == w[j] for g, (_, w) in zip(got, test) for j in range(len(w)))
        return got, {"val_exact": exact / len(got), "val_char_acc": chars_ok / sum(len(w) for _, w in test)}

    t_train = time.time()
    loss = None
    for step in range(total):
        pairs = batch(step)
        ids = [sv.encode(s) for s, _ in pairs]
        src, lens = pad_sources(ids, min((max(len(x) for x in ids) + 7) // 8 * 8, src_max))
        tgts = [tv.encode(t) + [EOS] for _, t in pairs]
        tgt_out = torch.tensor(tgts)
        tgt_in = torch.cat([torch.full((len(tgts), 1), BOS, dtype=torch.long), tgt_out[:, :-1]], dim=1)
        for g in opt.param_groups:
            g["lr"] = lr_at(step)
        logits = model(src, lens, tgt_in)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[2]), tgt_out.reshape(-1))
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if (step + 1) % 50 == 0 or step + 1 == total:
            log("step %d/%d loss %.4f lr %.5f" % (step + 1, total, loss.item(), lr_at(step)))
        if (step + 1) % a.eval_every == 0 or step + 1 == total:
            _, m = evaluate()
            print(json.dumps(dict(step=step + 1, train_loss=loss.item(), **m)), flush=True)
    train_seconds = time.time() - t_train

    # the final report: greedy again, beam search over the first beam_eval, the heat-map sources
    model.eval()
    got, m = evaluate()
    model.eval()
    beams = []
    for src, _ in test[:a.beam_eval]:
        toks = beam_search(model, sv.encode(src), a.beam, a.length_penalty)
        beams.append("" if toks is None else tv.decode(toks))
    beam_exact = sum(b == w for b, (_, w) in zip(beams, test)) / max(len(beams), 1)
    for src in ["saturday, 28 nov. 2026", "Samstag, 28. November 2026", "28/11/2026"]:
        greedy(model, [src], sv, tv, src_max)
    for (src, want), g, b in list(zip(test, got, beams))[:8]:
        log("  %-40r -> %s (beam %s)%s" % (src, g, b, "" if g == want else "  WRONG, want " + want))
    print(json.dumps({
        "experiment": "demo", "parameters": n_params, "triad_parameters": TRIAD_PARAMS, "steps": total,
        "seconds": round(time.time() - t0, 2), "train_seconds": round(train_seconds, 2),
        "peak_rss_mb": peak_rss_mb(),
        "train_loss_last": loss.item() if loss is not None else None,
        "exact_match": m["val_exact"], "char_acc": m["val_char_acc"],
        "beam_exact_match": beam_exact, "beam": a.beam, "beam_evaluated": len(beams), "test_size": len(test),
        "threads": a.threads}), flush=True)


if __name__ == "__main__":
    main()
