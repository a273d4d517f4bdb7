package demo

import "strings"

// charVocab maps characters to ids after the special tokens pad, BOS, EOS and
// unknown (the ids of tokens and unk).
type charVocab struct {
	chars []rune
	ids   map[rune]int
}

// unk is the id of a character outside the vocabulary.
const unk = 3

func newCharVocab(chars string) charVocab {
	v := charVocab{ids: map[rune]int{}}
	for _, r := range chars {
		if _, ok := v.ids[r]; !ok {
			v.ids[r] = 4 + len(v.chars)
			v.chars = append(v.chars, r)
		}
	}
	return v
}

func (v charVocab) size() int { return 4 + len(v.chars) }

func (v charVocab) encode(s string) []int {
	out := make([]int, 0, len(s))
	for _, r := range s {
		id, ok := v.ids[r]
		if !ok {
			id = unk
		}
		out = append(out, id)
	}
	return out
}

// decode writes '?' for an id that is no character (a special token).
func (v charVocab) decode(ids []int) string {
	var b strings.Builder
	for _, id := range ids {
		if id >= 4 && id-4 < len(v.chars) {
			b.WriteRune(v.chars[id-4])
		} else {
			b.WriteRune('?')
		}
	}
	return b.String()
}
