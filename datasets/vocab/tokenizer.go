package vocab

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Tokenizer splits text into tokens and, where the tokenizer allows it, joins
// tokens back into text.
//
// Tokenize never returns empty tokens, and every token is valid UTF-8: bytes of
// the input that are not valid UTF-8 become U+FFFD (the replacement character).
// How faithful Detokenize is depends on the tokenizer; each documents its own
// round-trip guarantee.
type Tokenizer interface {
	// Tokenize splits s into tokens.
	Tokenize(s string) []string
	// Detokenize joins tokens back into text.
	Detokenize(tokens []string) string
}

// CharTokenizer splits text into Unicode code points (runes), keeping every
// character, whitespace included. For valid UTF-8 input,
// Detokenize(Tokenize(s)) == s.
type CharTokenizer struct{}

// Tokenize returns the runes of s, one string each; an invalid byte becomes
// "\uFFFD".
func (CharTokenizer) Tokenize(s string) []string {
	out := make([]string, 0, utf8.RuneCountInString(s))
	for _, r := range s {
		out = append(out, string(r))
	}
	return out
}

// Detokenize concatenates the tokens.
func (CharTokenizer) Detokenize(tokens []string) string {
	return strings.Join(tokens, "")
}

// WordTokenizer splits text into words and punctuation using Unicode character
// classes:
//
//   - whitespace separates tokens and is dropped, and so are control characters;
//   - a word is a maximal run of letters, combining marks and numbers (any
//     script), which also keeps inside it an apostrophe (' or U+2019) between a
//     letter and a letter ("don't", "O'Neill", "rock'n'roll"), a hyphen (- or
//     U+2010) between two word characters ("t-shirt", "covid-19") unless
//     SplitHyphens is set, and a full stop or comma between two digits ("3.5",
//     "1,000");
//   - every other character (punctuation, symbols, emoji) is a token of its own,
//     together with any combining marks that follow it (such as the emoji
//     variation selector U+FE0F).
//
// Contractions and possessives stay whole ("it's", "man's"); a trailing
// apostrophe ("dogs'") is a separate token. With Lower, tokens are lowercased
// with Unicode case mapping.
//
// Detokenize is approximate, since the spacing of the input is not kept, but it
// is stable: Tokenize(Detokenize(Tokenize(s))) == Tokenize(s) for every s.
type WordTokenizer struct {
	// Lower lowercases every token.
	Lower bool
	// SplitHyphens makes a hyphen between word characters a token of its own.
	SplitHyphens bool
}

func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsMark(r) || unicode.IsNumber(r)
}

// joins reports whether c, between prev and next, stays inside a word.
func (w WordTokenizer) joins(prev, c, next rune) bool {
	switch c {
	case '\'', '\u2019':
		return (unicode.IsLetter(prev) || unicode.IsMark(prev)) && unicode.IsLetter(next)
	case '-', '\u2010':
		return !w.SplitHyphens && isWordRune(prev) && isWordRune(next)
	case '.', ',':
		return unicode.IsDigit(prev) && unicode.IsDigit(next)
	}
	return false
}

// Tokenize splits s into words and punctuation.
func (w WordTokenizer) Tokenize(s string) []string {
	rs := []rune(s) // invalid bytes decode to U+FFFD
	var out []string
	emit := func(t []rune) {
		tok := string(t)
		if w.Lower {
			tok = strings.ToLower(tok)
		}
		out = append(out, tok)
	}
	for i := 0; i < len(rs); {
		r := rs[i]
		switch {
		case unicode.IsSpace(r) || unicode.IsControl(r):
			i++
		case isWordRune(r):
			j := i + 1
			for j < len(rs) {
				if isWordRune(rs[j]) {
					j++
					continue
				}
				if j+1 < len(rs) && w.joins(rs[j-1], rs[j], rs[j+1]) {
					j += 2
					continue
				}
				break
			}
			emit(rs[i:j])
			i = j
		default:
			j := i + 1
			for j < len(rs) && unicode.IsMark(rs[j]) {
				j++ // a variation selector or accent stays with its symbol
			}
			emit(rs[i:j])
			i = j
		}
	}
	return out
}

// closers are tokens written without a space before them, openers tokens written
// without a space after them, by WordTokenizer.Detokenize. None of them can join
// two neighbouring tokens into one word, which keeps Detokenize stable.
var (
	closers = map[string]bool{
		".": true, ",": true, "!": true, "?": true, ";": true, ":": true, ")": true,
		"]": true, "}": true, "%": true, "\u00bb": true, "\u201d": true, "\u2026": true,
	}
	openers = map[string]bool{
		"(": true, "[": true, "{": true, "\u00ab": true, "\u201c": true, "\u00bf": true,
		"\u00a1": true,
	}
)

// Detokenize joins tokens with single spaces, except that no space is written
// before closing punctuation (. , ! ? ; : ) ] } % and similar) or after opening
// punctuation (( [ { and similar); straight double quotes alternate between
// opening and closing. A token that starts with a combining mark always gets a
// space before it.
func (w WordTokenizer) Detokenize(tokens []string) string {
	var b strings.Builder
	glueNext := false
	quotes := 0
	for _, t := range tokens {
		opening, closing := openers[t], closers[t]
		if t == "\"" {
			opening, closing = quotes%2 == 0, quotes%2 == 1
			quotes++
		}
		first, _ := utf8.DecodeRuneInString(t)
		// A leading combining mark would attach to an opener before it.
		if b.Len() > 0 && (!glueNext && !closing || glueNext && unicode.IsMark(first)) {
			b.WriteByte(' ')
		}
		b.WriteString(t)
		glueNext = opening
	}
	return b.String()
}
