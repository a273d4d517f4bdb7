#!/usr/bin/env python3
"""Writes solvers/testdata/solvers.json: reference runs of PyTorch's optimizers,
gradient clipping and learning-rate schedulers for the tests of package solvers.

Run from the repository root with a Python that has PyTorch 1.13 (Debian 12's
python3-torch: /usr/bin/python3 scripts/fixtures_solvers.py).

Each solver case starts from the same small parameters and feeds the same fixed
sequence of gradients (drawn once from a seeded generator and stored in the file,
so the Go tests need no random generator of PyTorch's). Before step t the case's
gradients are copied into .grad, clipped if the case says so, the learning rate is
set to lrs[t], and optimizer.step() runs; the parameters after every step, the
clipping norms and the final optimizer state are recorded. The single-tensor
code path (foreach=False, PyTorch 1.13's CPU default) is used throughout.
"""

import json
import math
import os
import sys

import torch

SEED = 20240517
STEPS = 7
# Per-step gradient scale, so that norm clipping is active on some steps only.
SCALES = [1.0, 4.0, 0.25, 2.0, 0.5, 6.0, 1.0]
PARAMS = [("fc.weight", [3, 4]), ("fc.bias", [4]), ("emb.weight", [2, 3, 2])]


def flat(t):
    return [float(x) for x in t.detach().reshape(-1).tolist()]


def make_inputs():
    g = torch.Generator().manual_seed(SEED)
    params = [torch.randn(shape, generator=g, dtype=torch.float64) for _, shape in PARAMS]
    grads = []
    for s in SCALES:
        grads.append([s * torch.randn(shape, generator=g, dtype=torch.float64) for _, shape in PARAMS])
    return params, grads


def build(kind, params, cfg):
    if kind == "sgd":
        return torch.optim.SGD(params, lr=cfg["lr"], momentum=cfg.get("momentum", 0),
                               dampening=cfg.get("dampening", 0), weight_decay=cfg.get("weight_decay", 0),
                               nesterov=cfg.get("nesterov", False), foreach=False)
    if kind in ("adam", "adamw"):
        cls = torch.optim.Adam if kind == "adam" else torch.optim.AdamW
        return cls(params, lr=cfg["lr"], betas=(cfg["beta1"], cfg["beta2"]), eps=cfg["eps"],
                   weight_decay=cfg["weight_decay"], amsgrad=cfg.get("amsgrad", False), foreach=False)
    if kind == "rmsprop":
        return torch.optim.RMSprop(params, lr=cfg["lr"], alpha=cfg["alpha"], eps=cfg["eps"],
                                   weight_decay=cfg.get("weight_decay", 0), momentum=cfg.get("momentum", 0),
                                   centered=cfg.get("centered", False), foreach=False)
    if kind == "adagrad":
        return torch.optim.Adagrad(params, lr=cfg["lr"], lr_decay=cfg.get("lr_decay", 0),
                                   weight_decay=cfg.get("weight_decay", 0),
                                   initial_accumulator_value=cfg.get("initial_accumulator_value", 0),
                                   eps=cfg["eps"], foreach=False)
    raise ValueError(kind)


ADAM = {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.0}
ADAMW = dict(ADAM, weight_decay=1e-2)
RMS = {"lr": 1e-2, "alpha": 0.99, "eps": 1e-8}
ADAGRAD = {"lr": 1e-2, "eps": 1e-10}
DECAYING = [0.05, 0.04, 0.03, 0.03, 0.02, 0.01, 0.005]

# name, optimizer, dtype, config, clip (None, ("norm", max, type) or ("value", v)), lrs (None: constant)
CASES = [
    ("sgd_plain", "sgd", "float64", {"lr": 0.1}, None, None),
    ("sgd_momentum_dampening_wd", "sgd", "float64",
     {"lr": 0.05, "momentum": 0.9, "dampening": 0.1, "weight_decay": 0.01}, None, None),
    ("sgd_nesterov_wd_clipnorm", "sgd", "float64",
     {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.01, "nesterov": True}, ("norm", 3.0, 2.0), None),
    ("sgd_momentum_schedule", "sgd", "float64", {"lr": 0.05, "momentum": 0.5}, None, DECAYING),
    ("adam_default", "adam", "float64", dict(ADAM), None, None),
    ("adam_wd", "adam", "float64",
     {"lr": 1e-2, "beta1": 0.8, "beta2": 0.95, "eps": 1e-6, "weight_decay": 0.1}, None, None),
    ("adam_amsgrad_wd_clipnorm", "adam", "float64",
     dict(ADAM, lr=1e-2, weight_decay=0.05, amsgrad=True), ("norm", 6.0, 2.0), None),
    ("adam_schedule_clipnorm1", "adam", "float64", dict(ADAM), ("norm", 10.0, 1.0), DECAYING),
    ("adamw_default", "adamw", "float64", dict(ADAMW, lr=1e-2), None, None),
    ("adamw_amsgrad_clipvalue", "adamw", "float64",
     dict(ADAMW, lr=1e-2, weight_decay=0.1, amsgrad=True), ("value", 0.3), DECAYING),
    ("rmsprop_default", "rmsprop", "float64", dict(RMS), None, None),
    ("rmsprop_centered_momentum_wd", "rmsprop", "float64",
     {"lr": 1e-3, "alpha": 0.9, "eps": 1e-6, "weight_decay": 0.01, "momentum": 0.5, "centered": True},
     None, None),
    ("rmsprop_momentum_clipnorminf", "rmsprop", "float64",
     dict(RMS, momentum=0.9), ("norm", 1.0, math.inf), None),
    ("rmsprop_centered_clipnorm", "rmsprop", "float64",
     dict(RMS, centered=True, weight_decay=0.001), ("norm", 2.0, 2.0), DECAYING),
    ("adagrad_default", "adagrad", "float64", dict(ADAGRAD), None, None),
    ("adagrad_decay_init_wd", "adagrad", "float64",
     {"lr": 0.1, "lr_decay": 0.01, "weight_decay": 0.05, "initial_accumulator_value": 0.1, "eps": 1e-8},
     ("norm", 1.5, 2.0), DECAYING),
    # float32 runs: PyTorch's float32 kernels, compared at float32 precision.
    ("sgd_nesterov_wd_f32", "sgd", "float32",
     {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.01, "nesterov": True}, ("norm", 3.0, 2.0), None),
    ("adam_amsgrad_wd_f32", "adam", "float32",
     dict(ADAM, lr=1e-2, weight_decay=0.05, amsgrad=True), ("norm", 6.0, 2.0), None),
    ("adamw_f32", "adamw", "float32", dict(ADAMW, lr=1e-2), None, DECAYING),
    ("rmsprop_centered_momentum_wd_f32", "rmsprop", "float32",
     {"lr": 1e-3, "alpha": 0.9, "eps": 1e-6, "weight_decay": 0.01, "momentum": 0.5, "centered": True},
     None, None),
    ("adagrad_decay_init_wd_f32", "adagrad", "float32",
     {"lr": 0.1, "lr_decay": 0.01, "weight_decay": 0.05, "initial_accumulator_value": 0.1, "eps": 1e-8},
     None, None),
]


def run_case(name, kind, dtype, cfg, clip, lrs, params0, grads):
    dt = torch.float64 if dtype == "float64" else torch.float32
    params = [p.clone().to(dt) for p in params0]
    opt = build(kind, params, cfg)
    out = {"name": name, "optimizer": kind, "dtype": dtype, "config": cfg, "params": [], "norms": []}
    if clip is not None:
        out["clip"] = {"kind": clip[0], "max": clip[1]}
        if clip[0] == "norm":
            out["clip"]["norm_type"] = "inf" if math.isinf(clip[2]) else clip[2]
    out["lrs"] = lrs if lrs is not None else [cfg["lr"]] * STEPS
    for t in range(STEPS):
        for p, g in zip(params, grads[t]):
            p.grad = g.clone().to(dt)
        if clip is not None and clip[0] == "norm":
            out["norms"].append(float(torch.nn.utils.clip_grad_norm_(params, clip[1], norm_type=clip[2])))
        elif clip is not None:
            torch.nn.utils.clip_grad_value_(params, clip[1])
        for group in opt.param_groups:
            group["lr"] = out["lrs"][t]
        opt.step()
        out["params"].append([flat(p) for p in params])
    state = {}
    for (pname, _), p in zip(PARAMS, params):
        for key, val in opt.state[p].items():
            if torch.is_tensor(val):
                state[pname + "." + key] = flat(val)
            elif val is not None:
                state[pname + "." + key] = [float(val)]
    out["state"] = state
    return out


def schedules():
    def lrs_of(make, n):
        opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
        sched = make(opt)
        seq = []
        for _ in range(n):
            seq.append(opt.param_groups[0]["lr"])
            opt.step()
            sched.step()
        return seq

    out = {
        "step": {"base": 0.1, "gamma": 0.3, "every": 3,
                 "lrs": lrs_of(lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=3, gamma=0.3), 12)},
        "exponential": {"base": 0.1, "gamma": 0.9,
                        "lrs": lrs_of(lambda o: torch.optim.lr_scheduler.ExponentialLR(o, gamma=0.9), 12)},
        "plateau": [],
    }
    metrics = [1.0, 0.9, 0.95, 0.91, 0.9, 0.92, 0.5, 0.5, 0.49999, 0.6, 0.7, 0.8, 0.8, 0.4, 0.41, 0.42,
               0.43, 0.44, 0.45, 0.46, 0.47, 0.48]
    configs = [
        {"mode": "min", "factor": 0.5, "patience": 2, "threshold": 1e-4, "threshold_mode": "rel",
         "cooldown": 0, "min_lr": 0.0, "eps": 1e-8},
        {"mode": "min", "factor": 0.1, "patience": 1, "threshold": 0.05, "threshold_mode": "abs",
         "cooldown": 2, "min_lr": 0.002, "eps": 1e-8},
        {"mode": "max", "factor": 0.5, "patience": 0, "threshold": 1e-3, "threshold_mode": "rel",
         "cooldown": 1, "min_lr": 0.0, "eps": 1e-8},
        {"mode": "max", "factor": 0.7, "patience": 1, "threshold": 0.01, "threshold_mode": "abs",
         "cooldown": 0, "min_lr": 0.03, "eps": 0.01},
    ]
    for cfg in configs:
        opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
        sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, **cfg)
        lrs = []
        for m in metrics:
            sched.step(m)
            lrs.append(opt.param_groups[0]["lr"])
        out["plateau"].append({"config": cfg, "lr": 0.1, "metrics": metrics, "lrs": lrs})
    return out


def main():
    torch.set_num_threads(1)
    params0, grads = make_inputs()
    doc = {
        "generator": "scripts/fixtures_solvers.py",
        "torch": torch.__version__,
        "steps": STEPS,
        "params": [{"name": n, "shape": s, "value": flat(p)} for (n, s), p in zip(PARAMS, params0)],
        "grads": [[flat(g) for g in step] for step in grads],
        "cases": [run_case(*c, params0, grads) for c in CASES],
        "schedules": schedules(),
    }
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    path = os.path.join(root, "solvers", "testdata", "solvers.json")
    with open(path, "w") as f:
        json.dump(doc, f, allow_nan=False, separators=(",", ":"))
        f.write("\n")
    print("wrote", path, file=sys.stderr)


if __name__ == "__main__":
    main()
