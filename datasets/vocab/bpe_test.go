package vocab

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// sennrichCounts is the toy dictionary of Sennrich et al. (2016), Algorithm 1:
// low x5, lower x2, newest x6, widest x3.
var sennrichCounts = map[string]int{"low": 5, "lower": 2, "newest": 6, "widest": 3}

// sennrichMerges are the merges learned from sennrichCounts, worked out by hand
// with the end-of-word marker on the last character and ties broken by (left,
// right) in ascending byte order:
//
//	1  e+s        9  (ties with s+t</w> at 9; "e" < "s")
//	2  es+t</w>   9
//	3  l+o        7
//	4  e+w        6  (ties with n+e and w+est</w>; "e" < "n" < "w")
//	5  ew+est</w> 6  (ties with n+ew; "ew" < "n")
//	6  n+ewest</w> 6
//	7  lo+w</w>   5
//	8  d+est</w>  3  (ties with i+d and w+i)
//	9  i+dest</w> 3  (ties with w+i)
//	10 w+idest</w> 3
//	11 e+r</w>    2  (ties with lo+w and w+e)
//	12 lo+w       2  (ties with w+er</w>)
//	13 low+er</w> 2
var sennrichMerges = []Merge{
	{"e", "s"}, {"es", "t</w>"}, {"l", "o"}, {"e", "w"}, {"ew", "est</w>"},
	{"n", "ewest</w>"}, {"lo", "w</w>"}, {"d", "est</w>"}, {"i", "dest</w>"},
	{"w", "idest</w>"}, {"e", "r</w>"}, {"lo", "w"}, {"low", "er</w>"},
}

func TestBPESennrichToy(t *testing.T) {
	b, err := TrainBPEFromCounts(sennrichCounts, BPEConfig{VocabSize: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if got := b.Merges(); !reflect.DeepEqual(got, sennrichMerges) {
		t.Fatalf("merges:\n got  %q\n want %q", got, sennrichMerges)
	}
	wantAlphabet := []string{"d", "e", "i", "l", "n", "o", "r</w>", "s", "t</w>", "w", "w</w>"}
	if got := b.Alphabet(); !reflect.DeepEqual(got, wantAlphabet) {
		t.Fatalf("alphabet = %q, want %q", got, wantAlphabet)
	}
	if n := len(b.Symbols()); n != 11+13 {
		t.Fatalf("%d symbols, want 24", n)
	}

	// "lowest" is not a training word: e+s, es+t</w>, l+o, then lo+w (rank 12);
	// w+est</w> is not a merge, so two symbols remain.
	if got := b.EncodeWord("lowest"); !reflect.DeepEqual(got, []string{"low", "est</w>"}) {
		t.Fatalf("EncodeWord(lowest) = %q", got)
	}
	if got := b.Tokenize("newest  lower\tlow"); !reflect.DeepEqual(got, []string{"newest</w>", "lower</w>", "low</w>"}) {
		t.Fatalf("Tokenize = %q", got)
	}
	// An unseen character stays a symbol of its own.
	if got := b.EncodeWord("slowz"); !reflect.DeepEqual(got, []string{"s", "low", "z</w>"}) {
		t.Fatalf("EncodeWord(slowz) = %q", got)
	}
	if got := b.Detokenize(b.Tokenize(" lowest newer\n")); got != "lowest newer" {
		t.Fatalf("round trip = %q", got)
	}

	// VocabSize counts the alphabet: 11 + 3 stops after three merges.
	b3, err := TrainBPEFromCounts(sennrichCounts, BPEConfig{VocabSize: 14})
	if err != nil {
		t.Fatal(err)
	}
	if got := b3.Merges(); !reflect.DeepEqual(got, sennrichMerges[:3]) {
		t.Fatalf("VocabSize 14: merges %q", got)
	}
	// MinFrequency 3 stops before the merges of count 2.
	b10, err := TrainBPEFromCounts(sennrichCounts, BPEConfig{VocabSize: 1000, MinFrequency: 3})
	if err != nil {
		t.Fatal(err)
	}
	if got := b10.Merges(); !reflect.DeepEqual(got, sennrichMerges[:10]) {
		t.Fatalf("MinFrequency 3: merges %q", got)
	}
}

func TestBPEErrors(t *testing.T) {
	if _, err := TrainBPEFromCounts(sennrichCounts, BPEConfig{}); err == nil {
		t.Error("VocabSize 0: no error")
	}
	if _, err := TrainBPEFromCounts(sennrichCounts, BPEConfig{VocabSize: 10, MinFrequency: -1}); err == nil {
		t.Error("negative MinFrequency: no error")
	}
	b, err := TrainBPEFromCounts(nil, BPEConfig{VocabSize: 10})
	if err != nil || len(b.Merges()) != 0 || len(b.Tokenize("abc")) != 3 {
		t.Errorf("empty corpus: %v, %v", err, b)
	}
}

// TestBPEEscaping covers words that contain the end-of-word marker or the
// escape character literally: they must still round-trip.
func TestBPEEscaping(t *testing.T) {
	words := []string{"a</w>b", "</w>", "</w></w>", "\uE000", "x\uE000/w>", "\uE000</w>", "<", "/w>", "a<</w>>"}
	counts := map[string]int{}
	for i, w := range words {
		counts[w] = i + 2
	}
	b, segs, err := trainBPE(counts, BPEConfig{VocabSize: 200, MinFrequency: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range words {
		toks := b.EncodeWord(w)
		for i, tok := range toks {
			if final := strings.HasSuffix(tok, EndOfWord); final != (i == len(toks)-1) {
				t.Fatalf("%q: token %d of %q has wrong finality", w, i, toks)
			}
		}
		if got := b.DecodeWords(toks); !reflect.DeepEqual(got, []string{w}) {
			t.Fatalf("%q -> %q -> %q", w, toks, got)
		}
		if !reflect.DeepEqual(segs[w], toks) {
			t.Fatalf("%q: training segmentation %q, encoding %q", w, segs[w], toks)
		}
	}
	if got := unescapeWord("\uE000x\uE000"); got != "\uE000x\uE000" {
		t.Fatalf("stray escape characters not kept: %q", got)
	}
}

func TestBPEPreTokenizer(t *testing.T) {
	lines := []string{"A dog's toy, a dog.", "Dogs run.", "A dog runs!"}
	b, err := TrainBPE(lines, BPEConfig{VocabSize: 40, Pre: WordTokenizer{Lower: true}})
	if err != nil {
		t.Fatal(err)
	}
	toks := b.Tokenize("A dog runs, dogs' toys.")
	if got := b.Detokenize(toks); got != "a dog runs, dogs ' toys." {
		t.Fatalf("Detokenize = %q (tokens %q)", got, toks)
	}
}

func TestBPESaveLoad(t *testing.T) {
	b, err := TrainBPEFromCounts(sennrichCounts, BPEConfig{VocabSize: 1000, Pre: WordTokenizer{Lower: true}})
	if err != nil {
		t.Fatal(err)
	}
	c := saveAndLoad(t, b.Save, LoadBPE)
	if !reflect.DeepEqual(c.Merges(), b.Merges()) || !reflect.DeepEqual(c.Alphabet(), b.Alphabet()) {
		t.Fatal("merges or alphabet differ after Save/Load")
	}
	if c.Pre != (WordTokenizer{Lower: true}) {
		t.Fatalf("pre-tokenizer after Load: %#v", c.Pre)
	}
	s := "Lowest, NEWEST widest."
	if !reflect.DeepEqual(c.Tokenize(s), b.Tokenize(s)) {
		t.Fatal("encodings differ after Save/Load")
	}

	// A pre-tokenizer that cannot be recorded is an error.
	b.Pre = CharTokenizer{}
	if err := b.Save(filepath.Join(t.TempDir(), "x.json")); err == nil {
		t.Fatal("Save with CharTokenizer pre-tokenizer: no error")
	}
}

func TestBPELoadErrors(t *testing.T) {
	head := `{"format":"triad-bpe","version":1,"end_of_word":"</w>","pretokenizer":{"kind":"whitespace"},`
	cases := []loadCase{
		{"json", `{`, "not a BPE file"},
		{"format", `{"format":"x","version":1}`, "format"},
		{"version", `{"format":"triad-bpe","version":2}`, "version 2"},
		{"marker", `{"format":"triad-bpe","version":1,"end_of_word":"@@"}`, "end-of-word"},
		{"pre", `{"format":"triad-bpe","version":1,"end_of_word":"</w>","pretokenizer":{"kind":"bert"}}`, "unknown kind"},
		{"unknown field", head + `"alphabet":[],"merges":[],"extra":1}`, "unknown field"},
		{"alphabet", head + `"alphabet":["ab"],"merges":[]}`, "not one character"},
		{"alphabet dup", head + `"alphabet":["a","a"],"merges":[]}`, "duplicate"},
		{"unknown symbol", head + `"alphabet":["a","b</w>"],"merges":[["a","c</w>"]]}`, "neither in the alphabet"},
		{"final left", head + `"alphabet":["a</w>","b</w>"],"merges":[["a</w>","b</w>"]]}`, "word-final left"},
		{"repeat", head + `"alphabet":["a","b</w>"],"merges":[["a","b</w>"],["a","b</w>"]]}`, "repeats merge 0"},
		{"marker inside", head + `"alphabet":["<","/","w",">"],"merges":[["<","/"],["w",">"],["</","w>"]]}`, "makes an invalid symbol"},
		{"trailing", head + `"alphabet":[],"merges":[]} {}`, "trailing"},
	}
	checkLoadErrors(t, LoadBPE, cases)
	if _, err := LoadBPE(filepath.Join(t.TempDir(), "missing.json")); err == nil {
		t.Error("missing file: no error")
	}
}

func TestBPEDeterministic(t *testing.T) {
	lines := []string{"the cat sat on the mat", "the dog sat on the log", "a cat and a dog", "that hat"}
	first, err := TrainBPE(lines, BPEConfig{VocabSize: 60, MinFrequency: 1})
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		again, err := TrainBPE(lines, BPEConfig{VocabSize: 60, MinFrequency: 1})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(again.Merges(), first.Merges()) {
			t.Fatal("training is not deterministic")
		}
	}
}

// TestBPEMulti30k trains an 8,000-symbol BPE on Multi30k's English training
// sentences, checks that encoding reproduces every training word's segmentation
// and that validation sentences round-trip.
func TestBPEMulti30k(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping BPE training on Multi30k")
	}
	train := readGzipLines(t, dataFile(t, "multi30k/train.en.gz"))
	val := readGzipLines(t, dataFile(t, "multi30k/val.en.gz"))
	pre := WordTokenizer{Lower: true}
	counts := CountTokens(pre, train)
	start := time.Now()
	b, segs, err := trainBPE(counts, BPEConfig{VocabSize: 8000, Pre: pre})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("trained on %d sentences (%d distinct words) in %v: %d merges, %d symbols",
		len(train), len(counts), time.Since(start), len(b.Merges()), len(b.Symbols()))
	if n := len(b.Symbols()); n > 8000 {
		t.Fatalf("%d symbols, more than VocabSize 8000", n)
	}
	for w, seg := range segs {
		if got := b.EncodeWord(w); !reflect.DeepEqual(got, seg) {
			t.Fatalf("%q: encoding %q differs from training segmentation %q", w, got, seg)
		}
	}
	for _, s := range val {
		if got, want := b.Detokenize(b.Tokenize(s)), pre.Detokenize(pre.Tokenize(s)); got != want {
			t.Fatalf("round trip of %q: %q, want %q", s, got, want)
		}
	}
}

func BenchmarkTrainBPEMulti30k(bm *testing.B) {
	train := readGzipLines(bm, dataFile(bm, "multi30k/train.en.gz"))
	counts := CountTokens(WordTokenizer{Lower: true}, train)
	for bm.Loop() {
		if _, err := TrainBPEFromCounts(counts, BPEConfig{VocabSize: 8000}); err != nil {
			bm.Fatal(err)
		}
	}
}

// TestBPEConcurrent encodes from several goroutines at once (run with -race).
func TestBPEConcurrent(t *testing.T) {
	b, err := TrainBPEFromCounts(sennrichCounts, BPEConfig{VocabSize: 1000})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan []string)
	for range 4 {
		go func() {
			var last []string
			for range 200 {
				last = b.Tokenize("lowest newest widest lower")
			}
			done <- last
		}()
	}
	want := []string{"low", "est</w>", "newest</w>", "widest</w>", "lower</w>"}
	for range 4 {
		if got := <-done; !reflect.DeepEqual(got, want) {
			t.Errorf("Tokenize = %q", got)
		}
	}
}
