package metrics

import (
	"strings"
	"unicode"
)

// Tokenize13a splits a detokenised segment into tokens with the rules of the
// NIST mteval-v13a.pl script (its "tokenization" subroutine), which is also
// sacreBLEU's default '13a' tokeniser (sacrebleu/tokenizers/tokenizer_13a.py
// and tokenizer_re.py). The rules, applied in this order, are:
//
//  1. the tag "<skipped>" is deleted;
//  2. a hyphen at the end of a line ("-\n") is deleted, joining the lines;
//  3. every remaining "\n" becomes a space;
//  4. the entities &quot; &amp; &lt; &gt; become " & < > (one pass each, in
//     that order, so "&amp;lt;" ends as "<");
//  5. the line is padded with one space on each side;
//  6. each ASCII symbol in { | } ~ [ \ ] ^ _ ` space ! " # $ % & ( ) * + / :
//     ; < = > ? @ gets a space on both sides (the apostrophe, comma, hyphen
//     and period are not in this set);
//  7. a period or comma preceded by a non-digit is split off: "a." -> "a . ";
//  8. a period or comma followed by a non-digit is split off: ".a" -> " . a";
//  9. a hyphen preceded by a digit is split off: "3-" -> "3 - ";
//  10. the result is split on whitespace.
//
// Rules 7 to 9 each scan the line once from left to right and rewrite
// non-overlapping two-character matches, as a global regular-expression
// substitution does: "1.5" and "3,000" stay whole while "a.b" splits, and in
// "a..b" rule 7 splits off only the first period and rule 8 the second.
// Digits are the ASCII digits 0-9; characters outside ASCII are never split
// off. Whitespace in rule 10 is Python's str.split whitespace.
//
// Tokenize13a does not lowercase; SacreBLEU does that first when asked.
func Tokenize13a(line string) []string {
	line = strings.ReplaceAll(line, "<skipped>", "")
	line = strings.ReplaceAll(line, "-\n", "")
	line = strings.ReplaceAll(line, "\n", " ")
	if strings.IndexByte(line, '&') >= 0 {
		line = strings.ReplaceAll(line, "&quot;", `"`)
		line = strings.ReplaceAll(line, "&amp;", "&")
		line = strings.ReplaceAll(line, "&lt;", "<")
		line = strings.ReplaceAll(line, "&gt;", ">")
	}
	b := make([]byte, 0, 2*len(line)+2)
	b = append(b, ' ')
	b = append(b, line...)
	b = append(b, ' ')

	b = spaceSymbols(b)
	// Rule 7: non-digit followed by period/comma -> "X Y ".
	b = splitPairs(b, notDigit, isPeriodComma, false, true)
	// Rule 8: period/comma followed by non-digit -> " X Y".
	b = splitPairs(b, isPeriodComma, notDigit, true, false)
	// Rule 9: digit followed by hyphen -> "X Y ".
	b = splitPairs(b, isDigit, isHyphen, false, true)
	return splitPyWhitespace(string(b))
}

// isSymbol13a reports whether c is in the symbol class of rule 6: the ASCII
// ranges 0x20-0x26, 0x28-0x2B, 0x2F, 0x3A-0x40, 0x5B-0x60 and 0x7B-0x7E.
func isSymbol13a(c byte) bool {
	switch {
	case c >= ' ' && c <= '&':
		return true
	case c >= '(' && c <= '+':
		return true
	case c == '/':
		return true
	case c >= ':' && c <= '@':
		return true
	case c >= '[' && c <= '`':
		return true
	case c >= '{' && c <= '~':
		return true
	}
	return false
}

func isDigit(c byte) bool       { return c >= '0' && c <= '9' }
func notDigit(c byte) bool      { return !isDigit(c) }
func isPeriodComma(c byte) bool { return c == '.' || c == ',' }
func isHyphen(c byte) bool      { return c == '-' }

// spaceSymbols surrounds every symbol of rule 6 with spaces.
func spaceSymbols(b []byte) []byte {
	out := make([]byte, 0, len(b)+len(b)/2)
	for _, c := range b {
		if isSymbol13a(c) {
			out = append(out, ' ', c, ' ')
		} else {
			out = append(out, c)
		}
	}
	return out
}

// splitPairs rewrites, scanning left to right without overlap, every pair of
// bytes x y (first(x) && second(y)) as "x y", with an extra space before x
// when padBefore and after y when padAfter. Working on bytes rather than runes
// gives the same result on valid UTF-8 because every byte the predicates can
// single out is ASCII and never part of a multi-byte sequence.
func splitPairs(b []byte, first, second func(byte) bool, padBefore, padAfter bool) []byte {
	out := make([]byte, 0, len(b)+len(b)/2)
	for i := 0; i < len(b); i++ {
		if i+1 < len(b) && first(b[i]) && second(b[i+1]) {
			if padBefore {
				out = append(out, ' ')
			}
			out = append(out, b[i], ' ', b[i+1])
			if padAfter {
				out = append(out, ' ')
			}
			i++
			continue
		}
		out = append(out, b[i])
	}
	return out
}

// isPyWhitespace reports whether r is whitespace for Python's str.split():
// Go's unicode.IsSpace plus the ASCII separators 0x1C-0x1F, which Python
// also treats as whitespace.
func isPyWhitespace(r rune) bool {
	return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f)
}

// splitPyWhitespace splits s like Python's s.split() with no argument.
func splitPyWhitespace(s string) []string {
	return strings.FieldsFunc(s, isPyWhitespace)
}

// rstripPy removes trailing whitespace like Python's str.rstrip().
func rstripPy(s string) string {
	return strings.TrimRightFunc(s, isPyWhitespace)
}
