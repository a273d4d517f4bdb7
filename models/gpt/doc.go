// Package gpt implements a GPT-2-style decoder-only Transformer language model
// (Radford et al. 2019, "Language Models are Unsupervised Multitask
// Learners") as static graphs, and generation with a key/value cache.
//
// The model, for token ids x_1..x_T,
//
//	h_0 = wte[x_t] + wpe[t]                          (dropout)
//	h   = h + attn(ln_1(h))                          for each of the Layers blocks
//	h   = h + mlp(ln_2(h))
//	logits = ln_f(h) wte^T                           (the output layer tied to wte)
//
// with pre-LayerNorm blocks, causal multi-head self-attention whose queries,
// keys and values come from one fused projection (c_attn, E -> 3E), an output
// projection (c_proj), and an MLP c_proj(gelu(c_fc(x))) four times as wide,
// with GPT-2's tanh approximation of the GELU. Dropout applies to the
// embeddings, the attention weights and each residual branch; Config.Bias
// false drops every bias (linear layers and layer norms).
//
// Parameters carry Hugging Face's GPT-2 names and layouts, linear weights
// stored (in, out) as GPT-2's Conv1D:
//
//	transformer.wte.weight (V, E), transformer.wpe.weight (T, E),
//	transformer.h.N.ln_1.{weight,bias} (E), .attn.c_attn.{weight (E, 3E), bias (3E)},
//	.attn.c_proj.{weight (E, E), bias}, .ln_2, .mlp.c_fc.{weight (E, 4E), bias},
//	.mlp.c_proj.{weight (4E, E), bias}, transformer.ln_f.{weight,bias}
//
// and Model.LoadFile reads a GPT-2 safetensors state dict as it is (with or
// without the transformer. prefix, lm_head.weight tied or absent, the
// causal-mask buffers skipped).
//
// Build compiles a training or evaluation program of token ids and targets
// (B, T): the logits and the mean cross-entropy of the next token. Generator
// continues prompts: the prompt in one pass, then one position per step
// against a cache of every layer's keys and values (attention.KVCache, which
// the Transformer's step decoder shares; the reasons are on Generator), greedily or by sampling with a
// temperature, top-k and top-p, until an end token, a stop string or a length;
// a batch of prompts of unequal lengths is left-padded and masked.
//
// The model's own kernels (kernels.go) are the Conv1D product, the residual
// sum, the tanh GELU, a layer norm without bias and causal attention over the
// fused projection; each is checked against float64
// numeric gradients, and the whole model against a GPT-2 written in PyTorch
// (scripts/fixtures_gpt.py).
package gpt
