#!/usr/bin/python3
"""The PyTorch counterpart of `triad vae` (experiments/vae, models/vae) with its
defaults, which are those of PyTorch's examples/vae: MNIST from the four gzipped
IDX files, intensities scaled to [0, 1] (uint8 / 255 in float32), all 60,000
training images, 784-400-20 with ReLU (fc1; heads fc21 mu and fc22 logvar;
decoder fc3, fc4; torch.nn.Linear's initialisation, as triad's), a Bernoulli
decoder on logits (binary cross-entropy summed over the pixels), the loss the
batch mean of recon + beta KL (beta 1, no warm-up), Adam lr 1e-3 (betas 0.9,
0.999, eps 1e-8), batch 128, each epoch a fresh permutation with a smaller last
batch (469 steps an epoch), 10 epochs.

Each evaluation (the end of each epoch, every --eval-every steps, and the last
step) is triad's: the negative ELBO (beta 1) and its terms per test image over
all 10,000 test images in batches of 128, z drawn from q(z|x) with noise that is
the same at every evaluation; and the figures' work: the reconstructions of the
first 8 test images and 64 samples from the prior (computed, not drawn). After
training, as triad does, the importance-weighted estimates of the test negative
log-likelihood of the final weights (Burda et al. 2016), for k = 1, 100, 1000
on min(10000, 1000000/k) evenly spaced test images (image i*10000/n), the
smaller ks again on the smallest subset (1000 images): k1 on 10000 and 1000,
k100 on 10000 and 1000, k1000 on 1000, each in runs of at most 10,000 decoder
rows (samples x images), the log-mean-exp accumulated in float64.

What differs from triad: the random streams (initial weights, permutations, the
noise eps) are torch's, so no run matches triad's bit for bit; no run directory,
checkpoints, PNG figures, metrics.jsonl or TensorBoard events are written.

  OPENBLAS_NUM_THREADS=1 /usr/bin/python3 scripts/vae_torch.py --threads 1 --max-steps 30
    (the same run as `triad vae --threads 1 --max-steps 30`; scripts/memory_report.sh)

Prints one JSON line per evaluation and per IWAE estimate, then, last, the
summary: experiment, parameters, steps, seconds, peak_rss_mb, test_nelbo,
test_recon, test_kl and test_nll_iwae_k<k> (with iwae_images_k<k>).
"""
import argparse
import json
import math
import os
import sys
import time

from torch_common import epoch_args, find_data, peak_rss_mb, read_idx, start_torch, step_plan

PIXELS = 28 * 28


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    epoch_args(ap, "mnist", 10, batch=128, lr=1e-3)
    ap.add_argument("--hidden", type=int, default=400)
    ap.add_argument("--latent", type=int, default=20)
    ap.add_argument("--iwae-k", default="1,100,1000", help="importance samples of the final estimates, comma-separated (empty: none)")
    ap.add_argument("--iwae-max-samples", type=int, default=1000000, help="decoder samples per estimate: k uses min(test set, this/k) images (0: all)")
    return ap.parse_args()


def load_images(d, split, torch):
    """The images (n, 784) of one split as float32 in [0, 1] (the labels are not
    used: triad reads them but does not train on them)."""
    prefix = "train" if split == "train" else "t10k"
    dims, img = read_idx(os.path.join(d, prefix + "-images-idx3-ubyte.gz"))
    if len(dims) != 3 or dims[1] * dims[2] != PIXELS:
        sys.exit("%s: unexpected MNIST shape %s" % (d, dims))
    return torch.frombuffer(img, dtype=torch.uint8).view(dims[0], PIXELS).float().div_(255)


def main():
    a = parse_args()
    torch = start_torch(a.threads, a.seed)
    nn, F = torch.nn, torch.nn.functional
    t0 = time.time()
    d = find_data(a.data, "mnist", "train-images-idx3-ubyte.gz", "vae_torch.py")
    x_tr, x_te = load_images(d, "train", torch), load_images(d, "test", torch)
    L = a.latent

    class VAE(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(PIXELS, a.hidden)
            self.fc21 = nn.Linear(a.hidden, L)
            self.fc22 = nn.Linear(a.hidden, L)
            self.fc3 = nn.Linear(L, a.hidden)
            self.fc4 = nn.Linear(a.hidden, PIXELS)

        def encode(self, x):
            h = F.relu(self.fc1(x))
            return self.fc21(h), self.fc22(h)

        def decode(self, z):  # logits
            return self.fc4(F.relu(self.fc3(z)))

        def terms(self, x, eps):
            """Per-image -log p(x|z) and KL(q(z|x) || N(0, I)) with z = mu + sigma eps."""
            mu, logvar = self.encode(x)
            z = mu + torch.exp(0.5 * logvar) * eps
            recon = F.binary_cross_entropy_with_logits(self.decode(z), x, reduction="none").sum(1)
            kl = -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(1)
            return recon, kl

    model = VAE()
    params = sum(p.numel() for p in model.parameters())
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    n_tr, n_te = len(x_tr), len(x_te)
    spe = (n_tr + a.batch - 1) // a.batch
    print("vae_torch: %d-%d-%d relu, bernoulli decoder, %d parameters, %d train / %d test images, %d steps per epoch" % (PIXELS, a.hidden, L, params, n_tr, n_te, spe), file=sys.stderr)

    prior = torch.randn(64, L, generator=torch.Generator().manual_seed(a.seed + 1))

    def evaluate():
        """The test negative ELBO and its terms per image, with the same noise at
        every evaluation, and the figures' reconstructions and samples."""
        gen = torch.Generator().manual_seed(a.seed + 2)
        model.eval()
        sums = [0.0, 0.0]
        with torch.no_grad():
            for lo in range(0, n_te, a.batch):
                x = x_te[lo:lo + a.batch]
                recon, kl = model.terms(x, torch.randn(len(x), L, generator=gen))
                sums[0] += recon.sum().item()
                sums[1] += kl.sum().item()
            mu, _ = model.encode(x_te[:8])
            torch.sigmoid(model.decode(mu))  # reconstructions of the first 8 test digits
            torch.sigmoid(model.decode(prior))  # 64 samples from the prior
        model.train()
        return {"test_nelbo": (sums[0] + sums[1]) / n_te, "test_recon": sums[0] / n_te, "test_kl": sums[1] / n_te}

    def iwae(x, k, gen, max_rows=10000):
        """The mean over the images x of -L_k and its standard error."""
        n = len(x)
        samples = next(c for c in range(min(k, max_rows), 0, -1) if k % c == 0)
        batch = max(1, min(n, max_rows // samples))
        logp = torch.empty(n, dtype=torch.float64)
        with torch.no_grad():
            for lo in range(0, n, batch):
                xb = x[lo:lo + batch]
                bs = len(xb)
                mu, logvar = model.encode(xb)
                acc = None
                for _ in range(k // samples):
                    eps = torch.randn(samples, bs, L, generator=gen)
                    z = mu + torch.exp(0.5 * logvar) * eps  # (samples, bs, L)
                    logits = model.decode(z.view(samples * bs, L)).view(samples, bs, PIXELS)
                    nll = F.binary_cross_entropy_with_logits(logits, xb.expand(samples, bs, PIXELS), reduction="none").sum(2)
                    ratio = 0.5 * (eps.pow(2) - z.pow(2) + logvar).sum(2)  # log p(z) - log q(z|x)
                    lse = torch.logsumexp((ratio - nll).double(), 0)
                    acc = lse if acc is None else torch.logaddexp(acc, lse)
                logp[lo:lo + bs] = acc - math.log(k)
        nll = -logp.mean().item()
        se = logp.std().item() / math.sqrt(n) if n > 1 else 0.0
        return nll, se

    total, every = step_plan(a, spe)
    gen = torch.Generator().manual_seed(a.seed)
    final, perm = {}, None
    t_train = time.time()
    for step in range(total):
        if step % spe == 0:
            perm = torch.randperm(n_tr, generator=gen)
        x = x_tr[perm[(step % spe) * a.batch:(step % spe + 1) * a.batch]]
        recon, kl = model.terms(x, torch.randn(len(x), L))
        loss = (recon + kl).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        done = step + 1
        if done % every == 0 or done == total:
            final = evaluate()
            print(json.dumps(dict(step=done, train_loss=loss.item(), seconds=time.time() - t_train, peak_rss_mb=peak_rss_mb(), **final)), flush=True)

    ks = [int(k) for k in a.iwae_k.split(",") if k.strip()]
    count = lambda k: n_te if a.iwae_max_samples == 0 else max(1, min(n_te, a.iwae_max_samples // k))
    smallest = min([n_te] + [count(k) for k in ks])
    jobs = []
    for k in ks:
        jobs.append((k, count(k)))
        if smallest < count(k):
            jobs.append((k, smallest))
    for k, n in jobs:
        t = time.time()
        subset = x_te if n >= n_te else x_te[[i * n_te // n for i in range(n)]]
        nll, se = iwae(subset, k, torch.Generator().manual_seed(a.seed * 1000003 + k * 1009 + n))
        if n == count(k):
            final["test_nll_iwae_k%d" % k] = nll
            final["iwae_images_k%d" % k] = n
        print(json.dumps({"iwae_k": k, "images": n, "nll": nll, "stderr": se, "seconds": time.time() - t, "peak_rss_mb": peak_rss_mb()}), flush=True)

    print(json.dumps(dict(experiment="vae", parameters=params, steps=total, seconds=round(time.time() - t0, 3),
                          peak_rss_mb=peak_rss_mb(), **final)), flush=True)


if __name__ == "__main__":
    main()
