package vocab

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestBuild(t *testing.T) {
	counts := map[string]int{"b": 3, "a": 3, "c": 5, "d": 1, "e": 2, Pad: 7, "z": 0}
	v, err := Build(counts, BuildOptions{MinFreq: 2})
	if err != nil {
		t.Fatal(err)
	}
	// c (5), then a and b (3, ascending), then e (2); d is below MinFreq, the
	// special token's count is ignored.
	want := []string{Pad, Unk, BOS, EOS, "c", "a", "b", "e"}
	if got := v.Tokens(); !reflect.DeepEqual(got, want) {
		t.Fatalf("tokens = %q, want %q", got, want)
	}
	v5, err := Build(counts, BuildOptions{MaxSize: 6})
	if err != nil {
		t.Fatal(err)
	}
	if got := v5.Tokens(); !reflect.DeepEqual(got, want[:6]) {
		t.Fatalf("MaxSize 6: tokens = %q", got)
	}
	all, err := Build(counts, BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if all.Len() != 9 { // specials + c a b e d; z has count 0
		t.Fatalf("MinFreq 0: %d tokens %q", all.Len(), all.Tokens())
	}
	for _, bad := range []struct {
		counts map[string]int
		opt    BuildOptions
	}{
		{counts, BuildOptions{MaxSize: 3}},
		{map[string]int{"a": -1}, BuildOptions{}},
		{map[string]int{"": 1}, BuildOptions{}},
		{map[string]int{"\xff": 1}, BuildOptions{}},
	} {
		if _, err := Build(bad.counts, bad.opt); err == nil {
			t.Errorf("Build(%v, %+v): no error", bad.counts, bad.opt)
		}
	}
}

func TestEncodeDecode(t *testing.T) {
	v, err := New([]string{"the", "cat", "sat"})
	if err != nil {
		t.Fatal(err)
	}
	toks := []string{"the", "cat", "sat", "the"}
	ids := v.Encode(toks)
	if !reflect.DeepEqual(ids, []int{4, 5, 6, 4}) {
		t.Fatalf("Encode = %v", ids)
	}
	if got := v.Decode(ids); !reflect.DeepEqual(got, toks) {
		t.Fatalf("Decode = %q", got)
	}
	if got := v.Encode([]string{"dog", BOS}); !reflect.DeepEqual(got, []int{UnkID, BOSID}) {
		t.Fatalf("Encode(OOV) = %v", got)
	}
	if got := v.Decode([]int{-1, 7, 0, 3}); !reflect.DeepEqual(got, []string{Unk, Unk, Pad, EOS}) {
		t.Fatalf("Decode(out of range) = %q", got)
	}
	if id, ok := v.ID("cat"); !ok || id != 5 {
		t.Fatalf("ID(cat) = %d, %v", id, ok)
	}
	if _, ok := v.ID("dog"); ok {
		t.Fatal("ID(dog) found")
	}
	if tok, ok := v.Token(6); !ok || tok != "sat" {
		t.Fatalf("Token(6) = %q, %v", tok, ok)
	}
	if _, ok := v.Token(7); ok {
		t.Fatal("Token(7) found")
	}
	for _, bad := range [][]string{{"a", "a"}, {"a", Unk}, {""}} {
		if _, err := New(bad); err == nil {
			t.Errorf("New(%q): no error", bad)
		}
	}
	if got := StripSpecials([]int{BOSID, 5, UnkID, 6, EOSID, 7, PadID}); !reflect.DeepEqual(got, []int{5, UnkID, 6}) {
		t.Fatalf("StripSpecials = %v", got)
	}
}

func TestVocabSaveLoad(t *testing.T) {
	v, err := New([]string{"héllo", "\"", "world", "</w>"})
	if err != nil {
		t.Fatal(err)
	}
	if w := saveAndLoad(t, v.Save, LoadVocab); !reflect.DeepEqual(w.Tokens(), v.Tokens()) {
		t.Fatalf("after Load: %q", w.Tokens())
	}
}

func TestVocabLoadErrors(t *testing.T) {
	cases := []loadCase{
		{"empty", ``, "not a vocabulary file"},
		{"json", `{"format":`, "not a vocabulary file"},
		{"format", `{"format":"triad-bpe","version":1,"tokens":[]}`, "format"},
		{"version", `{"format":"triad-vocab","version":9,"tokens":[]}`, "version 9"},
		{"few", `{"format":"triad-vocab","version":1,"tokens":["<pad>"]}`, "fewer than"},
		{"missing special", `{"format":"triad-vocab","version":1,"tokens":["<pad>","<unk>","<bos>","a","<eos>"]}`, "token 3"},
		{"duplicate", `{"format":"triad-vocab","version":1,"tokens":["<pad>","<unk>","<bos>","<eos>","a","b","a"]}`, "duplicate token \"a\" at ids 4 and 6"},
		{"duplicate special", `{"format":"triad-vocab","version":1,"tokens":["<pad>","<unk>","<bos>","<eos>","<unk>"]}`, "duplicate token"},
		{"empty token", `{"format":"triad-vocab","version":1,"tokens":["<pad>","<unk>","<bos>","<eos>",""]}`, "empty"},
		{"unknown field", `{"format":"triad-vocab","version":1,"tokens":["<pad>","<unk>","<bos>","<eos>"],"x":1}`, "unknown field"},
	}
	checkLoadErrors(t, LoadVocab, cases)
	if _, err := LoadVocab(filepath.Join(t.TempDir(), "missing.json")); err == nil || !strings.Contains(err.Error(), "missing.json") {
		t.Errorf("missing file: %v", err)
	}
}

// TestVocabMulti30k builds a word vocabulary from Multi30k's English training
// sentences and checks the round trip of in-vocabulary text.
func TestVocabMulti30k(t *testing.T) {
	train := readGzipLines(t, dataFile(t, "multi30k/train.en.gz"))
	tok := WordTokenizer{Lower: true}
	v, err := Build(CountTokens(tok, train), BuildOptions{MinFreq: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d tokens with count >= 2", v.Len())
	if first, _ := v.Token(NumSpecial); first != "a" {
		t.Errorf("most frequent token %q, want \"a\"", first)
	}
	path := filepath.Join(t.TempDir(), "en.json")
	if err := v.Save(path); err != nil {
		t.Fatal(err)
	}
	w, err := LoadVocab(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range train[:2000] {
		toks := tok.Tokenize(s)
		ids := w.Encode(toks)
		dec := w.Decode(ids)
		for i := range toks {
			if _, in := v.ID(toks[i]); in && dec[i] != toks[i] {
				t.Fatalf("%q: token %q decoded as %q", s, toks[i], dec[i])
			}
		}
	}
}
