#!/usr/bin/python3
"""The PyTorch counterpart of `triad classify --dataset snips` (experiments/classify,
models/classify) with the config's defaults, for comparing memory, time and
accuracy: SNIPS intents (snips_train.tsv, 13,784 sentences; snips_valid.tsv, 700;
the 7 intents in triad's order), the text lowercased and split by triad's word
tokenizer (vocab.WordTokenizer: runs of letters, marks and digits, keeping
inside a word an apostrophe between letters, a hyphen between word characters
and a full stop or comma between digits; any other non-space character a token
of its own), a vocabulary of <pad> <unk> <bos> <eos> and then every training
token (min frequency 1) by count, then by token, sentences cut to 64 tokens (an
empty one reads as <unk>); length buckets at the median and 90th percentile of
the train and valid lengths rounded up to a multiple of 4 and the longest
([12, 16, 35]), each epoch's batches of 50 drawn within buckets and shuffled
together (277 an epoch), padded to the bucket's length. The model is the default
bilstm-attn: embedding 128 (N(0, 0.1^2)), dropout 0.5 on the embeddings, a
1-layer bidirectional LSTM of 100 units a direction (torch.nn.LSTM's
initialisation, the forget gate's b_ih at 1) that sees only the real tokens
(packed sequences: triad's masks), the self-attentive pooling of Lin et al. 2017
with one hop (w1 200 -> 64 and w2 64 -> 1 without biases, tanh, a softmax over
the real tokens), dropout 0.5 on the sentence vector and a linear layer to the 7
classes; mean cross-entropy; word dropout 0.4 (a training token becomes <unk>);
Adam lr 1e-3 (betas 0.9, 0.999, eps 1e-8, no weight decay) times 0.7 per epoch
after the first; 6 epochs.

Each evaluation (the end of each epoch, every --eval-every steps, and the last
step) is triad's: the mean cross-entropy, accuracy and macro F1 over all 700
validation sentences, in batches of 50 within their buckets; the weights with
the best validation accuracy are kept, and at the end they are evaluated again
over the 700 sentences, with the attention weights of 20 of them (triad's
result.json and attention.html), which gives the final figures.

What differs from triad: the random streams (initial weights, batches, word
dropout, dropout masks) are torch's, so no run matches triad's bit for bit; a
batch has only its real sentences (triad pads the last batch of a bucket to 50
rows that the loss ignores: the same loss and gradients); Python's Unicode
tables (its unicodedata and str.isspace, lowercasing per character) stand in
for Go's, which could only differ on rare characters; no run directory, vocab
or label files, checkpoints, confusion matrix, attention page, metrics.jsonl or
TensorBoard events are written (the best weights are kept in memory).

  OPENBLAS_NUM_THREADS=1 /usr/bin/python3 scripts/classify_torch.py --threads 1 --max-steps 30
    (the same run as `triad classify --dataset snips --threads 1 --max-steps 30`;
    scripts/memory_report.sh)

Prints one JSON line per evaluation, then, last, the summary: experiment,
parameters, steps, seconds, peak_rss_mb, vocab, buckets, and the final
evaluation's val_loss, val_acc and val_macro_f1 (of the best weights, best_step).
"""
import argparse
import json
import os
import sys
import time

from torch_common import Best, epoch_args, find_data, peak_rss_mb, start_torch, step_plan, word_tokens

INTENTS = ["AddToPlaylist", "BookRestaurant", "GetWeather", "PlayMusic", "RateBook", "SearchCreativeWork", "SearchScreeningEvent"]
SPECIALS = ["<pad>", "<unk>", "<bos>", "<eos>"]
PAD, UNK = 0, 1


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    epoch_args(ap, "snips", 6, batch=50, lr=1e-3)
    ap.add_argument("--lr-decay", type=float, default=0.7, help="learning-rate factor per epoch after the first")
    ap.add_argument("--embed", type=int, default=128)
    ap.add_argument("--embed-std", type=float, default=0.1)
    ap.add_argument("--hidden", type=int, default=100)
    ap.add_argument("--attn-dim", type=int, default=64)
    ap.add_argument("--dropout", type=float, default=0.5)
    ap.add_argument("--word-dropout", type=float, default=0.4)
    ap.add_argument("--min-freq", type=int, default=1)
    ap.add_argument("--max-len", type=int, default=64)
    ap.add_argument("--show", type=int, default=20, help="validation sentences whose attention the final evaluation keeps")
    return ap.parse_args()


def load_tsv(path):
    """The (text, intent index) rows of a SNIPS split, intent<TAB>text a line."""
    rows = []
    with open(path, encoding="utf-8", newline="\n") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n").rstrip("\r")
            label, tab, text = line.partition("\t")
            if not tab or label not in INTENTS or not text.strip():
                sys.exit("%s:%d: want a known intent, a TAB and a text" % (path, n))
            rows.append((text, INTENTS.index(label)))
    return rows


def lower(text):
    """Lowercases character by character (simple case mapping, as Go's
    strings.ToLower: no final sigma, one character for one)."""
    return "".join(c.lower()[:1] for c in text)


def tokenize(text):
    """triad's WordTokenizer over the lowercased text."""
    return word_tokens(lower(text))


def buckets(lengths):
    """The median and 90th percentile rounded up to a multiple of 4, while below
    the longest, then the longest."""
    s = sorted(lengths)
    longest, out = s[-1], []
    for q in (0.5, 0.9):
        b = (s[int(q * (len(s) - 1))] + 3) // 4 * 4
        if b < longest and (not out or b > out[-1]):
            out.append(b)
    return out + [longest]


def main():
    a = parse_args()
    torch = start_torch(a.threads, a.seed)
    nn, F = torch.nn, torch.nn.functional
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
    t0 = time.time()
    d = find_data(a.data, "snips", "snips_train.tsv", "classify_torch.py")
    train_rows, val_rows = load_tsv(os.path.join(d, "snips_train.tsv")), load_tsv(os.path.join(d, "snips_valid.tsv"))
    train_toks = [tokenize(t) for t, _ in train_rows]
    counts = {}
    for toks in train_toks:
        for t in toks:
            counts[t] = counts.get(t, 0) + 1
    kept = sorted((t for t, n in counts.items() if n >= max(a.min_freq, 1) and t not in SPECIALS), key=lambda t: (-counts[t], t))
    index = {t: i for i, t in enumerate(SPECIALS + kept)}
    V, C = len(index), len(INTENTS)

    def encode(toks):
        ids = [index.get(t, UNK) for t in toks][:a.max_len]
        return ids or [UNK]  # an empty sentence reads as one unknown token

    tr_x, tr_y = [encode(t) for t in train_toks], [y for _, y in train_rows]
    va_x, va_y = [encode(tokenize(t)) for t, _ in val_rows], [y for _, y in val_rows]
    bounds = buckets([len(s) for s in tr_x + va_x])
    bucket_of = lambda n: next((b for b in bounds if n <= b), bounds[-1])
    members = {b: [] for b in bounds}
    for i, s in enumerate(tr_x):
        members[bucket_of(len(s))].append(i)
    members = {b: m for b, m in members.items() if m}
    spe = sum((len(m) + a.batch - 1) // a.batch for m in members.values())

    class Pool(nn.Module):
        def __init__(self, width, dim):
            super().__init__()
            self.w1 = nn.Linear(width, dim, bias=False)
            self.w2 = nn.Linear(dim, 1, bias=False)

        def forward(self, h, pad):
            e = self.w2(torch.tanh(self.w1(h))).squeeze(2).masked_fill(pad, float("-inf"))
            w = torch.softmax(e, 1)
            return torch.bmm(w.unsqueeze(1), h).squeeze(1), w

    class Classifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(V, a.embed)
            nn.init.normal_(self.embed.weight, 0, a.embed_std)
            self.rnn = nn.LSTM(a.embed, a.hidden, batch_first=True, bidirectional=True)
            with torch.no_grad():  # triad's forget bias: 1 on b_ih's forget block
                for name in ("bias_ih_l0", "bias_ih_l0_reverse"):
                    getattr(self.rnn, name)[a.hidden:2 * a.hidden].fill_(1)
            self.pool = Pool(2 * a.hidden, a.attn_dim)
            self.out = nn.Linear(2 * a.hidden, C)
            self.drop = nn.Dropout(a.dropout)

        def forward(self, ids, lengths):
            x = self.drop(self.embed(ids))
            packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
            h, _ = pad_packed_sequence(self.rnn(packed)[0], batch_first=True, total_length=ids.shape[1])
            pooled, w = self.pool(h, ids == PAD)
            return self.out(self.drop(pooled)), w

    def batch_of(seqs, length):
        ids = torch.full((len(seqs), length), PAD, dtype=torch.long)
        for i, s in enumerate(seqs):
            s = s[:length]
            ids[i, :len(s)] = torch.tensor(s)
        return ids, torch.tensor([min(len(s), length) for s in seqs])

    model = Classifier()
    params = sum(p.numel() for p in model.parameters())
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    print("classify_torch: bilstm-attn, %d parameters, vocabulary %d, %d train / %d validation sentences, buckets %s, %d steps per epoch"
          % (params, V, len(tr_x), len(va_x), bounds, spe), file=sys.stderr)

    def evaluate(show=0):
        n = len(va_x)
        picked = {i * n // show for i in range(show)} if show else set()
        groups = {}
        for i, s in enumerate(va_x):
            groups.setdefault(bucket_of(len(s)), []).append(i)
        counts = [[0] * C for _ in range(C)]
        loss, shown = 0.0, {}
        model.eval()
        with torch.no_grad():
            for b in bounds:
                idx = groups.get(b, [])
                for lo in range(0, len(idx), a.batch):
                    chunk = idx[lo:lo + a.batch]
                    ids, lengths = batch_of([va_x[j] for j in chunk], b)
                    y = torch.tensor([va_y[j] for j in chunk])
                    logits, w = model(ids, lengths)
                    loss += F.cross_entropy(logits, y, reduction="sum").item()
                    for i, (j, p) in enumerate(zip(chunk, logits.argmax(1).tolist())):
                        counts[va_y[j]][p] += 1
                        if j in picked:
                            shown[j] = w[i, :lengths[i]].tolist()
        model.train()
        f1 = []
        for k in range(C):
            tp, pred, true = counts[k][k], sum(counts[r][k] for r in range(C)), sum(counts[k])
            p = tp / pred if pred else 0.0
            r = tp / true if true else 0.0
            f1.append(2 * p * r / (p + r) if p + r > 0 else 0.0)
        acc = sum(counts[k][k] for k in range(C)) / n
        return {"val_loss": loss / n, "val_acc": acc, "val_macro_f1": sum(f1) / C}

    total, every = step_plan(a, spe)
    gen = torch.Generator().manual_seed(a.seed)
    best, batches = Best(), []
    t_train = time.time()
    for step in range(total):
        epoch = step // spe
        if step % spe == 0:  # shuffle within buckets, cut into batches, shuffle the batches
            batches = []
            for b in bounds:
                m = members.get(b, [])
                perm = torch.randperm(len(m), generator=gen).tolist()
                batches += [(b, [m[k] for k in perm[i:i + a.batch]]) for i in range(0, len(m), a.batch)]
            batches = [batches[k] for k in torch.randperm(len(batches), generator=gen).tolist()]
        for g in opt.param_groups:
            g["lr"] = a.lr * (a.lr_decay ** epoch if epoch >= 1 else 1)
        length, idx = batches[step % spe]
        seqs = [tr_x[j] for j in idx]
        if a.word_dropout > 0:
            seqs = [[UNK if drop else t for t, drop in zip(s, (torch.rand(len(s), generator=gen) < a.word_dropout).tolist())] for s in seqs]
        ids, lengths = batch_of(seqs, length)
        logits, _ = model(ids, lengths)
        loss = F.cross_entropy(logits, torch.tensor([tr_y[j] for j in idx]))
        opt.zero_grad()
        loss.backward()
        opt.step()
        done = step + 1
        if done % every == 0 or done == total:
            ev = evaluate()
            print(json.dumps(dict(step=done, train_loss=loss.item(), seconds=time.time() - t_train, **ev)), flush=True)
            best.offer(model, ev["val_acc"], done)
    best.restore(model)
    final = evaluate(a.show)
    print(json.dumps(dict(experiment="classify snips", parameters=params, steps=total, seconds=round(time.time() - t0, 3),
                          peak_rss_mb=peak_rss_mb(),
                          vocab=V, buckets=bounds, best_step=best.step, **final)), flush=True)


if __name__ == "__main__":
    main()
