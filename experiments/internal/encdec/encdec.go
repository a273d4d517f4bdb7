// Package encdec holds the settings that the encoder-decoder experiments
// (demo, summarize, translate) share: the sizes of the recurrent network with
// attention and of the Transformer, and beam search's. Each is a struct to
// embed in an experiment's config, so that a setting has one json key, one flag
// and one meaning in every experiment; the embedding field's help.KEY tags word
// the help texts for the experiment (see train.BindFlags).
package encdec

// RNN is the size of a bidirectional recurrent encoder and its attention
// decoder (models/seq2seq, models/pointer).
type RNN struct {
	Embed   int `json:"embed" help:"embedding width"`
	Hidden  int `json:"hidden" help:"encoder units per direction (the decoder has twice as many)"`
	AttnDim int `json:"attn_dim" help:"width of the additive attention (0: the decoder's)"`
}

// Transformer is the size of an encoder-decoder Transformer: Layers layers in
// each stack.
type Transformer struct {
	Dim    int `json:"dim" help:"transformer: model width d_model"`
	Heads  int `json:"heads" help:"transformer: attention heads"`
	FF     int `json:"ff" help:"transformer: feed-forward width"`
	Layers int `json:"layers" help:"transformer: encoder and decoder layers"`
}

// BeamSearch is the beam of the final evaluation and its length penalty; both
// experiments that have it once called the penalty alpha, which config files
// may still use.
type BeamSearch struct {
	Beam          int     `json:"beam" help:"beam size of the final evaluation"`
	LengthPenalty float64 `json:"length_penalty" alias:"alpha" help:"beam search: length-penalty exponent alpha, lp = ((5+|Y|)/6)^alpha (Wu et al. 2016)"`
}
