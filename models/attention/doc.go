// Package attention implements attention and Transformers as static graphs.
//
// Scaled dot-product attention (Vaswani et al. 2017, eq. 1)
//
//	Attention(Q, K, V) = softmax(Q K^T / sqrt(d_k) + M) V
//
// with an additive mask M (0 to keep a key, MaskValue to exclude it): an excluded
// key gets exactly zero weight and no gradient, and a query whose keys are all
// excluded gets zero weights and a zero output instead of NaN (graph.SoftMax).
// KeepMask, PaddingMask, CausalMask and AttentionMask build masks from sequence
// lengths, outside or inside a graph.
//
// Multi-head attention (sec. 3.2.2) projects queries, keys and values with one
// packed (3E, E) matrix, attends in h heads of width E/h and projects the
// concatenated heads back; its parameters carry torch.nn.MultiheadAttention's
// names (in_proj_weight, in_proj_bias, out_proj.weight, out_proj.bias).
// EncoderLayer and DecoderLayer are torch.nn.TransformerEncoderLayer and
// TransformerDecoderLayer (batch first): post-LN, norm(x + dropout(f(x))), as in
// the paper, or pre-LN, x + dropout(f(norm(x))) (Xiong et al. 2020), with a
// ReLU or GELU feed-forward block. Positions are the sinusoids of sec. 3.5
// (PE(pos, 2i) = sin(pos/10000^(2i/d)), PE(pos, 2i+1) = cos(...)) or a learned
// table. Transformer assembles an encoder-decoder with optionally shared source
// and target embeddings and an output layer tied to the target embedding.
//
// For recurrent decoders, Additive is Bahdanau et al.'s (2015) score
// v^T tanh(W_q q + W_k m) and Multiplicative Luong et al.'s (2015) dot and
// general scores q^T m and q^T W m; they map a query (B, H) over a memory (B, S, H)
// with a (B, S) padding mask to a context (B, H) and weights (B, S). Seq2Seq is a
// GRU or LSTM encoder-decoder (models/rnn) with one of them.
//
// Decoding runs a one-step graph that shares the trained weights, the encoder run
// once per batch of sources (StepModel): Greedy, and BeamSearch with the length
// penalty of Wu et al. (2016), lp(Y) = ((5+|Y|)/6)^alpha. The Transformer's
// one-step graph keeps static shapes by recomputing the decoder over the whole
// prefix, padded to the model's maximum length and causally masked, and picking
// the current position. Attention weights are graph outputs of every program and
// every decoding step; Heatmap draws them.
//
// Everything is built from the project's own kernels (kernels.go): batched
// matrix products, head splitting, masked softmax, additive scores, context
// sums, with float64 gradient checks and parity with PyTorch on shared weights
// (scripts/fixtures_attention.py).
package attention
