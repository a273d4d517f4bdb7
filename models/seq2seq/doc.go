// Package seq2seq implements the recurrent encoder-decoder with attention
// (Bahdanau, Cho and Bengio 2015) as static graphs, and the pieces other
// sequence-to-sequence models build on: padded batches of pairs, the decoder
// step, and the step decoder that runs a trained model one token at a time.
//
// Model encodes the embedded source x_1..x_S with a GRU or LSTM stack (models/rnn;
// bidirectional or not) into a memory m_1..m_S, starts the decoder from
// s_0 = tanh(W_b [h_fwd; h_bwd] + b_b) (and c_0 likewise for an LSTM) and at
// step t, with e(y_{t-1}) the embedded previous target token,
//
//	c_t, a_t = attention(s_{t-1}, m)                 (models/attention: additive or multiplicative)
//	s_t      = cell([e(y_{t-1}); c_t], s_{t-1})
//	o_t      = tanh(W_p [s_t; c_t; e(y_{t-1})] + b_p)
//	p(y_t)   = softmax(W_g o_t + b_g)
//
// (Bahdanau et al. 2015, with the deep output's maxout replaced by tanh). The
// loss is the mean cross-entropy per target token, EOS included, optionally
// label-smoothed. Teacher-forced graphs are unrolled over the source and the
// target and padded to static shapes with masks (Pad lays a batch out). Each
// side's tokens come in as one time-major input, looked up once: the gradient
// of the embedding table is then one table, where a lookup per step would
// hold one table per step until their sum. PairProgram is what every sequence-to-sequence model's
// compiled program offers a training loop.
//
// DecoderStep is one step of such a decoder, in Bahdanau order or, StateFirst,
// in the order of Luong, Pham and Manning (2015) and See, Liu and Manning (2017),
// s_t = cell([e(y_{t-1}); c_{t-1}], s_{t-1}) then c_t, a_t = attention(s_t, m);
// models/pointer builds its decoder on it.
//
// Decoder runs any Net (Model, the pointer-generator) for decoding: the encoder
// once per batch of sources, then a one-step graph that shares the trained
// weights and takes the memory, the attention keys and the state as inputs. It
// implements decode.StepModel, so decode.Greedy and decode.BeamSearch decode
// with it.
package seq2seq
