package metrics

import (
	"strings"
	"unicode"
)

// pyLower lowercases s as Python's str.lower() does, which sacreBLEU's
// lowercase option and rouge-score's tokeniser use. On top of Go's simple
// case mapping it applies the two rules of Unicode's full lowercase mapping
// that change text: U+0130 (capital I with dot above) becomes "i" followed by
// U+0307, and a capital sigma that ends a word becomes the final sigma U+03C2
// (SpecialCasing.txt, Final_Sigma: preceded by a cased letter and not
// followed by one, skipping case-ignorable characters). Case-ignorable is
// approximated by the general categories Mn, Me, Cf, Lm, Sk and the
// characters ' . : U+00B7 U+2018 U+2019 U+2024 U+2027 U+FE13 U+FE52 U+FE55
// U+FF07 U+FF0E U+FF1A.
func pyLower(s string) string {
	if !strings.ContainsAny(s, "\u0130\u03a3") {
		return strings.ToLower(s)
	}
	rs := []rune(s)
	var b strings.Builder
	b.Grow(len(s) + 2)
	for i, r := range rs {
		switch r {
		case '\u0130':
			b.WriteString("i\u0307")
		case '\u03a3':
			if finalSigma(rs, i) {
				b.WriteRune('\u03c2')
			} else {
				b.WriteRune('\u03c3')
			}
		default:
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// finalSigma reports whether the sigma at rs[i] is in the Final_Sigma context.
func finalSigma(rs []rune, i int) bool {
	j := i - 1
	for j >= 0 && caseIgnorable(rs[j]) {
		j--
	}
	if j < 0 || !cased(rs[j]) {
		return false
	}
	k := i + 1
	for k < len(rs) && caseIgnorable(rs[k]) {
		k++
	}
	return k == len(rs) || !cased(rs[k])
}

func cased(r rune) bool {
	return unicode.IsUpper(r) || unicode.IsLower(r) || unicode.IsTitle(r)
}

func caseIgnorable(r rune) bool {
	switch r {
	case '\'', '.', ':', '\u00b7', '\u2018', '\u2019', '\u2024', '\u2027',
		'\ufe13', '\ufe52', '\ufe55', '\uff07', '\uff0e', '\uff1a':
		return true
	}
	return unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf, unicode.Lm, unicode.Sk)
}
