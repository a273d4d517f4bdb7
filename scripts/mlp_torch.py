#!/usr/bin/python3
"""The PyTorch counterpart of `triad mlp` (experiments/mlp) with its defaults, for
comparing memory, time and accuracy: MNIST from the four gzipped IDX files,
intensities scaled to [0, 1] (uint8 / 255 in float32), the first 55,000 training
images train and the last 5,000 validate, 784-256-10 (fc1, ReLU, dropout 0.2,
fc2; torch.nn.Linear's initialisation, as triad's), mean cross-entropy, Adam
lr 1e-3 (betas 0.9, 0.999, eps 1e-8), batch 128, each epoch a fresh permutation
cut into 429 whole batches (the rest dropped), 5 epochs. The validation loss and
accuracy are evaluated at the end of each epoch (or every --eval-every steps)
and at the last step; the weights with the best validation accuracy are kept
and scored once on the 10,000 test images at the end, as triad scores its best
checkpoint.

What differs from triad: the random streams (initial weights, permutations,
dropout masks) are torch's, so no run matches triad's bit for bit; no run
directory, checkpoint files, metrics.jsonl or TensorBoard events are written
(the best weights are kept in memory); the evaluation's last partial batch is
run at its real size (triad repeats its last image to fill a batch of 128 and
counts the real rows only: the same figures). triad (at 40f6a9e) reports a
validation and test loss of 0: its evaluation program is compiled without a
loss (graph.Program.Loss then returns 0), so only the accuracies compare; this
script reports the real mean cross-entropy.

  OPENBLAS_NUM_THREADS=1 /usr/bin/python3 scripts/mlp_torch.py --threads 1 --max-steps 30
    (the same run as `triad mlp --threads 1 --max-steps 30`; scripts/memory_report.sh)

Prints one JSON line per evaluation, then, last, the summary: experiment,
parameters, steps, seconds, peak_rss_mb, val_loss, val_acc, test_loss, test_acc.
"""
import argparse
import json
import os
import sys
import time

from torch_common import Best, epoch_args, find_data, peak_rss_mb, read_idx, start_torch, step_plan

PIXELS, CLASSES, VALIDATION = 28 * 28, 10, 5000


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    epoch_args(ap, "mnist", 5, batch=128, lr=1e-3)
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--dropout", type=float, default=0.2)
    return ap.parse_args()


def load_mnist(d, split, torch):
    """Images (n, 784) as float32 in [0, 1] and labels (n,) of one split."""
    prefix = "train" if split == "train" else "t10k"
    dims, img = read_idx(os.path.join(d, prefix + "-images-idx3-ubyte.gz"))
    ldims, lbl = read_idx(os.path.join(d, prefix + "-labels-idx1-ubyte.gz"))
    if len(dims) != 3 or dims[1] * dims[2] != PIXELS or ldims[0] != dims[0]:
        sys.exit("%s: unexpected MNIST shapes %s, %s" % (d, dims, ldims))
    x = torch.frombuffer(img, dtype=torch.uint8).view(dims[0], PIXELS).float().div_(255)
    y = torch.frombuffer(lbl, dtype=torch.uint8).long()
    return x, y


def main():
    a = parse_args()
    torch = start_torch(a.threads, a.seed)
    nn, F = torch.nn, torch.nn.functional
    t0 = time.time()
    d = find_data(a.data, "mnist", "train-images-idx3-ubyte.gz", "mlp_torch.py")
    x_all, y_all = load_mnist(d, "train", torch)
    cut = max(len(y_all) - VALIDATION, len(y_all) * 9 // 10)
    x_tr, y_tr, x_va, y_va = x_all[:cut], y_all[:cut], x_all[cut:], y_all[cut:]
    x_te, y_te = load_mnist(d, "test", torch)

    model = nn.Sequential()
    model.add_module("fc1", nn.Linear(PIXELS, a.hidden))
    model.add_module("relu", nn.ReLU())
    model.add_module("dropout", nn.Dropout(a.dropout))
    model.add_module("fc2", nn.Linear(a.hidden, CLASSES))
    params = sum(p.numel() for p in model.parameters())
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    print("mlp_torch: %d-%d-%d, %d parameters, %d train / %d validation / %d test images" % (PIXELS, a.hidden, CLASSES, params, len(y_tr), len(y_va), len(y_te)), file=sys.stderr)

    def score(x, y):
        model.eval()
        loss, correct = 0.0, 0
        with torch.no_grad():
            for lo in range(0, len(y), a.batch):
                logits = model(x[lo:lo + a.batch])
                loss += F.cross_entropy(logits, y[lo:lo + a.batch], reduction="sum").item()
                correct += (logits.argmax(1) == y[lo:lo + a.batch]).sum().item()
        model.train()
        return loss / len(y), correct / len(y)

    spe = len(y_tr) // a.batch
    total, every = step_plan(a, spe)
    gen = torch.Generator().manual_seed(a.seed)
    best, perm = Best(), None
    last = {}
    t_train = time.time()
    for step in range(total):
        if step % spe == 0:
            perm = torch.randperm(len(y_tr), generator=gen)
        idx = perm[(step % spe) * a.batch:(step % spe + 1) * a.batch]
        loss = F.cross_entropy(model(x_tr[idx]), y_tr[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        done = step + 1
        if done % every == 0 or done == total:
            vl, va = score(x_va, y_va)
            last = {"val_loss": vl, "val_acc": va}
            print(json.dumps({"step": done, "train_loss": loss.item(), "val_loss": vl, "val_acc": va, "seconds": time.time() - t_train}), flush=True)
            best.offer(model, va, done)
    best.restore(model)
    test_loss, test_acc = score(x_te, y_te)
    print(json.dumps({"experiment": "mlp", "parameters": params, "steps": total, "seconds": round(time.time() - t0, 3),
                      "peak_rss_mb": peak_rss_mb(),
                      "val_loss": last.get("val_loss"), "val_acc": last.get("val_acc"), "best_step": best.step,
                      "test_loss": test_loss, "test_acc": test_acc}), flush=True)


if __name__ == "__main__":
    main()
