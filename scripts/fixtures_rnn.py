#!/usr/bin/env python3
"""Writes models/rnn/testdata/parity_{rnn,lstm,gru}.safetensors: PyTorch's
nn.RNN/LSTM/GRU(3, 4, num_layers=2, bidirectional=True) in float64 on seeded
weights and inputs: the state_dict ("param.<name>"), inputs x (T,B,I), h0, c0,
loss weights w_out, w_h, and the results out (T,B,8), hn, loss and every
parameter's gradient ("grad.<name>").

Run with Debian's python3-torch: /usr/bin/python3 scripts/fixtures_rnn.py
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
from safetensors_write import save  # noqa: E402

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
    ts = {"x": x, "h0": h0, "c0": c0, "w_out": w_out, "w_h": w_h, "out": out, "hn": hn, "loss": loss.reshape(1)}
    for k, v in m.state_dict().items():
        ts["param." + k] = v
    for k, p in m.named_parameters():
        ts["grad." + k] = p.grad
    save(os.path.join(OUT, "parity_%s.safetensors" % name), ts, {"cell": cell, "torch": torch.__version__})


case("rnn", torch.nn.RNN, "rnn")
case("lstm", torch.nn.LSTM, "lstm")
case("gru", torch.nn.GRU, "gru")
