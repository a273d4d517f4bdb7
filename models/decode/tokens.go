package decode

// Tokens are the special token ids of a vocabulary: padding, the unknown word,
// the start of a sequence (BOS) and its end (EOS). A model reads only those it
// needs.
type Tokens struct {
	Pad, Unk, BOS, EOS int
}
