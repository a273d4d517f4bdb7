// Package transformer implements the encoder-decoder Transformer of Vaswani et
// al. (2017) as static graphs: its layers, positions, the model, its compiled
// programs and a step decoder.
//
// EncoderLayer and DecoderLayer are torch.nn.TransformerEncoderLayer and
// TransformerDecoderLayer (batch first), built on attention.MultiHead: each
// sub-layer f (self-attention, attention over the encoder's memory, the
// feed-forward block FFN(x) = W_2 act(W_1 x + b_1) + b_2 with a ReLU or GELU)
// is post-LN, as in the paper,
//
//	x <- LayerNorm(x + Dropout(f(x)))
//
// or pre-LN (Xiong et al. 2020), x <- x + Dropout(f(LayerNorm(x))). Positions
// are the sinusoids of sec. 3.5,
//
//	PE(pos, 2i) = sin(pos / 10000^(2i/d)),   PE(pos, 2i+1) = cos(pos / 10000^(2i/d))
//
// or a learned table (Gehring et al. 2017). Model assembles the encoder-decoder:
// embeddings scaled by sqrt(d) plus positions (sec. 3.4-3.5), each stack ending
// with a layer norm as torch.nn.Transformer's, optionally shared source and
// target embeddings and an output layer tied to the target embedding (Press and
// Wolf 2017); its loss is the mean cross-entropy per target token, EOS included,
// optionally label-smoothed.
//
// By default every sub-layer, the input layer and the output layer with its loss
// are each one fused node (fused_*.go) computing the same function as the
// reference form of separate nodes (Config.Unfused), and drawing the same
// dropout masks from the program's noise stream; both are checked against each
// other, against float64 numeric gradients and, layer by layer, against
// PyTorch on shared weights (scripts/fixtures_attention.py).
//
// Decoder runs a trained model one token at a time for decode.Greedy and
// decode.BeamSearch: the encoder once per batch of sources, with the keys and
// values of the memory for every decoder layer's cross-attention, then a
// one-step graph with static shapes that feeds one new position per row and
// attends over the keys and values of the earlier ones, kept in a key/value
// cache per layer (attention.KVCache, shared with models/gpt's generator).
// Decoder.Recompute keeps the reference: a one-step graph that recomputes the
// decoder over the whole prefix, padded and causally masked, and picks the
// current position; both give the same tokens (decoder_test.go).
package transformer
