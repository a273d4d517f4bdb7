#!/usr/bin/python3
"""The PyTorch counterpart of `triad ctc`'s defaults (experiments/ctc,
models/acoustic, datasets/audio), for comparing peak memory and time on the same
model and data:

Data: the Free Spoken Digit Dataset (metadata.tsv's split: takes 0-4 test, the
rest train; 16-bit samples / 32768). An utterance joins n recordings of one
speaker (the speaker uniform among those with recordings in the split, each
recording uniform among the speaker's), n uniform in 1..7, with silences of
U[50, 200] ms between digits and U[0, 100] ms before the first and after the
last (rounded to samples), filled with Gaussian noise of standard deviation
1e-3; an utterance longer than the largest bucket (100 input frames) is
redrawn. Training: 32 fresh utterances a step, one digit count for the whole
step, padded with noise to the smallest bucket of 20, 40, 60, 80, 100 input
frames that holds the longest. Test: 500 utterances drawn once (a digit count
each) from the test takes, sorted by length, in batches of 50, each batch padded
to its bucket. The network reads every padded frame (triad's --pad silence), and
the CTC loss reads all of them too.

Features (datasets/audio, as triad computes them, in float64): frames of 25 ms
(200 samples) every 10 ms (80), no padding at the edges (snip edges), periodic
Hann window of 200, zero-padded to a 256-point FFT, power spectrum, 40
triangular HTK-mel filters from 0 to 4 kHz (peak 1, no area normalisation),
log(max(E, 1e-10)); per-utterance mean and variance normalisation with the
statistics of the utterance's own frames (padding excluded) applied to all;
6 frames stacked into one input frame of 240, every 6 frames (zeros past the
end); the waveform padded (or cut) so that the batch's T input frames are
exactly 6T 10 ms frames. (Computed by hand with numpy rather than torch.stft,
which centres a 200-point window inside the 256-point frame and so would not
give triad's frames.)

Model: a 2-layer bidirectional GRU of 128 a direction over the (T, B, 240)
frames, a linear layer to 11 classes (0 the blank, d+1 the digit d),
log-softmax, torch.nn.functional.ctc_loss (blank 0, reduction "mean": each
row's loss over its label count, averaged), PyTorch's default initialisation
(uniform +-1/sqrt(fan), as triad's), no dropout. Adam (0.9, 0.999, eps 1e-8)
at 3e-3 with triad's CosineOver schedule (linear warm-up lr*(step+1)/W,
W = min(100, steps-1), then half a cosine to 1e-4 at the last step), global
gradient norm clipped at 5.

Evaluation as triad's for a run of --max-steps N (every 100 steps and at the
last): over the 500 test utterances, greedy decoding (best path, repeats
merged, blanks dropped) and the CTC prefix beam search of width 8 (Hannun et
al. 2014, no language model, ties by shorter then smaller labels as triad),
digit error rates (summed edit distance over summed reference digits: test_der
with the beam, test_der_greedy), substitutions / deletions / insertions per
reference digit (triad's alignment preferences), sequence accuracy and the mean
CTC loss per digit (test_loss).

What differs from triad: the random streams (triad draws with Go's PCG seeded
per stream name, and Go's ziggurat normals for the noise; this script with
numpy's PCG64 seeded by the seed and an FNV-1a hash of triad's stream names, and
torch's generator for the weights), so the utterances, noise and initial weights
are other draws of the same distributions, not the same ones; the features are
kept as float32 (the model's type) once computed, triad keeps them as float64;
checkpoints, metrics files and TensorBoard events are not written.

  /usr/bin/python3 scripts/ctc_torch.py --threads 1 --max-steps 30

--threads N sets torch.set_num_threads and, unless set already,
OPENBLAS_NUM_THREADS, OMP_NUM_THREADS and MKL_NUM_THREADS (torch_common.py).
--data DIR is the directory holding fsdd/ (or fsdd itself; default $TRIAD_DATA,
then ../shared/data from the repository). Prints the parameter count beside
triad's, one JSON line per evaluation, and last one JSON line: experiment, parameters, steps, seconds, peak_rss_mb (ru_maxrss /
1024) and the final figures.
"""
import argparse
import json
import math
import os
import sys
import time
import wave

from torch_common import find_data, log, peak_rss_mb, pin_threads, run_args, seed_torch

pin_threads()  # before torch loads its BLAS (Debian's: OpenBLAS, which otherwise starts a thread a core)

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

TRIAD_PARAMS = 583435  # `triad ctc`'s log line: "bidirectional gru 2x128, 583435 parameters"
RATE = 8000
FRAME, HOP, NFFT = 200, 80, 256  # 25 ms, 10 ms, the next power of two
CLASSES = 11
BUCKETS = [20, 40, 60, 80, 100]
STEPS_PER_EPOCH = 100


def fnv1a(s):
    h = 0xcbf29ce484222325
    for b in s.encode():
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


def stream(seed, name):
    """A generator per stream name, as graph.NewRNG(seed, name) (other numbers)."""
    return np.random.default_rng([seed, fnv1a(name)])


# ---------------------------------------------------------------- corpus

def read_wav(path):
    with wave.open(path, "rb") as w:
        if w.getsampwidth() != 2 or w.getframerate() != RATE:
            sys.exit("ctc_torch.py: %s: want 16-bit PCM at %d Hz" % (path, RATE))
        x = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64) / 32768
        return x.reshape(-1, w.getnchannels()).mean(axis=1)


def load_corpus(d):
    """clips[split][speaker] = [(digit, samples)] in metadata order; speakers sorted."""
    lines = open(os.path.join(d, "metadata.tsv"), encoding="utf-8").read().splitlines()
    col = {h: i for i, h in enumerate(lines[0].split("\t"))}
    clips = {"train": {}, "test": {}}
    for line in lines[1:]:
        f = line.split("\t")
        x = read_wav(os.path.join(d, f[col["path"]]))
        clips[f[col["split"]]].setdefault(f[col["speaker"]], []).append((int(f[col["digit"]]), x.astype(np.float32)))
    speakers = sorted(set(clips["train"]) | set(clips["test"]))
    return speakers, clips


# ---------------------------------------------------------------- features

def mel_filterbank(mels=40):
    htk = lambda f: 2595 * math.log10(1 + f / 700)  # noqa: E731
    inv = lambda m: 700 * (10 ** (m / 2595) - 1)  # noqa: E731
    hi = htk(RATE / 2)
    corners = [inv(hi * i / (mels + 1)) for i in range(mels + 2)]
    f = np.arange(NFFT // 2 + 1) * RATE / NFFT
    fb = np.zeros((mels, NFFT // 2 + 1))
    for m in range(mels):
        l, c, r = corners[m:m + 3]
        up = (f > l) & (f <= c)
        down = (f > c) & (f < r)
        fb[m, up] = (f[up] - l) / (c - l)
        fb[m, down] = (r - f[down]) / (r - c)
    return fb


class Features:
    def __init__(self, mels=40, stack=6):
        self.mels, self.stack = mels, stack
        self.window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(FRAME) / FRAME)  # periodic Hann
        self.fb = mel_filterbank(mels)

    @staticmethod
    def num_frames(n):
        return 0 if n < FRAME else 1 + (n - FRAME) // HOP

    def frames(self, n):
        """Input frames (after stacking) of n samples."""
        return (self.num_frames(n) + self.stack - 1) // self.stack

    def log_mel(self, x):
        n = self.num_frames(len(x))
        idx = np.arange(n)[:, None] * HOP + np.arange(FRAME)[None, :]
        spec = np.fft.rfft(x[idx] * self.window, n=NFFT)
        power = spec.real ** 2 + spec.imag ** 2
        return np.log(np.maximum(power @ self.fb.T, 1e-10))

    def compute(self, wave_, pad_to, rng, noise):
        """audio.Utterances.Features: (pad_to or ceil(frames/6), 240) float32."""
        own = self.num_frames(len(wave_))
        if pad_to > 0:
            want = FRAME + (pad_to * self.stack - 1) * HOP
            if len(wave_) >= want:
                wave_ = wave_[:want]
            else:
                wave_ = np.concatenate([wave_, noise * rng.standard_normal(want - len(wave_))])
        lm = self.log_mel(wave_)
        mean = lm[:own].mean(axis=0)
        std = lm[:own].std(axis=0)
        scale = np.where(std >= 1e-8, 1 / np.where(std >= 1e-8, std, 1), 1.0)
        lm = (lm - mean) * scale
        out = -(-lm.shape[0] // self.stack)
        padded = np.zeros((out * self.stack, self.mels))
        padded[:lm.shape[0]] = lm
        st = padded.reshape(out, self.stack * self.mels)
        if pad_to > 0:
            st = st[:pad_to]
        return st.astype(np.float32)


class Generator:
    """audio.Utterances: digit utterances of one speaker joined with silences."""

    def __init__(self, speakers, clips, feats, gap=(50, 200), edge=100, noise=1e-3):
        self.speakers, self.clips, self.feats = speakers, clips, feats
        self.gap, self.edge, self.noise = gap, edge, noise

    @staticmethod
    def ms_samples(rng, lo, hi):
        return int(math.floor((lo + (hi - lo) * rng.random()) * RATE / 1000 + 0.5))

    def draw(self, rng, split, n):
        speakers = [s for s in self.speakers if self.clips[split].get(s)]
        clips = self.clips[split][speakers[rng.integers(len(speakers))]]
        gaps, chosen = [], []
        for i in range(n + 1):
            gaps.append(self.ms_samples(rng, 0, self.edge) if i in (0, n) else self.ms_samples(rng, *self.gap))
            if i < n:
                chosen.append(clips[rng.integers(len(clips))])
        parts = []
        for i, (_, x) in enumerate(chosen):
            parts.append(self.noise * rng.standard_normal(gaps[i]))
            parts.append(x.astype(np.float64))
        parts.append(self.noise * rng.standard_normal(gaps[n]))
        return [d for d, _ in chosen], np.concatenate(parts)

    def draw_fitting(self, rng, split, n, max_frames):
        for _ in range(100):
            digits, x = self.draw(rng, split, n)
            if self.feats.frames(len(x)) <= max_frames:
                return digits, x
        sys.exit("ctc_torch.py: 100 utterances of %d digits in a row exceed %d frames" % (n, max_frames))


def bucket(frames):
    for b in BUCKETS:
        if frames <= b:
            return b
    return frames


# ---------------------------------------------------------------- model and decoding

class Acoustic(nn.Module):
    def __init__(self, inp, hidden=128, layers=2):
        super().__init__()
        self.rnn = nn.GRU(inp, hidden, layers, bidirectional=True)
        self.head = nn.Linear(2 * hidden, CLASSES)

    def forward(self, x):  # (T, B, D) -> log-probabilities (T, B, C)
        out, _ = self.rnn(x)
        return torch.log_softmax(self.head(out), dim=2)


def greedy_decode(lp):  # lp (T, C) numpy
    out, prev = [], -1
    for c in lp.argmax(axis=1).tolist():
        if c != prev and c != 0:
            out.append(c)
        prev = c
    return out


def log_add(a, b):
    if a == -math.inf:
        return b
    if b == -math.inf:
        return a
    m = max(a, b)
    return m + math.log1p(math.exp(-abs(a - b)))


def beam_decode(lp, beam):
    """CTC prefix beam search (losses.CTCBeamSearch): the best labelling."""
    ninf = -math.inf
    cur = [((), 0.0, ninf)]  # (labels, p_blank, p_nonblank)
    for row in lp.tolist():
        nxt = {}

        def get(k):
            e = nxt.get(k)
            if e is None:
                e = nxt[k] = [ninf, ninf]
            return e

        for labels, pb, pnb in cur:
            total = log_add(pb, pnb)
            for c, p in enumerate(row):
                if c == 0:
                    s = get(labels)
                    s[0] = log_add(s[0], total + p)
                elif labels and labels[-1] == c:
                    s = get(labels)
                    s[1] = log_add(s[1], pnb + p)
                    x = get(labels + (c,))
                    x[1] = log_add(x[1], pb + p)
                else:
                    x = get(labels + (c,))
                    x[1] = log_add(x[1], total + p)
        cur = [(k, v[0], v[1]) for k, v in nxt.items() if log_add(v[0], v[1]) != ninf]
        if not cur:
            return []
        cur.sort(key=lambda e: (-log_add(e[1], e[2]), len(e[0]), e[0]))
        cur = cur[:beam]
    return list(cur[0][0])


def align(ref, hyp):
    """metrics.Align: (hits, substitutions, deletions, insertions)."""
    n, m = len(ref), len(hyp)
    d = [[0] * (m + 1) for _ in range(n + 1)]
    for j in range(m + 1):
        d[0][j] = j
    for i in range(1, n + 1):
        d[i][0] = i
        for j in range(1, m + 1):
            d[i][j] = min(d[i - 1][j - 1] + (ref[i - 1] != hyp[j - 1]), d[i - 1][j] + 1, d[i][j - 1] + 1)
    h = s = de = ins = 0
    i, j = n, m
    while i > 0 or j > 0:
        c = d[i][j]
        if i > 0 and j > 0 and ref[i - 1] == hyp[j - 1] and c == d[i - 1][j - 1]:
            h, i, j = h + 1, i - 1, j - 1
        elif i > 0 and j > 0 and ref[i - 1] != hyp[j - 1] and c == d[i - 1][j - 1] + 1:
            s, i, j = s + 1, i - 1, j - 1
        elif i > 0 and c == d[i - 1][j] + 1:
            de, i = de + 1, i - 1
        else:
            ins, j = ins + 1, j - 1
    return h, s, de, ins


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    run_args(ap, "directory holding fsdd/ (default: $TRIAD_DATA, then ../shared/data)", 10, "epochs of 100 steps", eval_every=0, eval_help="0: every epoch (100 steps) and at the last step")
    ap.add_argument("--test-seed", type=int, default=1)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--min-lr", type=float, default=1e-4)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--test-utterances", type=int, default=500)
    ap.add_argument("--eval-batch", type=int, default=50)
    ap.add_argument("--beam", type=int, default=8)
    a = ap.parse_args()
    seed_torch(torch, a.threads, a.seed)
    t0 = time.time()

    speakers, clips = load_corpus(find_data(a.data, "fsdd", "metadata.tsv", "ctc_torch.py"))
    feats = Features()
    gen = Generator(speakers, clips, feats)
    max_frames = BUCKETS[-1]

    # the test set: drawn once with the test seed, sorted by length, batches of eval_batch
    rng = stream(a.test_seed, "ctc/test")
    raws = []
    for _ in range(a.test_utterances):
        raws.append(gen.draw_fitting(rng, "test", 1 + int(rng.integers(7)), max_frames))
    raws.sort(key=lambda r: len(r[1]))
    test = []
    for lo in range(0, len(raws), a.eval_batch):
        part = raws[lo:lo + a.eval_batch]
        T = bucket(feats.frames(len(part[-1][1])))
        x = np.stack([feats.compute(w, T, stream(a.test_seed, "ctc/test/pad/%d" % (lo + i)), gen.noise)
                      for i, (_, w) in enumerate(part)], axis=1)  # (T, B, D)
        test.append((torch.from_numpy(x), [d for d, _ in part]))
    del raws
    n_digits = sum(len(d) for _, ds in test for d in ds)

    model = Acoustic(feats.mels * feats.stack)
    n_params = sum(p.numel() for p in model.parameters())
    log("ctc_torch: bidirectional gru 2x128, %d parameters (triad: %d), %d speakers, %d training / %d test recordings, "
        "%d test utterances (%d digits)" % (n_params, TRIAD_PARAMS, len(speakers),
                                           sum(len(v) for v in clips["train"].values()),
                                           sum(len(v) for v in clips["test"].values()), a.test_utterances, n_digits))
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    total = a.epochs * STEPS_PER_EPOCH
    if a.max_steps > 0 and a.max_steps < total:
        total = a.max_steps
    warm = min(a.warmup, max(total - 1, 0))

    def lr_at(step):
        if step < warm:
            return a.lr * (step + 1) / warm
        prog = (step - warm) / (total - warm)
        return a.min_lr + (a.lr - a.min_lr) * (1 + math.cos(math.pi * prog)) / 2

    def train_batch(step):
        r = stream(a.seed, "ctc/train/%d" % step)
        n = 1 + int(r.integers(7))
        raw = [gen.draw_fitting(r, "train", n, max_frames) for _ in range(a.batch)]
        T = bucket(max(feats.frames(len(w)) for _, w in raw))
        x = np.stack([feats.compute(w, T, r, gen.noise) for _, w in raw], axis=1)
        return torch.from_numpy(x), [d for d, _ in raw]

    @torch.no_grad()
    def evaluate():
        model.eval()
        refs, greedy, beam, loss = [], [], [], 0.0
        for x, digits in test:
            lp = model(x)
            T, B = lp.shape[0], lp.shape[1]
            targets = torch.tensor([d + 1 for ds in digits for d in ds])
            nll = F.ctc_loss(lp, targets, torch.full((B,), T, dtype=torch.long),
                             torch.tensor([len(ds) for ds in digits]), blank=0, reduction="none")
            lpn = lp.double().numpy()
            for i, ds in enumerate(digits):
                refs.append(ds)
                g = [c - 1 for c in greedy_decode(lpn[:, i])]
                greedy.append(g)
                beam.append([c - 1 for c in beam_decode(lpn[:, i], a.beam)] if a.beam > 1 else g)
                loss += nll[i].item() / len(ds)
        model.train()
        al = [align(r, h) for r, h in zip(refs, beam)]
        ref_len = sum(h + s + d for h, s, d, _ in al)
        greedy_err = sum(sum(align(r, h)[1:]) for r, h in zip(refs, greedy))
        return {
            "test_der": sum(s + d + i for _, s, d, i in al) / ref_len,
            "test_der_greedy": greedy_err / ref_len,
            "test_seq_acc": sum(r == h for r, h in zip(refs, beam)) / len(refs),
            "test_loss": loss / len(refs),
            "test_sub": sum(x[1] for x in al) / ref_len,
            "test_del": sum(x[2] for x in al) / ref_len,
            "test_ins": sum(x[3] for x in al) / ref_len,
        }

    eval_every = a.eval_every or STEPS_PER_EPOCH
    final, loss = {}, None
    for step in range(total):
        x, digits = train_batch(step)
        T, B = x.shape[0], x.shape[1]
        targets = torch.tensor([d + 1 for ds in digits for d in ds])
        for g in opt.param_groups:
            g["lr"] = lr_at(step)
        lp = model(x)
        loss = F.ctc_loss(lp, targets, torch.full((B,), T, dtype=torch.long),
                          torch.tensor([len(ds) for ds in digits]), blank=0, reduction="mean")
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        if (step + 1) % 25 == 0 or step + 1 == total:
            log("step %d/%d loss %.4f lr %.5f T %d" % (step + 1, total, loss.item(), lr_at(step), T))
        if (step + 1) % eval_every == 0 or step + 1 == total:
            final = evaluate()
            print(json.dumps(dict(step=step + 1, train_loss=loss.item(), **final)), flush=True)
    print(json.dumps(dict({
        "experiment": "ctc", "parameters": n_params, "triad_parameters": TRIAD_PARAMS, "steps": total,
        "seconds": round(time.time() - t0, 2),
        "peak_rss_mb": peak_rss_mb(),
        "train_loss_last": loss.item() if loss is not None else None,
        "test_utterances": a.test_utterances, "test_digits": n_digits, "beam": a.beam, "threads": a.threads}, **final)),
        flush=True)


if __name__ == "__main__":
    main()
