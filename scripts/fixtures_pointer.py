#!/usr/bin/env python3
"""Writes models/pointer/testdata/parity_pointer.safetensors and
parity_pointer_state_first.safetensors: a pointer-generator
(See, Liu and Manning 2017, sec. 2.2) written directly in PyTorch, in float64,
on seeded weights named as models/pointer names them, and one batch of three
(source, target) pairs in extended ids with padding. It stores the state_dict
("param.<name>"), the batch ("src", "tgt" as int64, -1 for padding), the loss
(mean of -log P(w*) over the real target tokens, EOS included) and every
parameter's gradient ("grad.<name>").

The final distribution is built explicitly, as in See et al.'s description:
P_vocab padded with zeros for the batch's out-of-vocabulary ids, scaled by
p_gen, plus the attention weights scaled by 1 - p_gen and scattered onto the
source's extended ids (torch.Tensor.scatter_add_).

The first file uses Bahdanau order (attend from s_{t-1}, then the GRU reads
[x_t; c_t]); the second See et al.'s order (the GRU reads [x_t; c_{t-1}] with
c_0 = 0, then attend from s_t).

Run with Debian's python3-torch: /usr/bin/python3 scripts/fixtures_pointer.py
"""
import os
import sys

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(__file__))
from safetensors_write import save  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "models", "pointer", "testdata")

PAD, UNK, BOS, EOS = 0, 1, 2, 3
V, E, H, A = 9, 3, 3, 4  # vocabulary, embedding, encoder units per direction, attention width
HD = 2 * H  # decoder width

# extended ids: 9 and 10 are each source's own out-of-vocabulary words
SRCS = [[4, 9, 5, 9], [10, 6], [7, 8, 4, 5, 9]]
TGTS = [[9, 4], [10, 10, 5], [1]]


class PointerGenerator(nn.Module):
    def __init__(self, state_first):
        super().__init__()
        self.state_first = state_first
        self.src_embed = nn.Embedding(V, E)
        self.tgt_embed = nn.Embedding(V, E)
        self.encoder = nn.GRU(E, H, bidirectional=True, batch_first=True)
        self.bridge = nn.Linear(HD, HD)
        self.attention = nn.Module()
        self.attention.query = nn.Linear(HD, A, bias=False)
        self.attention.key = nn.Linear(HD, A)
        self.attention.v = nn.Linear(A, 1, bias=False)
        self.decoder = nn.GRU(E + HD, HD)
        self.pre_out = nn.Linear(2 * HD + E, HD)
        self.generator = nn.Linear(HD, V)
        self.p_gen = nn.Linear(2 * HD + E, 1)

    def forward(self, srcs, tgts):
        B = len(srcs)
        S = max(len(s) for s in srcs)
        T = max(len(t) for t in tgts) + 1
        ext = torch.full((B, S), PAD, dtype=torch.long)
        for b, s in enumerate(srcs):
            ext[b, : len(s)] = torch.tensor(s)
        vocab_ids = torch.where(ext >= V, torch.full_like(ext, UNK), ext)
        lengths = torch.tensor([len(s) for s in srcs])
        packed = nn.utils.rnn.pack_padded_sequence(self.src_embed(vocab_ids), lengths, batch_first=True, enforce_sorted=False)
        out, hn = self.encoder(packed)
        memory, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=S)
        h = torch.tanh(self.bridge(torch.cat([hn[0], hn[1]], dim=1)))
        keys = self.attention.key(memory)
        pad = torch.arange(S)[None, :] >= lengths[:, None]
        n_ext = max(0, int(ext.max()) + 1 - V)
        total, count = 0.0, 0
        ctx = torch.zeros(B, HD, dtype=memory.dtype)
        for t in range(T):
            prev = torch.tensor([BOS if t == 0 else (y[t - 1] if t - 1 < len(y) else PAD) for y in tgts])
            prev = torch.where(prev >= V, torch.full_like(prev, UNK), prev)
            e = self.tgt_embed(prev)

            def attend(query):
                scores = self.attention.v(torch.tanh(keys + self.attention.query(query)[:, None, :])).squeeze(2)
                a = torch.softmax(scores.masked_fill(pad, float("-inf")), dim=1)
                return a, torch.bmm(a[:, None, :], memory).squeeze(1)

            if self.state_first:
                h = self.decoder(torch.cat([e, ctx], dim=1)[None], h[None])[1][0]
                a, ctx = attend(h)
            else:
                a, ctx = attend(h)
                h = self.decoder(torch.cat([e, ctx], dim=1)[None], h[None])[1][0]
            feat = torch.cat([h, ctx, e], dim=1)
            p_vocab = torch.softmax(self.generator(torch.tanh(self.pre_out(feat))), dim=1)
            pg = torch.sigmoid(self.p_gen(feat))
            dist = torch.cat([pg * p_vocab, torch.zeros(B, n_ext, dtype=p_vocab.dtype)], dim=1)
            dist = dist.scatter_add(1, ext, (1 - pg) * a)
            for b, y in enumerate(tgts):
                if t > len(y):
                    continue
                w = y[t] if t < len(y) else EOS
                if w >= V and w not in srcs[b]:
                    w = UNK
                total = total - torch.log(dist[b, w])
                count += 1
        return total / count


def write(name, state_first):
    torch.manual_seed(4321)
    m = PointerGenerator(state_first).double()
    with torch.no_grad():  # move the biases away from PyTorch's small initial range
        for pname, p in m.named_parameters():
            if "bias" in pname:
                p.add_(0.3 * torch.randn_like(p))
    loss = m(SRCS, TGTS)
    loss.backward()

    def padded(seqs):
        n = max(len(s) for s in seqs)
        return torch.tensor([s + [-1] * (n - len(s)) for s in seqs], dtype=torch.int64)

    ts = {"src": padded(SRCS), "tgt": padded(TGTS), "loss": loss.detach().reshape(1)}
    for k, v in m.state_dict().items():
        ts["param." + k] = v
    for k, p in m.named_parameters():
        ts["grad." + k] = p.grad
    os.makedirs(OUT, exist_ok=True)
    save(os.path.join(OUT, name), ts, {"torch": torch.__version__})


write("parity_pointer.safetensors", False)
write("parity_pointer_state_first.safetensors", True)
