package metrics

import (
	"reflect"
	"strings"
	"testing"
)

// Hand-written cases, one group per rule of the 13a tokeniser as written in
// mteval-v13a.pl (sub tokenization) and sacreBLEU's
// sacrebleu/tokenizers/tokenizer_13a.py and tokenizer_re.py.
func TestTokenize13aRules(t *testing.T) {
	cases := []struct {
		rule string
		in   string
		want string // tokens joined by single spaces
	}{
		// Rule: s/<skipped>//g — strip "skipped" tags.
		{"skipped tag", "a<skipped>b <skipped> c", "ab c"},
		// Rule: s/-\n//g — strip end-of-line hyphenation and join lines.
		{"end-of-line hyphen", "hyphen-\nated", "hyphenated"},
		// Rule: s/\n/ /g — join lines.
		{"newline", "one\ntwo", "one two"},
		// Rules: s/&quot;/"/g, s/&amp;/&/g, s/&lt;/</g, s/&gt;/>/g, in that order.
		{"entities", "&quot;x&quot; &amp; a&lt;b&gt;c", `" x " & a < b > c`},
		{"entity order", "&amp;lt; &amp;quot;", "< & quot ;"},
		{"unknown entity", "&apos;", "& apos ;"},
		// Rule: s/([\{-\~\[-\` -\&\(-\+\:-\@\/])/ $1 /g — symbols split off.
		{"symbols {|}~", "a{b|c}d~e", "a { b | c } d ~ e"},
		{"symbols [\\]^_`", "a[b\\c]d^e_f`g", "a [ b \\ c ] d ^ e _ f ` g"},
		{"symbols !\"#$%&", `a!b"c#d$e%f&g`, `a ! b " c # d $ e % f & g`},
		{"symbols ()*+", "a(b)c*d+e", "a ( b ) c * d + e"},
		{"symbols :;<=>?@ and /", "a:b;c<d=e>f?g@h/i", "a : b ; c < d = e > f ? g @ h / i"},
		{"apostrophe, hyphen kept", "don't x-ray", "don't x-ray"},
		// Rule: s/([^0-9])([\.,])/$1 $2 /g — period/comma after a non-digit.
		{"period after word", "end.", "end ."},
		{"comma after word", "a,b", "a , b"},
		{"comma between digits", "3,000", "3,000"},
		{"period after digit, before digit", "3.14", "3.14"},
		{"period at start", ".5", ". 5"},
		// Rule: s/([\.,])([^0-9])/ $1 $2/g — period/comma before a non-digit.
		{"period after digit, before word", "5.x", "5 . x"},
		{"trailing period after digit", "5.", "5 ."},
		{"comma after digit, before space", "1, 2", "1 , 2"},
		// Non-overlapping scans: rule 7 takes "a." and leaves ".b" to rule 8.
		{"double period", "a..b", "a . . b"},
		{"abbreviation", "U.S.A.", "U . S . A ."},
		// Rule: s/([0-9])(-)/$1 $2 /g — dash after a digit.
		{"dash after digit", "10-20", "10 - 20"},
		{"dash after letter", "x-1", "x-1"},
		{"dash before digit only", "-5", "-5"},
		// Final whitespace normalisation (Python str.split()).
		{"whitespace kinds", " a\tb\x1cc\u00a0d\u3000e ", "a b c d e"},
		{"empty", "", ""},
		{"non-ASCII untouched", "“quote” — é…", "“quote” — é…"},
	}
	for _, c := range cases {
		got := strings.Join(Tokenize13a(c.in), " ")
		if got != c.want {
			t.Errorf("%s: Tokenize13a(%q) = %q, want %q", c.rule, c.in, got, c.want)
		}
	}
}

// TestTokenize13aFixture compares with a regular-expression statement of the
// same rules run by Python's re engine on hand and random strings.
func TestTokenize13aFixture(t *testing.T) {
	var fx struct {
		Tok13a []struct {
			In     string   `json:"in"`
			Tokens []string `json:"tokens"`
		} `json:"tok13a"`
		Lower []struct {
			In  string `json:"in"`
			Out string `json:"out"`
		} `json:"lower"`
	}
	loadFixture(t, "tok13a.json", &fx)
	if len(fx.Tok13a) < 100 || len(fx.Lower) < 50 {
		t.Fatalf("fixture too small: %d tokeniser and %d lowercase cases", len(fx.Tok13a), len(fx.Lower))
	}
	for _, c := range fx.Tok13a {
		got := Tokenize13a(c.In)
		if len(got) == 0 && len(c.Tokens) == 0 {
			continue
		}
		if !reflect.DeepEqual(got, c.Tokens) {
			t.Errorf("Tokenize13a(%q) = %q, want %q", c.In, got, c.Tokens)
		}
	}
	for _, c := range fx.Lower {
		if got := pyLower(c.In); got != c.Out {
			t.Errorf("pyLower(%q) = %q, want %q (Python str.lower)", c.In, got, c.Out)
		}
	}
}
