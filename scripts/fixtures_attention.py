#!/usr/bin/env python3
"""Writes models/attention/testdata/mha.safetensors (PyTorch's
nn.MultiheadAttention) and models/transformer/testdata/*.safetensors
(nn.TransformerEncoderLayer and nn.TransformerDecoderLayer) in float64 on shared
weights (outputs, loss and the gradients of every parameter and input), for the
parity tests of models/attention and models/transformer.

Run with Debian's python3-torch: /usr/bin/python3 scripts/fixtures_attention.py
(the files are written with scripts/safetensors_write.py).
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
import safetensors_write  # noqa: E402

MODELS = os.path.join(os.path.dirname(__file__), "..", "models")
ATTENTION = os.path.join(MODELS, "attention", "testdata")
TRANSFORMER = os.path.join(MODELS, "transformer", "testdata")
NEG = -1e9  # an excluded position's additive mask value (triad's MaskValue)


def save(out, name, tensors):
    """Writes the tensors, in float64, to out/NAME.safetensors."""
    safetensors_write.save(os.path.join(out, name + ".safetensors"),
                           {k: t.to(torch.float64) for k, t in tensors.items()})


def params_and_grads(module):
    out = {}
    for k, p in module.named_parameters():
        out["param." + k] = p
        out["grad." + k] = p.grad
    return out


def additive_padding(lengths, tq, tk):
    """(B, Tq, Tk) additive mask: NEG on keys at or after each row's length."""
    m = torch.zeros(len(lengths), tq, tk, dtype=torch.float64)
    for b, n in enumerate(lengths):
        m[b, :, n:] = NEG
    return m


def padding_bool(lengths, t):
    return torch.tensor([[j >= n for j in range(t)] for n in lengths])


def mha_case():
    torch.manual_seed(7)
    E, H, B, TQ, TK = 8, 2, 2, 3, 4
    m = torch.nn.MultiheadAttention(E, H, batch_first=True).double()
    with torch.no_grad():  # non-zero biases so that their gradients are tested
        m.in_proj_bias.normal_(0, 0.1)
        m.out_proj.bias.normal_(0, 0.1)
    q = torch.randn(B, TQ, E, dtype=torch.float64, requires_grad=True)
    k = torch.randn(B, TK, E, dtype=torch.float64, requires_grad=True)
    v = torch.randn(B, TK, E, dtype=torch.float64, requires_grad=True)
    lengths = [4, 2]
    attn_mask = torch.zeros(TQ, TK, dtype=torch.float64)
    attn_mask[0, 1] = NEG  # query 0 may not see key 1
    out, w = m(q, k, v, key_padding_mask=padding_bool(lengths, TK), attn_mask=attn_mask, need_weights=True)
    r1 = torch.randn_like(out)
    r2 = torch.randn_like(w)
    loss = (out * r1).sum() + (w * r2).sum()
    loss.backward()
    mask = additive_padding(lengths, TQ, TK) + attn_mask
    save(ATTENTION, "mha", dict(params_and_grads(m), **{
        "input.q": q, "input.k": k, "input.v": v, "input.mask": mask,
        "grad_input.q": q.grad, "grad_input.k": k.grad, "grad_input.v": v.grad,
        "r.out": r1, "r.weights": r2, "out": out, "weights": w, "loss": loss.reshape(1),
    }))


def encoder_case(name, norm_first, activation):
    torch.manual_seed(11)
    E, H, FF, B, T = 8, 2, 16, 2, 5
    layer = torch.nn.TransformerEncoderLayer(E, H, FF, dropout=0.0, activation=activation,
                                             batch_first=True, norm_first=norm_first).double()
    with torch.no_grad():
        for p in layer.parameters():
            if p.dim() == 1:
                p.normal_(0, 0.1)
        layer.norm1.weight.normal_(1, 0.1)
        layer.norm2.weight.normal_(1, 0.1)
    layer.train()
    x = torch.randn(B, T, E, dtype=torch.float64, requires_grad=True)
    lengths = [5, 3]
    out = layer(x, src_key_padding_mask=padding_bool(lengths, T))
    r = torch.randn_like(out)
    loss = (out * r).sum()
    loss.backward()
    save(TRANSFORMER, name, dict(params_and_grads(layer), **{
        "input.x": x, "input.mask": additive_padding(lengths, T, T), "grad_input.x": x.grad,
        "r.out": r, "out": out, "loss": loss.reshape(1),
    }))


def decoder_case(name, norm_first):
    torch.manual_seed(13)
    E, H, FF, B, T, S = 8, 2, 16, 2, 4, 5
    layer = torch.nn.TransformerDecoderLayer(E, H, FF, dropout=0.0, batch_first=True,
                                             norm_first=norm_first).double()
    with torch.no_grad():
        for p in layer.parameters():
            if p.dim() == 1:
                p.normal_(0, 0.1)
        for n in (layer.norm1, layer.norm2, layer.norm3):
            n.weight.normal_(1, 0.1)
    layer.train()
    x = torch.randn(B, T, E, dtype=torch.float64, requires_grad=True)
    mem = torch.randn(B, S, E, dtype=torch.float64, requires_grad=True)
    tgt_len, src_len = [4, 3], [5, 2]
    causal = torch.triu(torch.full((T, T), NEG, dtype=torch.float64), diagonal=1)
    out = layer(x, mem, tgt_mask=causal, tgt_key_padding_mask=padding_bool(tgt_len, T),
                memory_key_padding_mask=padding_bool(src_len, S))
    r = torch.randn_like(out)
    loss = (out * r).sum()
    loss.backward()
    save(TRANSFORMER, name, dict(params_and_grads(layer), **{
        "input.x": x, "input.memory": mem,
        "input.self_mask": additive_padding(tgt_len, T, T) + causal,
        "input.memory_mask": additive_padding(src_len, T, S),
        "grad_input.x": x.grad, "grad_input.memory": mem.grad,
        "r.out": r, "out": out, "loss": loss.reshape(1),
    }))


os.makedirs(ATTENTION, exist_ok=True)
os.makedirs(TRANSFORMER, exist_ok=True)
mha_case()
encoder_case("encoder_post_relu", False, "relu")
encoder_case("encoder_pre_gelu", True, "gelu")
decoder_case("decoder_post", False)
decoder_case("decoder_pre", True)
print("torch", torch.__version__)
