// Package pointer implements the pointer-generator network of See, Liu and
// Manning (2017), "Get To The Point: Summarization with Pointer-Generator
// Networks", sec. 2.2, as static graphs: a sequence-to-sequence model with
// attention that can also copy words of its source, including words outside its
// vocabulary.
//
// The encoder is a bidirectional GRU over the embedded source (models/rnn's
// fused kernels), giving a memory h_1..h_S of width 2H; the decoder starts from
// s_0 = tanh(W_b [h_fwd; h_bwd] + b_b) and c_0 = 0, and at step t, with x_t the
// embedding of the previous target word, in the paper's order (Config.StateFirst)
//
//	s_t     = GRU([x_t; c_{t-1}], s_{t-1})
//	a_t     = softmax_i(v^T tanh(W_h h_i + W_s s_t + b_attn))    (masked on padding)
//	c_t     = sum_i a_t,i h_i
//	P_vocab = softmax(W_g tanh(W_p [s_t; c_t; x_t] + b_p) + b_g)
//	p_gen   = sigmoid(w_c^T c_t + w_s^T s_t + w_x^T x_t + b_ptr)
//	P(w)    = p_gen P_vocab(w) + (1 - p_gen) sum_{i: w_i = w} a_t,i
//
// so that the attention which decides what to copy has read the word just
// written. Without StateFirst the decoder runs in Bahdanau order, as
// seq2seq.Model: a_t and c_t from s_{t-1}, then s_t = GRU([x_t; c_t],
// s_{t-1}); the parameters are the same. Both orders are seq2seq.DecoderStep.
//
// P is a distribution over the extended vocabulary: the V words of the fixed
// vocabulary and the source's out-of-vocabulary words, numbered V, V+1, ... per
// source (ExtendSource, ExtendTarget). Such a word has P_vocab = 0 and can only be
// copied; the decoder reads it back as the unknown word. The loss is the mean of
// -log P(w*_t) over the real (unpadded) target tokens, EOS included. In
// plain-attention mode (Config.Copy false) p_gen is fixed to 1, P = P_vocab over
// the fixed vocabulary, out-of-vocabulary targets are the unknown word, and the
// model is seq2seq.Model (bidirectional GRU, Bahdanau attention) with its
// parameter names. Coverage (sec. 2.3) is not implemented.
//
// The mixture, a scatter of the attention weights onto the extended vocabulary
// added to the vocabulary distribution, is one kernel of the package's own
// (Mixture) that computes -log P(w*) without materialising the extended
// distribution, with its own backward pass and a float64 gradient check.
// Training graphs are unrolled over the target length with one input node per
// step and padded to static shapes with masks; the encoder, teacher-forced and
// one-step decoding graphs share the store's weights.
//
// Decoder is a seq2seq.Decoder over the model's encoder and one-step graphs
// that maps fed-back extended ids to Unk and mixes the copy distribution into
// every step's log-probabilities, so that decode.Greedy and decode.BeamSearch
// (with their length penalty, n-gram blocking and forbidden tokens, such as the
// unknown word, which a pointer-generator can replace by a copy) decode with it
// over extended ids.
//
// Options beyond the paper: ShareEmbeddings (one table for both sides) and
// TieOutput (the output layer's weight is the target embedding table).
package pointer
