#!/usr/bin/env python3
"""Writes losses/testdata/ctc_batch.safetensors: torch.nn.functional.ctc_loss in
float64 on a padded batch, for the parity tests of losses.CTC.

The batch (T=7, B=4, C=5, blank 0, targets padded to S=4 with -1) holds a full-
length example, a shorter one with a repeated label, an empty target, and an
example whose target cannot fit its input length (infinite loss). Logits x are
random; log_probs = log_softmax(x). For each reduction the file holds the
loss and the gradients with respect to x (through log_softmax) and with respect
to log_probs as a leaf (PyTorch's, which adds exp(log_probs) on real frames).
Without zero_infinity the infinite example is dropped (its PyTorch gradient is
NaN); with zero_infinity every example is kept.

Tensors: x (T,B,C) F64; targets (B,S) I64; input_lengths, target_lengths (B)
I64; w (B) F64; then for each case NAME: NAME.loss, NAME.grad_x, NAME.grad_lp.
The cases none, sum and mean use the first three examples (zero_infinity off),
mean_zi and none_zi all four (zero_infinity on); the gradients of the "none"
cases are those of (loss * w).sum().

Run with Debian's python3-torch: /usr/bin/python3 scripts/fixtures_ctc.py
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
from safetensors_write import save  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "losses", "testdata", "ctc_batch.safetensors")

def main():
    torch.manual_seed(2006)
    T, B, C, S = 7, 4, 5, 4
    x = torch.randn(T, B, C, dtype=torch.float64) * 1.5
    # padding is -1: never read
    targets = torch.tensor([[1, 2, 3, 4], [2, 2, 3, -1], [-1, -1, -1, -1], [1, 1, 1, 1]], dtype=torch.int64)
    input_lengths = torch.tensor([7, 5, 3, 6], dtype=torch.int64)
    # example 3 needs 4 labels + 3 blanks = 7 frames but has 6: infinite loss
    target_lengths = torch.tensor([4, 3, 0, 4], dtype=torch.int64)
    w = torch.tensor([0.5, -1.25, 2.0, 0.75], dtype=torch.float64)
    out = {"x": x, "targets": targets, "input_lengths": input_lengths, "target_lengths": target_lengths, "w": w}

    def run(name, reduction, zero_infinity, keep):
        xx = x[:, :keep].clone().requires_grad_()
        lp = torch.log_softmax(xx, 2)
        lp.retain_grad()
        tg = targets[:keep].clamp(min=0)  # torch reads no padding, but indexes it
        loss = torch.nn.functional.ctc_loss(lp, tg, input_lengths[:keep], target_lengths[:keep], blank=0,
                                            reduction=reduction, zero_infinity=zero_infinity)
        (loss * w[:keep]).sum().backward() if reduction == "none" else loss.backward()
        out[name + ".loss"] = loss.detach().reshape(-1)
        out[name + ".grad_x"] = xx.grad
        out[name + ".grad_lp"] = lp.grad

    run("none", "none", False, 3)
    run("sum", "sum", False, 3)
    run("mean", "mean", False, 3)
    run("mean_zi", "mean", True, 4)
    run("none_zi", "none", True, 4)
    save(OUT, out, {"torch": torch.__version__, "script": "scripts/fixtures_ctc.py"})


if __name__ == "__main__":
    main()
