package vocab

import (
	"reflect"
	"strings"
	"testing"
)

func TestCharTokenizer(t *testing.T) {
	var c CharTokenizer
	got := c.Tokenize("héllo 世界\n")
	want := []string{"h", "é", "l", "l", "o", " ", "世", "界", "\n"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Tokenize = %q, want %q", got, want)
	}
	if s := c.Detokenize(got); s != "héllo 世界\n" {
		t.Fatalf("Detokenize = %q", s)
	}
	// An invalid byte becomes the replacement character.
	if got := c.Tokenize("a\xffb"); !reflect.DeepEqual(got, []string{"a", "\uFFFD", "b"}) {
		t.Fatalf("Tokenize(invalid) = %q", got)
	}
	if got := c.Tokenize(""); len(got) != 0 {
		t.Fatalf("Tokenize(\"\") = %q", got)
	}
}

func TestWordTokenize(t *testing.T) {
	cases := []struct {
		tok  WordTokenizer
		in   string
		want string // tokens joined by |
	}{
		// First line of Multi30k train.en.
		{WordTokenizer{}, "Two young, White males are outside near many bushes.",
			"Two|young|,|White|males|are|outside|near|many|bushes|."},
		{WordTokenizer{Lower: true}, "Two young, White males are outside near many bushes.",
			"two|young|,|white|males|are|outside|near|many|bushes|."},
		{WordTokenizer{}, "Don't stop—it's 3.5 km, O'Neill's t-shirt costs $1,000!",
			"Don't|stop|—|it's|3.5|km|,|O'Neill's|t-shirt|costs|$|1,000|!"},
		{WordTokenizer{SplitHyphens: true}, "a t-shirt - 2-3", "a|t|-|shirt|-|2|-|3"},
		{WordTokenizer{}, "dogs' toys 'tis don’t", "dogs|'|toys|'|tis|don’t"},
		{WordTokenizer{}, "end. 3. .5 3.x a.b", "end|.|3|.|.|5|3|.|x|a|.|b"},
		{WordTokenizer{}, "Ein Mann, der (etwas) anstarrt.", "Ein|Mann|,|der|(|etwas|)|anstarrt|."},
		{WordTokenizer{Lower: true}, "STRASSE Straße ÉTÉ", "strasse|straße|été"},
		{WordTokenizer{}, "a\tb\nc\x00d  \u00a0 e", "a|b|c|d|e"},
		{WordTokenizer{}, "I ❤\uFE0F Go", "I|❤\uFE0F|Go"},
		{WordTokenizer{}, "e\u0301t\u00e9", "e\u0301t\u00e9"}, // combining accent stays in the word
		{WordTokenizer{}, "x\xffy", "x|\uFFFD|y"},
		{WordTokenizer{}, "", ""},
		{WordTokenizer{}, "   ", ""},
	}
	for _, c := range cases {
		got := strings.Join(c.tok.Tokenize(c.in), "|")
		if got != c.want {
			t.Errorf("%+v.Tokenize(%q) = %q, want %q", c.tok, c.in, got, c.want)
		}
	}
}

func TestWordDetokenize(t *testing.T) {
	var w WordTokenizer
	cases := []struct{ in, want string }{
		{"A man ( in a hat ) said \" hi \" .", "A man (in a hat) said \"hi\"."},
		{"Wait , what ? ! 50 %", "Wait, what?! 50%"},
		{"a - b", "a - b"},
	}
	for _, c := range cases {
		got := w.Detokenize(w.Tokenize(c.in))
		if got != c.want {
			t.Errorf("Detokenize(Tokenize(%q)) = %q, want %q", c.in, got, c.want)
		}
	}
	if got := w.Detokenize(nil); got != "" {
		t.Errorf("Detokenize(nil) = %q", got)
	}
}

// wordSamples exercise the joining rules and Detokenize's gluing; they also seed
// FuzzWordTokenize.
var wordSamples = []string{
	"Two young, White males are outside near many bushes.",
	"Don't stop—it's 3.5 km, O'Neill's t-shirt costs $1,000!",
	"3 . 5 3 , 5 ( . ) \" 3 \" . 5",
	"dogs ' s ( ' s ) 'tis",
	"a-\u0301 ( \u0301 ❤\uFE0F . İ'x",
	"« Bonjour » , dit-il … ¿ Qué ?",
}

func TestWordDetokenizeStable(t *testing.T) {
	for _, tok := range []WordTokenizer{{}, {Lower: true}, {SplitHyphens: true}} {
		for _, s := range wordSamples {
			checkWordInvariants(t, tok, s)
		}
	}
}

// checkWordInvariants checks what FuzzWordTokenize checks.
func checkWordInvariants(t *testing.T, tok WordTokenizer, s string) {
	t.Helper()
	toks := tok.Tokenize(s)
	for _, x := range toks {
		if x == "" || strings.ContainsFunc(x, func(r rune) bool { return r == ' ' || r == '\n' || r == '\t' }) {
			t.Fatalf("%+v.Tokenize(%q): bad token %q in %q", tok, s, x, toks)
		}
	}
	again := tok.Tokenize(tok.Detokenize(toks))
	if !reflect.DeepEqual(again, toks) && !(len(again) == 0 && len(toks) == 0) {
		t.Fatalf("%+v: unstable on %q:\n tokens   %q\n detok    %q\n re-token %q", tok, s, toks, tok.Detokenize(toks), again)
	}
}
