package vocab

import (
	"unicode"
	"unicode/utf8"
)

// GPT-2's pre-tokenizer splits text into pieces before byte-pair encoding, so
// that merges never cross a piece boundary. The GPT-2 paper (Radford et al.
// 2019, "Language Models are Unsupervised Multitask Learners", section 2.2)
// describes it, and openai/gpt-2's src/encoder.py defines it as the regular
// expression
//
//	's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//
// run with Python's `regex` module: at each position the first alternative
// that matches wins, and each quantifier is greedy. Go's regexp has no
// lookahead, so gpt2PieceEnd below follows that expression by hand:
//
//  1. An ASCII apostrophe followed by s, t, re, ve, m, ll or d (lowercase
//     only) is a piece of its own. Typographic apostrophes are punctuation.
//  2. A run of letters, a run of numbers, or a run of characters that are
//     neither letters, numbers nor white space, each optionally preceded by
//     one U+0020 space.
//  3. A run of white space that reaches the end of the text is one piece.
//     Otherwise, when the run holds two or more characters, the piece stops
//     before its last character, which then starts the next piece (" word"
//     after a space, a lone tab or newline otherwise); a run of one character
//     is a piece by itself.
//
// The character classes are those of encoder.py's `regex` module (Unicode
// 17.0, as in Node 20's regular expressions, which the tests' reference
// encoder uses):
//
//   - white space (\s) is the Unicode White_Space property, which is what Go's
//     unicode.IsSpace reports. (The JavaScript ports of the encoder differ on
//     two characters only: JavaScript's \s includes U+FEFF and excludes U+0085;
//     this splitter follows encoder.py.)
//   - letters (\p{L}) and numbers (\p{N}) are the general categories L and N:
//     Go's unicode tables (Unicode 15.0.0) plus gpt2NewLetters and
//     gpt2NewNumbers, the code points that Unicode 15.1 to 17.0 added to them.
//
// Bytes that are not valid UTF-8 cannot occur in encoder.py's input (a Python
// str); here each such byte counts as one character of the third class, as
// the replacement character U+FFFD would (it is a symbol), so every byte
// string splits into pieces that concatenate back to it.

// Character classes of the pre-tokenizer.
const (
	gpt2Other uint8 = iota
	gpt2Letter
	gpt2Number
	gpt2Space
)

// gpt2ASCII holds the class of each ASCII byte.
var gpt2ASCII = func() (t [utf8.RuneSelf]uint8) {
	for c := 0; c < utf8.RuneSelf; c++ {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
			t[c] = gpt2Letter
		case '0' <= c && c <= '9':
			t[c] = gpt2Number
		case c == ' ', '\t' <= c && c <= '\r':
			t[c] = gpt2Space
		default:
			t[c] = gpt2Other
		}
	}
	return t
}()

// gpt2NewLetters lists the letters (general category L) of Unicode 15.1 to
// 17.0 that Go's unicode tables (15.0.0) lack, from the Unicode Character
// Database. Characters Go already knows are not repeated.
var gpt2NewLetters = &unicode.RangeTable{
	R16: []unicode.Range16{
		{0x088f, 0x088f, 1}, {0x0c5c, 0x0c5c, 1}, {0x0cdc, 0x0cdc, 1}, {0x1c89, 0x1c8a, 1},
		{0xa7cb, 0xa7cf, 1}, {0xa7d2, 0xa7d2, 1}, {0xa7d4, 0xa7d4, 1}, {0xa7da, 0xa7dc, 1},
		{0xa7f1, 0xa7f1, 1},
	},
	R32: []unicode.Range32{
		{0x105c0, 0x105f3, 1}, {0x10940, 0x10959, 1}, {0x10d4a, 0x10d65, 1}, {0x10d6f, 0x10d85, 1},
		{0x10ec2, 0x10ec7, 1}, {0x11380, 0x11389, 1}, {0x1138b, 0x1138b, 1}, {0x1138e, 0x1138e, 1},
		{0x11390, 0x113b5, 1}, {0x113b7, 0x113b7, 1}, {0x113d1, 0x113d1, 1}, {0x113d3, 0x113d3, 1},
		{0x11bc0, 0x11be0, 1}, {0x11db0, 0x11ddb, 1}, {0x13460, 0x143fa, 1}, {0x16100, 0x1611d, 1},
		{0x16d40, 0x16d6c, 1}, {0x16ea0, 0x16eb8, 1}, {0x16ebb, 0x16ed3, 1}, {0x16ff2, 0x16ff3, 1},
		{0x187f8, 0x187ff, 1}, {0x18cff, 0x18cff, 1}, {0x18d09, 0x18d1e, 1}, {0x18d80, 0x18df2, 1},
		{0x1e5d0, 0x1e5ed, 1}, {0x1e5f0, 0x1e5f0, 1}, {0x1e6c0, 0x1e6de, 1}, {0x1e6e0, 0x1e6e2, 1},
		{0x1e6e4, 0x1e6e5, 1}, {0x1e6e7, 0x1e6ed, 1}, {0x1e6f0, 0x1e6f4, 1}, {0x1e6fe, 0x1e6ff, 1},
		{0x2b73a, 0x2b73f, 1}, {0x2cea2, 0x2cead, 1}, {0x2ebf0, 0x2ee5d, 1}, {0x323b0, 0x33479, 1},
	},
}

// gpt2NewNumbers lists the numbers (general category N) of Unicode 15.1 to
// 17.0 that Go's unicode tables (15.0.0) lack.
var gpt2NewNumbers = &unicode.RangeTable{
	R32: []unicode.Range32{
		{0x10d40, 0x10d49, 1}, {0x116d0, 0x116e3, 1}, {0x11bf0, 0x11bf9, 1}, {0x11de0, 0x11de9, 1},
		{0x16130, 0x16139, 1}, {0x16d70, 0x16d79, 1}, {0x16ff4, 0x16ff6, 1}, {0x1ccf0, 0x1ccf9, 1},
		{0x1e5f1, 0x1e5fa, 1},
	},
}

// gpt2RuneClass returns the pre-tokenizer's class of r.
func gpt2RuneClass(r rune) uint8 {
	switch {
	case r < utf8.RuneSelf:
		return gpt2ASCII[r]
	case unicode.IsLetter(r):
		return gpt2Letter
	case unicode.IsNumber(r):
		return gpt2Number
	case unicode.IsSpace(r):
		return gpt2Space
	case r >= 0x800 && unicode.Is(gpt2NewLetters, r):
		return gpt2Letter
	case r >= 0x10000 && unicode.Is(gpt2NewNumbers, r):
		return gpt2Number
	}
	return gpt2Other
}

// gpt2ClassAt returns the class and the width in bytes of the character at
// s[i], which must exist; a byte that does not start valid UTF-8 is one
// character of class gpt2Other.
func gpt2ClassAt(s string, i int) (uint8, int) {
	if c := s[i]; c < utf8.RuneSelf {
		return gpt2ASCII[c], 1
	}
	r, w := utf8.DecodeRuneInString(s[i:])
	if r == utf8.RuneError && w == 1 {
		return gpt2Other, 1
	}
	return gpt2RuneClass(r), w
}

// gpt2Contraction returns the length of the contraction suffix ("s", "t",
// "re", "ve", "m", "ll", "d") that rest starts with, or 0.
func gpt2Contraction(rest string) int {
	if rest == "" {
		return 0
	}
	switch rest[0] {
	case 's', 't', 'm', 'd':
		return 1
	case 'r', 'v':
		if len(rest) > 1 && rest[1] == 'e' {
			return 2
		}
	case 'l':
		if len(rest) > 1 && rest[1] == 'l' {
			return 2
		}
	}
	return 0
}

// gpt2RunEnd returns the end of the run of class cls that starts at i.
func gpt2RunEnd(s string, i int, cls uint8) int {
	for i < len(s) {
		c, w := gpt2ClassAt(s, i)
		if c != cls {
			break
		}
		i += w
	}
	return i
}

// gpt2PieceEnd returns the end of the pre-tokenizer piece that starts at s[i],
// i < len(s); the rules are in the comment at the top of this file.
func gpt2PieceEnd(s string, i int) int {
	if s[i] == '\'' {
		if n := gpt2Contraction(s[i+1:]); n > 0 {
			return i + 1 + n
		}
	}
	cls, w := gpt2ClassAt(s, i)
	if s[i] == ' ' && i+1 < len(s) {
		if next, nw := gpt2ClassAt(s, i+1); next != gpt2Space {
			return gpt2RunEnd(s, i+1+nw, next)
		}
	}
	if cls != gpt2Space {
		return gpt2RunEnd(s, i+w, cls)
	}
	last, j := i, i+w
	for j < len(s) {
		c, cw := gpt2ClassAt(s, j)
		if c != gpt2Space {
			break
		}
		last, j = j, j+cw
	}
	if j < len(s) && last > i {
		return last
	}
	return j
}

// GPT2PreTokenize splits text into the pieces that GPT-2's byte-pair encoding
// encodes one by one: contractions, runs of letters, of numbers or of other
// symbols (each with at most one leading space) and runs of white space, as
// openai/gpt-2's encoder.py splits a string. The pieces concatenate to text,
// whatever its bytes; bytes that are not valid UTF-8 count as symbols.
func GPT2PreTokenize(text string) []string {
	var pieces []string
	for i := 0; i < len(text); {
		j := gpt2PieceEnd(text, i)
		pieces = append(pieces, text[i:j])
		i = j
	}
	return pieces
}
