// Package classify implements sentence classifiers: an embedding layer, an
// encoder that turns the token vectors into one vector per sentence, and a linear
// layer that turns that vector into class logits, trained with cross-entropy.
//
// Two encoders are provided.
//
// The bidirectional recurrent encoder with self-attentive pooling (Lin et al.
// 2017, "A Structured Self-attentive Sentence Embedding", ICLR 2017, with a
// single attention hop, r = 1) reads the embedded tokens x_1..x_T with a
// bidirectional LSTM or GRU (package rnn) into states h_t = [h_t^fwd; h_t^bwd]
// of width 2H and summarises them with a learned attention over the steps:
//
//	a = softmax_t(w_2^T tanh(W_1 h_t) + m_t),   pooled = sum_t a_t h_t
//
// with W_1 (d_a, 2H) and w_2 (d_a) free of biases as in the paper, and m_t = 0
// on real tokens and -1e9 on padding, so that a padded position gets a weight of
// exactly zero (graph.SoftMax excludes it) and padding changes nothing.
//
// The Transformer encoder (Vaswani et al. 2017) embeds the tokens, scales them
// by sqrt(d), adds the sinusoidal positions of sec. 3.5 and applies L encoder
// layers of package transformer with a padding mask on the keys. The sentence
// vector is the mean of the outputs over the real tokens, or the output at the
// first position, where a <bos> token is prepended to every sentence as BERT's
// [CLS] is (Devlin et al. 2019).
//
// Both poolings are one weighted sum, pooled_b = sum_t w_bt h_bt (WeightedSum),
// with learned weights for the recurrent encoder and fixed ones (1/length on the
// real tokens, or one-hot on the first) for the Transformer. The weights an
// evaluation program reports per token are the pooling attention for the
// recurrent encoder and, for the Transformer, the last layer's self-attention
// (averaged over heads) of the pooled positions: sum_q w_bq A_bqk.
//
// Dropout (inverted, drawn from the program's noise stream) applies to the
// embeddings and to the sentence vector before the output layer, and inside the
// Transformer's layers.
//
// Parameters, named as PyTorch modules would name them: embed.weight, rnn.*
// (torch.nn.LSTM/GRU names), pool.w1.weight, pool.w2.weight,
// encoder.layers.N.* (torch.nn.TransformerEncoderLayer names), out.weight,
// out.bias.
package classify
