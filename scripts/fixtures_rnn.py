#!/usr/bin/env python3
"""Writes models/rnn/testdata/parity_*.json: PyTorch's nn.RNN/LSTM/GRU outputs,
final states and gradients on shared weights, for triad's parity tests.

Run with Debian's python3-torch: /usr/bin/python3 scripts/fixtures_rnn.py
"""
import json
import os

import torch

OUT = os.path.join(os.path.dirname(__file__), "..", "models", "rnn", "testdata")


def case(name, module, cell):
    torch.manual_seed(1234)
    T, B = 3, 2
    m = module(input_size=3, hidden_size=4, num_layers=2, bidirectional=True).double()
    states = 2 * 2
    x = torch.randn(T, B, 3, dtype=torch.float64)
    h0 = torch.randn(states, B, 4, dtype=torch.float64)
    c0 = torch.randn(states, B, 4, dtype=torch.float64)
    w_out = torch.randn(T, B, 8, dtype=torch.float64)
    w_h = torch.randn(states, B, 4, dtype=torch.float64)
    if cell == "lstm":
        out, (hn, cn) = m(x, (h0, c0))
    else:
        out, hn = m(x, h0)
    loss = (out * w_out).sum() + (hn * w_h).sum()
    loss.backward()
    fix = {
        "cell": cell,
        "params": {k: v.detach().flatten().tolist() for k, v in m.state_dict().items()},
        "grads": {k: p.grad.flatten().tolist() for k, p in m.named_parameters()},
        "x": x.flatten().tolist(),
        "h0": h0.flatten().tolist(),
        "c0": c0.flatten().tolist(),
        "w_out": w_out.flatten().tolist(),
        "w_h": w_h.flatten().tolist(),
        "out": out.detach().flatten().tolist(),
        "hn": hn.detach().flatten().tolist(),
        "loss": loss.item(),
    }
    with open(os.path.join(OUT, "parity_%s.json" % name), "w") as f:
        json.dump(fix, f)


case("rnn", torch.nn.RNN, "rnn")
case("lstm", torch.nn.LSTM, "lstm")
case("gru", torch.nn.GRU, "gru")
print("torch", torch.__version__)
