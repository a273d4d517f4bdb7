package vocab

import (
	"sort"
	"unicode/utf8"

	"github.com/pkg/errors"
)

// Special tokens and their fixed ids, the same in every Vocab.
const (
	Pad = "<pad>" // padding
	Unk = "<unk>" // any token not in the vocabulary
	BOS = "<bos>" // beginning of sequence
	EOS = "<eos>" // end of sequence

	PadID = 0 // id of Pad
	UnkID = 1 // id of Unk
	BOSID = 2 // id of BOS
	EOSID = 3 // id of EOS

	// NumSpecial is the number of special tokens; ordinary tokens have ids from
	// NumSpecial on.
	NumSpecial = 4
)

var specials = [NumSpecial]string{Pad, Unk, BOS, EOS}

// IsSpecial reports whether tok is one of the special tokens.
func IsSpecial(tok string) bool {
	for _, s := range specials {
		if tok == s {
			return true
		}
	}
	return false
}

// Vocab is a bijection between tokens and ids 0..Len()-1. Ids 0 to 3 are Pad,
// Unk, BOS and EOS. A Vocab is immutable and safe for concurrent use.
type Vocab struct {
	tokens []string
	ids    map[string]int
}

// BuildOptions configures Build.
type BuildOptions struct {
	// MinFreq is the smallest count a token needs to enter the vocabulary
	// (values below 1 mean 1).
	MinFreq int
	// MaxSize, when positive, caps the vocabulary size, the four special tokens
	// included; it must then be at least NumSpecial.
	MaxSize int
}

// Build makes a vocabulary from token counts: the special tokens, then every
// token counted at least opt.MinFreq times, ordered by count (descending) and
// then by token (ascending bytes), cut to opt.MaxSize. Counts of the special
// token strings themselves are ignored, since those map to the special ids.
// Tokens must be non-empty valid UTF-8 and counts not negative.
func Build(counts map[string]int, opt BuildOptions) (*Vocab, error) {
	if opt.MaxSize > 0 && opt.MaxSize < NumSpecial {
		return nil, errors.Errorf("vocab: MaxSize %d is smaller than the %d special tokens", opt.MaxSize, NumSpecial)
	}
	minFreq := max(opt.MinFreq, 1)
	type tc struct {
		tok string
		n   int
	}
	var kept []tc
	for tok, n := range counts {
		switch {
		case n < 0:
			return nil, errors.Errorf("vocab: token %q has negative count %d", tok, n)
		case tok == "" || !utf8.ValidString(tok):
			return nil, errors.Errorf("vocab: token %q is empty or not valid UTF-8", tok)
		case IsSpecial(tok) || n < minFreq:
			continue
		}
		kept = append(kept, tc{tok, n})
	}
	sort.Slice(kept, func(i, j int) bool {
		if kept[i].n != kept[j].n {
			return kept[i].n > kept[j].n
		}
		return kept[i].tok < kept[j].tok
	})
	if opt.MaxSize > 0 && len(kept) > opt.MaxSize-NumSpecial {
		kept = kept[:opt.MaxSize-NumSpecial]
	}
	tokens := make([]string, 0, NumSpecial+len(kept))
	tokens = append(tokens, specials[:]...)
	for _, k := range kept {
		tokens = append(tokens, k.tok)
	}
	return fromTokens(tokens)
}

// New makes a vocabulary whose ordinary tokens are tokens, in this order, with
// ids from NumSpecial on. Tokens must be non-empty valid UTF-8, distinct, and
// not special tokens.
func New(tokens []string) (*Vocab, error) {
	all := make([]string, 0, NumSpecial+len(tokens))
	all = append(all, specials[:]...)
	all = append(all, tokens...)
	v, err := fromTokens(all)
	return v, errors.Wrap(err, "vocab")
}

// fromTokens checks a complete token list (specials first) and indexes it.
func fromTokens(tokens []string) (*Vocab, error) {
	if len(tokens) < NumSpecial {
		return nil, errors.Errorf("has %d tokens, fewer than the %d special tokens", len(tokens), NumSpecial)
	}
	for i, s := range specials {
		if tokens[i] != s {
			return nil, errors.Errorf("token %d is %q, want the special token %q", i, tokens[i], s)
		}
	}
	ids := make(map[string]int, len(tokens))
	for i, t := range tokens {
		if t == "" || !utf8.ValidString(t) {
			return nil, errors.Errorf("token %d (%q) is empty or not valid UTF-8", i, t)
		}
		if j, dup := ids[t]; dup {
			return nil, errors.Errorf("duplicate token %q at ids %d and %d", t, j, i)
		}
		ids[t] = i
	}
	return &Vocab{tokens: append([]string(nil), tokens...), ids: ids}, nil
}

// Len returns the number of tokens, special tokens included.
func (v *Vocab) Len() int { return len(v.tokens) }

// Tokens returns a copy of all tokens in id order.
func (v *Vocab) Tokens() []string { return append([]string(nil), v.tokens...) }

// ID returns the id of tok and whether tok is in the vocabulary.
func (v *Vocab) ID(tok string) (int, bool) {
	id, ok := v.ids[tok]
	return id, ok
}

// Token returns the token with id id, and false when id is out of range.
func (v *Vocab) Token(id int) (string, bool) {
	if id < 0 || id >= len(v.tokens) {
		return "", false
	}
	return v.tokens[id], true
}

// Encode maps tokens to ids; tokens not in the vocabulary become UnkID.
func (v *Vocab) Encode(tokens []string) []int {
	out := make([]int, len(tokens))
	for i, t := range tokens {
		if id, ok := v.ids[t]; ok {
			out[i] = id
		} else {
			out[i] = UnkID
		}
	}
	return out
}

// Decode maps ids to tokens; ids out of range become Unk. For tokens all in
// the vocabulary, Decode(Encode(tokens)) equals tokens.
func (v *Vocab) Decode(ids []int) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		if id >= 0 && id < len(v.tokens) {
			out[i] = v.tokens[id]
		} else {
			out[i] = Unk
		}
	}
	return out
}

// StripSpecials returns the ids of a generated or padded sequence without its
// decorations: everything from the first EOSID on is dropped, and so are BOSID
// and PadID. UnkID is kept.
func StripSpecials(ids []int) []int {
	out := make([]int, 0, len(ids))
	for _, id := range ids {
		if id == EOSID {
			break
		}
		if id != BOSID && id != PadID {
			out = append(out, id)
		}
	}
	return out
}

// CountTokens tokenizes every line with tok and counts the tokens.
func CountTokens(tok Tokenizer, lines []string) map[string]int {
	counts := make(map[string]int)
	for _, l := range lines {
		for _, t := range tok.Tokenize(l) {
			counts[t]++
		}
	}
	return counts
}
