package vocab

import (
	"reflect"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func FuzzWordTokenize(f *testing.F) {
	for _, s := range wordSamples {
		f.Add(s, false, false)
		f.Add(s, true, true)
	}
	f.Add("x\xff\xfey\x00'a'", true, false)
	f.Fuzz(func(t *testing.T, s string, lower, split bool) {
		tok := WordTokenizer{Lower: lower, SplitHyphens: split}
		checkWordInvariants(t, tok, s)
		toks := tok.Tokenize(s)
		for _, x := range toks {
			if !utf8.ValidString(x) {
				t.Fatalf("token %q is not valid UTF-8", x)
			}
		}
		// Without lowercasing, tokenization only drops whitespace and control
		// characters; lowercasing maps each of those tokens.
		plain := WordTokenizer{SplitHyphens: split}.Tokenize(s)
		var kept []rune
		for _, r := range []rune(s) {
			if !unicode.IsSpace(r) && !unicode.IsControl(r) {
				kept = append(kept, r)
			}
		}
		if got := strings.Join(plain, ""); got != string(kept) {
			t.Fatalf("tokens of %q concatenate to %q, want %q", s, got, string(kept))
		}
		if len(plain) != len(toks) {
			t.Fatalf("%d tokens with Lower=%v, %d without", len(toks), lower, len(plain))
		}
		for i := range toks {
			want := plain[i]
			if lower {
				want = strings.ToLower(want)
			}
			if toks[i] != want {
				t.Fatalf("token %d is %q, want %q", i, toks[i], want)
			}
		}
	})
}

func FuzzBPE(f *testing.F) {
	f.Add("low low low lower lower newest newest widest\nthe cat sat", "lowest newer cats", uint16(40), uint8(2), false)
	f.Add("a</w>b </w> \uE000 x\uE000/w>", "</w></w> \uE000</w>", uint16(100), uint8(1), false)
	f.Add("Don't stop, it's 3.5 km!\nA dog's toy.", "A dog, a toy!", uint16(60), uint8(1), true)
	f.Add("aaaa aaa aa a", "aaaaaaa", uint16(10), uint8(1), false)
	f.Fuzz(func(t *testing.T, corpus, text string, size uint16, minFreq uint8, words bool) {
		if len(corpus) > 4000 || len(text) > 1000 {
			t.Skip("input too long")
		}
		var pre Tokenizer
		if words {
			pre = WordTokenizer{Lower: true}
		}
		cfg := BPEConfig{VocabSize: int(size%500) + 1, MinFrequency: int(minFreq%4) + 1, Pre: pre}
		counts := map[string]int{}
		for _, l := range strings.Split(corpus, "\n") {
			for _, w := range (&BPE{Pre: pre}).words(l) {
				counts[w]++
			}
		}
		b, segs, err := trainBPE(counts, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if n, a := len(b.Symbols()), len(b.Alphabet()); n > max(cfg.VocabSize, a) {
			t.Fatalf("%d symbols, VocabSize %d, alphabet %d", n, cfg.VocabSize, a)
		}
		// Encoding a training word gives its training segmentation.
		for w, seg := range segs {
			if got := b.EncodeWord(w); !reflect.DeepEqual(got, seg) {
				t.Fatalf("%q: encoding %q, training segmentation %q", w, got, seg)
			}
		}
		// The file format round-trips.
		c := reparse(t, b.marshal, ParseBPE)
		for _, s := range []string{text, corpus} {
			ws := b.words(s)
			toks := b.EncodeWords(ws)
			if !reflect.DeepEqual(c.EncodeWords(ws), toks) {
				t.Fatalf("encodings differ after save and parse")
			}
			finals := 0
			for i, tok := range toks {
				if tok == "" || tok == EndOfWord || !utf8.ValidString(tok) {
					t.Fatalf("bad token %q", tok)
				}
				if strings.HasSuffix(tok, EndOfWord) {
					finals++
				} else if i == len(toks)-1 {
					t.Fatalf("last token %q is not word-final", tok)
				}
			}
			if finals != len(ws) {
				t.Fatalf("%d words, %d word-final tokens", len(ws), finals)
			}
			if got := b.DecodeWords(toks); !reflect.DeepEqual(got, ws) && len(ws)+len(got) > 0 {
				t.Fatalf("words %q -> %q -> %q", ws, toks, got)
			}
			var want string
			if pre == nil {
				want = strings.Join(ws, " ")
			} else {
				want = pre.Detokenize(ws)
			}
			if got := b.Detokenize(b.Tokenize(s)); got != want {
				t.Fatalf("Detokenize(Tokenize(%q)) = %q, want %q", s, got, want)
			}
		}
	})
}

func FuzzVocabLoad(f *testing.F) {
	v, _ := New([]string{"a", "héllo", "</w>", "\""})
	good, _ := v.marshal()
	f.Add(good)
	f.Add([]byte(`{"format":"triad-vocab","version":1,"tokens":["<pad>","<unk>","<bos>","<eos>","a","a"]}`))
	f.Add([]byte(`{"format":"triad-vocab","version":1,"tokens":["<pad>","<unk>","<bos>"]}`))
	f.Add([]byte(`{"format":"triad-vocab","version":1,"tokens":null}`))
	f.Add([]byte(`{"format":"triad-vocab","version":1,"tokens":["<pad>","<unk>","<bos>","<eos>","\ud800"]}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := ParseVocab(data, "fuzz.json")
		if err != nil {
			if !strings.Contains(err.Error(), "fuzz.json") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		toks := v.Tokens()
		for i, s := range specials {
			if toks[i] != s {
				t.Fatalf("token %d is %q", i, toks[i])
			}
		}
		ids := make([]int, v.Len())
		for i := range ids {
			ids[i] = i
		}
		if got := v.Encode(v.Decode(ids)); !reflect.DeepEqual(got, ids) {
			t.Fatalf("Encode(Decode(ids)) = %v", got)
		}
		w := reparse(t, v.marshal, ParseVocab)
		if !reflect.DeepEqual(w.Tokens(), toks) {
			t.Fatalf("tokens changed after save and parse")
		}
	})
}
