// Package attention implements attention itself as static graphs: masks, scaled
// dot-product and multi-head attention, and the additive and multiplicative
// attentions of recurrent decoders.
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
// Multi-head attention (sec. 3.2.2)
//
//	head_i = Attention(Q W_q,i, K W_k,i, V W_v,i),   out = [head_1; ..; head_h] W_o
//
// projects queries, keys and values with one packed (3E, E) matrix, attends in
// h heads of width E/h and projects the concatenated heads back; its parameters
// carry torch.nn.MultiheadAttention's names (in_proj_weight, in_proj_bias,
// out_proj.weight, out_proj.bias). models/transformer builds its layers on it.
//
// For recurrent decoders (models/seq2seq), Additive is the score of Bahdanau,
// Cho and Bengio (2015), appendix A.1.2,
//
//	e_bs = v^T tanh(W_q q_b + W_k m_bs + b_k)
//
// and Multiplicative the dot and general scores of Luong, Pham and Manning
// (2015), sec. 3.1, e_bs = q_b^T m_bs and q_b^T W_a m_bs; they map a query
// (B, H) over a memory (B, S, H) with a (B, S) padding mask to the weights
// a_b = softmax_s(e_b + mask_b) (B, S) and the context c_b = sum_s a_bs m_bs
// (B, H). Keys computes the memory's side of the score once per source, so that
// a one-step decoding graph takes it as an input.
//
// For incremental decoding (models/gpt's generator, models/transformer's
// Decoder), KVCache keeps the keys and values of the positions fed so far,
// outside the graph, and CachedAttention (AttendCached) appends the new
// positions' and attends over the cached ones, so that a step costs one
// position of computation instead of the whole prefix.
//
// Everything is built from the package's own kernels (kernels.go): batched
// matrix products, head splitting, masks, additive scores, context sums, with
// float64 gradient checks and parity with PyTorch on shared weights
// (scripts/fixtures_attention.py).
package attention
