package vocab

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unicode"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triadml/triad/datasets"
	"github.com/triadml/triad/internal/testenv"
)

// tinyGPT2 loads testdata/gpt2_tiny: GPT-2's 256 byte tokens, 16 merges and
// <|endoftext|>. The merge "xy x" ranks before "x y", an order training never
// gives, so that encoding "xyxy" tells whether all occurrences of a pair are
// merged before a pair they create.
func tinyGPT2(t testing.TB) *GPT2BPE {
	t.Helper()
	b, err := LoadGPT2BPEDir(filepath.Join("testdata", "gpt2_tiny"))
	require.NoError(t, err)
	return b
}

// realGPT2 loads GPT-2's own vocabulary, the gpt2-bpe dataset, from
// $TRIAD_DATA, ../shared/data or the user cache; it never downloads, and skips
// the test when no verified copy is there.
func realGPT2(t testing.TB) *GPT2BPE {
	t.Helper()
	b, err := loadRealGPT2()
	if err != nil {
		t.Skipf("GPT-2's vocabulary is not available offline, so the byte-exact tests are skipped: %v "+
			`(datasets.Find("gpt2-bpe") downloads it into the user cache)`, err)
	}
	return b
}

var realGPT2Once = sync.OnceValues(func() (*GPT2BPE, error) {
	cache, _ := datasets.DefaultCacheDir()
	f := &datasets.Finder{Dirs: testenv.Dirs(), CacheDir: cache, Offline: true}
	dir, err := f.Find(context.Background(), "gpt2-bpe")
	if err != nil {
		return nil, err
	}
	return LoadGPT2BPEDir(dir)
})

func loadRealGPT2() (*GPT2BPE, error) { return realGPT2Once() }

// tokensOf returns the tokens of ids as encoder.json writes them.
func tokensOf(t testing.TB, b *GPT2BPE, ids []int) []string {
	t.Helper()
	out := make([]string, len(ids))
	for i, id := range ids {
		tok, ok := b.Token(id)
		require.True(t, ok, "id %d", id)
		out[i] = tok
	}
	return out
}

func requireRoundTrip(t testing.TB, b *GPT2BPE, text string) []int {
	t.Helper()
	ids := b.Encode(text)
	back, err := b.Decode(ids)
	require.NoError(t, err)
	if string(back) != text {
		t.Fatalf("Decode(Encode(%q)) = %q", text, back)
	}
	return ids
}

func TestGPT2ByteMap(t *testing.T) {
	seen := map[rune]bool{}
	for c := 0; c < 256; c++ {
		r := gpt2ByteRunes[c]
		assert.False(t, seen[r], "byte %#x", c)
		seen[r] = true
		assert.Equal(t, int16(c), gpt2RuneBytes[r])
		assert.True(t, unicode.IsPrint(r) && !unicode.IsSpace(r), "byte %#x stands for %q", c, r)
	}
	assert.Equal(t, 'Ġ', gpt2ByteRunes[' '])
	assert.Equal(t, 'Ċ', gpt2ByteRunes['\n'])
	assert.Equal(t, 'A', gpt2ByteRunes['A'])
	assert.Equal(t, rune(0x143), gpt2ByteRunes[0xAD])
}

func TestGPT2PreTokenize(t *testing.T) {
	// The pieces are those of encoder.py's pattern under Python's regex module.
	for _, c := range []struct {
		text   string
		pieces []string
	}{
		{"", nil},
		{"Hello world", []string{"Hello", " world"}},
		{"Hello, world!", []string{"Hello", ",", " world", "!"}},
		{"   leading", []string{"  ", " leading"}},
		{"trailing   ", []string{"trailing", "   "}},
		{"a  b", []string{"a", " ", " b"}},
		{"a \tb", []string{"a", " ", "\t", "b"}},
		{"a\t\tb", []string{"a", "\t", "\t", "b"}},
		{"\tword", []string{"\t", "word"}},
		{"a\n\nb", []string{"a", "\n", "\n", "b"}},
		{"a \n b", []string{"a", " \n", " b"}},
		{"x \t\n \t y", []string{"x", " \t\n \t", " y"}},
		{"x\r\n", []string{"x", "\r\n"}},
		{" ", []string{" "}},
		{"\n\n\n", []string{"\n\n\n"}},
		{"it's don't", []string{"it", "'s", " don", "'t"}},
		{"they're we've I'm you'll he'd", []string{"they", "'re", " we", "'ve", " I", "'m", " you", "'ll", " he", "'d"}},
		{"IT'S DON'T", []string{"IT", "'", "S", " DON", "'", "T"}},
		{"it’s", []string{"it", "’", "s"}},
		{"''s", []string{"''", "s"}},
		{" 's", []string{" '", "s"}},
		{"'ll'll'd's", []string{"'ll", "'ll", "'d", "'s"}},
		{"'x 're", []string{"'", "x", " '", "re"}},
		{"'rex", []string{"'re", "x"}},
		{"1,234.5", []string{"1", ",", "234", ".", "5"}},
		{"in 2024  1999", []string{"in", " 2024", " ", " 1999"}},
		{"½² Ⅻ٣", []string{"½²", " Ⅻ٣"}},
		{"abc123def", []string{"abc", "123", "def"}},
		{"!!! ?!", []string{"!!!", " ?!"}},
		{"<|endoftext|>", []string{"<|", "endoftext", "|>"}},
		{"日本語のテキスト。", []string{"日本語のテキスト", "。"}},
		{"e\u0301 x", []string{"e", "\u0301", " x"}},
		{"😀😃 👍🏽", []string{"😀😃", " 👍🏽"}},
		{"a\u200bb", []string{"a", "\u200b", "b"}},
		{"a\u00a0b", []string{"a", "\u00a0", "b"}},
		{"a\u3000\u3000b", []string{"a", "\u3000", "\u3000", "b"}},
		{"a\u001cb", []string{"a", "\u001c", "b"}},
		{"x \u0085y", []string{"x", " ", "\u0085", "y"}},
		{"end \u0085", []string{"end", " \u0085"}},
		{"a \ufeffb", []string{"a", " \ufeff", "b"}},
		{"tab\t\ufeff\tx", []string{"tab", "\t", "\ufeff", "\t", "x"}},
		{"a\U0002EBF0 \U0001E5F1", []string{"a\U0002EBF0", " \U0001E5F1"}},
		// Invalid UTF-8: each stray byte is a symbol.
		{"a\xffb", []string{"a", "\xff", "b"}},
		{"a \xff\xfe!b", []string{"a", " \xff\xfe!", "b"}},
		{" \xc3", []string{" \xc3"}},
		{"\xed\xa0\x80x", []string{"\xed\xa0\x80", "x"}},
		{"é\xc3", []string{"é", "\xc3"}},
		{"\xef\xbf\xbd\xff", []string{"\xef\xbf\xbd\xff"}},
	} {
		assert.Equal(t, c.pieces, GPT2PreTokenize(c.text), "%q", c.text)
	}
}

func TestGPT2UnicodeTables(t *testing.T) {
	// The added letters and numbers are neither white space nor in each
	// other's table.
	for _, tab := range []*unicode.RangeTable{gpt2NewLetters, gpt2NewNumbers} {
		for _, r16 := range tab.R16 {
			for r := rune(r16.Lo); r <= rune(r16.Hi); r++ {
				require.False(t, unicode.IsSpace(r), "%U", r)
			}
		}
		for _, r32 := range tab.R32 {
			for r := rune(r32.Lo); r <= rune(r32.Hi); r++ {
				require.False(t, unicode.IsSpace(r), "%U", r)
				require.False(t, unicode.Is(gpt2NewLetters, r) && unicode.Is(gpt2NewNumbers, r), "%U", r)
			}
		}
	}
	assert.Equal(t, gpt2Letter, gpt2RuneClass(0x2EBF0))
	assert.Equal(t, gpt2Letter, gpt2RuneClass(0x088F))
	assert.Equal(t, gpt2Number, gpt2RuneClass(0x1E5F1))
	assert.Equal(t, gpt2Other, gpt2RuneClass(0x2EE5E))
	assert.Equal(t, gpt2Space, gpt2RuneClass(0x85))
	assert.Equal(t, gpt2Other, gpt2RuneClass(0xFEFF))
}

func TestGPT2TinyMerges(t *testing.T) {
	b := tinyGPT2(t)
	assert.Equal(t, 273, b.Len())
	assert.Equal(t, 272, b.EndOfText())
	id, ok := b.ID("Ġthe")
	assert.True(t, ok)
	assert.Equal(t, 258, id)
	for _, c := range []struct {
		text   string
		tokens []string
	}{
		{"the", []string{"t", "he"}},
		{" the", []string{"Ġthe"}},
		{"the the", []string{"t", "he", "Ġthe"}},
		{"aaaaa", []string{"aaaa", "a"}},
		{"aaa", []string{"aa", "a"}},
		{"lower", []string{"lower"}},
		{" low lower", []string{"Ġlow", "Ġ", "lower"}},
		{"xyxy", []string{"xy", "xy"}}, // both x y first, then no merge of xy xy
		{"xyx", []string{"xyx"}},
		{"xyxyx", []string{"xy", "xyx"}},
		{"   ", []string{"ĠĠ", "Ġ"}},
		{"    x", []string{"ĠĠ", "Ġ", "Ġ", "x"}},
		{"it's", []string{"i", "t", "'s"}},
		{"123", []string{"12", "3"}},
		{"é!", []string{"Ã©", "!"}},
		{"\n", []string{"Ċ"}},
		{"\xff", []string{"ÿ"}},
		{"\x00 \xad", []string{"Ā", "Ġ", "Ń"}},
		{"<|endoftext|>", []string{"<", "|", "e", "n", "d", "o", "f", "t", "e", "x", "t", "|", ">"}},
		{strings.Repeat("a", 101), append(slicesRepeat("aaaa", 25), "a")},
	} {
		ids := requireRoundTrip(t, b, c.text)
		assert.Equal(t, c.tokens, tokensOf(t, b, ids), "%q", c.text)
	}
	got, err := b.Decode([]int{272, 0})
	require.NoError(t, err)
	assert.Equal(t, "<|endoftext|>!", string(got))
	_, err = b.Decode([]int{1, 273})
	require.ErrorContains(t, err, "id 273 at position 1")
	_, err = b.Decode([]int{-1})
	require.Error(t, err)
	_, ok = b.Token(273)
	assert.False(t, ok)
}

func slicesRepeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

func TestGPT2InvalidUTF8RoundTrip(t *testing.T) {
	tiny := tinyGPT2(t)
	full, fullErr := loadRealGPT2()
	texts := []string{
		"\xff", "\xfe\xff", "a\x80b", "\xc3", "é\xc3", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80",
		"x \xff y", "\xf0\x9f\x98", "ok\xf0\x9f\x98\x80\xf0\x9f", "\x00\x01\x02\x7f\x80\x81\xa0\xad",
	}
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < 300; i++ {
		buf := make([]byte, rng.Intn(200))
		rng.Read(buf)
		texts = append(texts, string(buf))
	}
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	texts = append(texts, string(all))
	for _, s := range texts {
		requireRoundTrip(t, tiny, s)
		assert.Equal(t, s, strings.Join(GPT2PreTokenize(s), ""))
		if fullErr == nil {
			ids := requireRoundTrip(t, full, s)
			// Pieces are encoded one by one.
			want := []int{}
			for _, p := range GPT2PreTokenize(s) {
				want = full.AppendEncode(want, p)
			}
			assert.Equal(t, want, ids)
		}
	}
}

// refMerge is the textbook procedure on strings: while some adjacent pair is a
// merge, take the pair of lowest rank and merge its occurrences from left to
// right.
func refMerge(syms []string, ranks map[[2]string]int) []string {
	for len(syms) > 1 {
		best, bestRank := [2]string{}, -1
		for i := 0; i+1 < len(syms); i++ {
			if r, ok := ranks[[2]string{syms[i], syms[i+1]}]; ok && (bestRank < 0 || r < bestRank) {
				best, bestRank = [2]string{syms[i], syms[i+1]}, r
			}
		}
		if bestRank < 0 {
			break
		}
		var out []string
		for i := 0; i < len(syms); i++ {
			if i+1 < len(syms) && syms[i] == best[0] && syms[i+1] == best[1] {
				out = append(out, best[0]+best[1])
				i++
			} else {
				out = append(out, syms[i])
			}
		}
		syms = out
	}
	return syms
}

// randomGPT2 builds an encoding whose merges over the letters a, b, c come in
// a random order, so that merged symbols often form pairs that rank before
// the pair that made them.
func randomGPT2(t testing.TB, rng *rand.Rand) (*GPT2BPE, map[[2]string]int) {
	enc := map[string]int{}
	for c := 0; c < 256; c++ {
		enc[string(gpt2ByteRunes[c])] = len(enc)
	}
	symbols := []string{"a", "b", "c"}
	ranks := map[[2]string]int{}
	var lines []string
	for len(ranks) < 12+rng.Intn(30) {
		p := [2]string{symbols[rng.Intn(len(symbols))], symbols[rng.Intn(len(symbols))]}
		if _, dup := ranks[p]; dup || len(p[0]+p[1]) > 6 {
			continue
		}
		ranks[p] = len(lines)
		lines = append(lines, p[0]+" "+p[1])
		if _, ok := enc[p[0]+p[1]]; !ok {
			enc[p[0]+p[1]] = len(enc)
			symbols = append(symbols, p[0]+p[1])
		}
	}
	// Shuffle the ranks.
	rng.Shuffle(len(lines), func(i, j int) { lines[i], lines[j] = lines[j], lines[i] })
	for i, l := range lines {
		f := strings.Fields(l)
		ranks[[2]string{f[0], f[1]}] = i
	}
	encJSON, err := json.Marshal(enc)
	require.NoError(t, err)
	b, err := ParseGPT2BPE(encJSON, []byte("#version: 0.2\n"+strings.Join(lines, "\n")+"\n"))
	require.NoError(t, err)
	return b, ranks
}

func TestGPT2MergeOrders(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	for k := 0; k < 200; k++ {
		b, ranks := randomGPT2(t, rng)
		for w := 0; w < 20; w++ {
			n := 1 + rng.Intn(150)
			word := make([]byte, n)
			for i := range word {
				word[i] = "abc"[rng.Intn(3)]
			}
			var syms []string
			var ids []int32
			for _, c := range word {
				syms = append(syms, string(c))
				ids = append(ids, b.byteID[c])
			}
			want := refMerge(syms, ranks)
			short := b.mergeShort(append([]int32(nil), ids...))
			long := b.mergeLong(append([]int32(nil), ids...))
			var gotShort, gotLong []string
			for _, id := range short {
				gotShort = append(gotShort, b.tokens[id])
			}
			for _, id := range long {
				gotLong = append(gotLong, b.tokens[id])
			}
			require.Equal(t, want, gotShort, "short, word %s", word)
			require.Equal(t, want, gotLong, "long, word %s", word)
			requireRoundTrip(t, b, string(word))
		}
	}
}

func TestGPT2Cache(t *testing.T) {
	b := tinyGPT2(t)
	word := func(i int) string { // distinct letter-only words
		s := []byte{'q'}
		for ; i > 0; i /= 26 {
			s = append(s, byte('a'+i%26))
		}
		return string(s)
	}
	first := map[int][]int{}
	for i := 0; i < gpt2CacheSize+100; i++ {
		ids := b.Encode(word(i))
		if i%997 == 0 {
			first[i] = ids
		}
	}
	assert.LessOrEqual(t, len(b.cache), gpt2CacheSize)
	assert.Positive(t, len(b.cache))
	for i, ids := range first {
		assert.Equal(t, ids, b.Encode(word(i)))
	}
	// Long pieces are not cached.
	b.cache = nil
	b.Encode(strings.Repeat("z", gpt2CacheMaxLen+1))
	assert.Empty(t, b.cache)
}

func TestGPT2Concurrent(t *testing.T) {
	b := tinyGPT2(t)
	texts := []string{"the lower xyxy", " low lower aaaaa", "it's 123 é", strings.Repeat("ab ", 50)}
	want := make([][]int, len(texts))
	for i, s := range texts {
		want[i] = b.Encode(s)
	}
	b.cache = nil
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for k := 0; k < 200; k++ {
				i := (g + k) % len(texts)
				if got := b.Encode(texts[i]); !assert.Equal(t, want[i], got) {
					return
				}
			}
		}(g)
	}
	wg.Wait()
}

func TestGPT2LoadErrors(t *testing.T) {
	goodEnc, err := os.ReadFile(filepath.Join("testdata", "gpt2_tiny", "encoder.json"))
	require.NoError(t, err)
	goodBPE, err := os.ReadFile(filepath.Join("testdata", "gpt2_tiny", "vocab.bpe"))
	require.NoError(t, err)
	_, err = ParseGPT2BPE(goodEnc, goodBPE)
	require.NoError(t, err)

	var enc map[string]int
	require.NoError(t, json.Unmarshal(goodEnc, &enc))
	with := func(edit func(m map[string]int)) []byte {
		m := map[string]int{}
		for k, v := range enc {
			m[k] = v
		}
		edit(m)
		b, err := json.Marshal(m)
		require.NoError(t, err)
		return b
	}
	for _, c := range []struct {
		name     string
		enc, bpe []byte
		want     string
	}{
		{"not JSON", []byte("nope"), goodBPE, "encoder.json: not a JSON object"},
		{"array", []byte("[1, 2]"), goodBPE, "not a JSON object"},
		{"trailing data", append(append([]byte(nil), goodEnc...), "{}"...), goodBPE, "trailing data"},
		{"truncated", goodEnc[:len(goodEnc)/2], goodBPE, "bad JSON"},
		{"invalid UTF-8", []byte("{\"\xff\": 0}"), goodBPE, "not valid UTF-8"},
		{"string id", []byte(`{"a": "0"}`), goodBPE, "not a number"},
		{"fractional id", []byte(`{"a": 0.5}`), goodBPE, "not an integer"},
		{"negative id", []byte(`{"a": -1}`), goodBPE, "not an integer"},
		{"huge id", []byte(`{"a": 99999999999}`), goodBPE, "not an integer"},
		{"empty token", []byte(`{"": 0}`), goodBPE, "empty token"},
		{"duplicate token", []byte(`{"a": 0, "a": 1}`), goodBPE, `token "a" appears twice`},
		{"sparse ids", with(func(m map[string]int) { m["<|endoftext|>"] = 50256 }), goodBPE, "is not below the number of tokens"},
		{"shared id", with(func(m map[string]int) { delete(m, "<|endoftext|>"); m["Ġlow"] = 0; m["!!"] = 265 }), goodBPE, "have the same id"},
		{"missing byte", with(func(m map[string]int) { m["<|endoftext|>"] = 220; delete(m, "Ġ") }), goodBPE, "no token for byte 0x20"},
		{"bad line", goodEnc, []byte("#version: 0.2\na b c\n"), "vocab.bpe: line 2: want two symbols"},
		{"unknown symbol", goodEnc, []byte("#version: 0.2\nqq z\n"), `line 2: "qq" is not a token`},
		{"unknown right symbol", goodEnc, []byte("z qq\n"), `line 1: "qq" is not a token`},
		{"unknown merge", goodEnc, []byte("x z\n"), `line 1: the merge "xz" is not a token`},
		{"duplicate pair", goodEnc, []byte("a a\n\nh e\na a\n"), `line 4: the pair "a" "a" repeats line 1`},
		{"invalid UTF-8 merges", goodEnc, []byte("a a\n\xff\n"), "vocab.bpe: not valid UTF-8"},
		{"too large", make([]byte, maxGPT2File+1), goodBPE, "more than the"},
	} {
		_, err := ParseGPT2BPE(c.enc, c.bpe)
		if assert.Error(t, err, c.name) {
			assert.Contains(t, err.Error(), c.want, c.name)
			assert.NotContains(t, err.Error(), "\n", c.name)
		}
	}

	// Files: a missing one, and one too large (refused before reading).
	dir := t.TempDir()
	_, err = LoadGPT2BPEDir(dir)
	require.ErrorContains(t, err, "encoder.json")
	big := filepath.Join(dir, "encoder.json")
	f, err := os.Create(big)
	require.NoError(t, err)
	require.NoError(t, f.Truncate(maxGPT2File+1))
	require.NoError(t, f.Close())
	_, err = LoadGPT2BPEDir(dir)
	require.ErrorContains(t, err, "over the 67108864-byte limit")
	// A vocab.bpe without its "#version" line, with CRLF line ends, is fine.
	require.NoError(t, os.WriteFile(big, goodEnc, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "vocab.bpe"), []byte("a a\r\naa aa\r\n"), 0o644))
	b, err := LoadGPT2BPEDir(dir)
	require.NoError(t, err)
	assert.Equal(t, []string{"aaaa", "aa"}, tokensOf(t, b, b.Encode("aaaaaa")))
	_, err = LoadGPT2BPE(big, filepath.Join(dir, "none.bpe"))
	require.ErrorContains(t, err, "none.bpe")
}

func TestGPT2SpecialTokens(t *testing.T) {
	enc, err := os.ReadFile(filepath.Join("testdata", "gpt2_tiny", "encoder.json"))
	require.NoError(t, err)
	merges, err := os.ReadFile(filepath.Join("testdata", "gpt2_tiny", "vocab.bpe"))
	require.NoError(t, err)
	// Replace <|endoftext|> by a token whose characters stand for no bytes: it
	// decodes to its own text, and Encode never produces it.
	enc = bytes.Replace(enc, []byte(`"<|endoftext|>"`), []byte(`"<|日本|>"`), 1)
	b, err := ParseGPT2BPE(enc, merges)
	require.NoError(t, err)
	assert.Equal(t, -1, b.EndOfText())
	got, err := b.Decode([]int{272, 0})
	require.NoError(t, err)
	assert.Equal(t, "<|日本|>!", string(got))
	assert.NotContains(t, b.Encode("<|日本|>"), 272)
}

// gpt2Fixture is testdata/gpt2_reference.json, written by
// scripts/fixtures_gpt2_bpe.sh.
type gpt2Fixture struct {
	Reference string            `json:"reference"`
	Files     map[string]string `json:"files"`
	Cases     []struct {
		Name string `json:"name"`
		Text string `json:"text"`
		IDs  []int  `json:"ids"`
	} `json:"cases"`
	Pieces []struct {
		Name   string   `json:"name"`
		Text   string   `json:"text"`
		Pieces []string `json:"pieces"`
		IDs    []int    `json:"ids"`
	} `json:"pieces"`
	Corpora []struct {
		File      string `json:"file"`
		SHA256    string `json:"sha256"`
		Bytes     int    `json:"bytes"`
		Tokens    int    `json:"tokens"`
		IDsSHA256 string `json:"ids_sha256"`
	} `json:"corpora"`
}

func readGPT2Fixture(t testing.TB) gpt2Fixture {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "gpt2_reference.json"))
	require.NoError(t, err)
	var fx gpt2Fixture
	require.NoError(t, json.Unmarshal(data, &fx))
	require.NotEmpty(t, fx.Cases)
	return fx
}

func TestGPT2FixtureFiles(t *testing.T) {
	fx := readGPT2Fixture(t)
	d, ok := datasets.Lookup("gpt2-bpe")
	require.True(t, ok)
	require.Len(t, d.Files, 2)
	for _, f := range d.Files {
		assert.Equal(t, f.SHA256, fx.Files[f.Path], f.Path)
	}
	// The split cases hold the pieces of this package's pre-tokenizer.
	for _, c := range fx.Pieces {
		assert.Equal(t, c.Pieces, GPT2PreTokenize(c.Text), c.Name)
	}
}

func TestGPT2Reference(t *testing.T) {
	b := realGPT2(t)
	fx := readGPT2Fixture(t)
	assert.Equal(t, GPT2VocabSize, b.Len())
	assert.Equal(t, GPT2EndOfTextID, b.EndOfText())
	tok, _ := b.Token(GPT2EndOfTextID)
	assert.Equal(t, GPT2EndOfText, tok)
	assert.Len(t, b.merges, 50000)
	for _, c := range fx.Cases {
		ids := requireRoundTrip(t, b, c.Text)
		require.Equal(t, c.IDs, ids, "%s: %q", c.Name, c.Text)
	}
	for _, c := range fx.Pieces {
		ids := requireRoundTrip(t, b, c.Text)
		require.Equal(t, c.IDs, ids, "%s: %q", c.Name, c.Text)
	}
	t.Logf("%d texts and %d split texts agree with %s", len(fx.Cases), len(fx.Pieces), fx.Reference)
}

// readCorpus reads a dataset file from $TRIAD_DATA or ../shared/data,
// decompressing .gz files; it skips the test when the file is not there.
func readCorpus(t testing.TB, rel string) []byte {
	t.Helper()
	p := dataFile(t, rel)
	f, err := os.Open(p)
	require.NoError(t, err)
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(rel, ".gz") {
		zr, err := gzip.NewReader(f)
		require.NoError(t, err)
		r = zr
	}
	data, err := io.ReadAll(r)
	require.NoError(t, err)
	return data
}

func TestGPT2ReferenceCorpora(t *testing.T) {
	if testing.Short() {
		t.Skip("encodes 5.6 MB of text; skipped with -short")
	}
	b := realGPT2(t)
	fx := readGPT2Fixture(t)
	for _, c := range fx.Corpora {
		t.Run(c.File, func(t *testing.T) {
			data := readCorpus(t, c.File)
			sum := sha256.Sum256(data)
			require.Equal(t, c.SHA256, hex.EncodeToString(sum[:]), "the fixture was written from another %s", c.File)
			ids := requireRoundTrip(t, b, string(data))
			assert.Equal(t, c.Tokens, len(ids))
			var buf bytes.Buffer
			for i, id := range ids {
				if i > 0 {
					buf.WriteByte(',')
				}
				buf.WriteString(strconv.Itoa(id))
			}
			got := sha256.Sum256(buf.Bytes())
			assert.Equal(t, c.IDsSHA256, hex.EncodeToString(got[:]), "the ids differ from the reference's")
		})
	}
}

// FuzzGPT2BPE checks that Decode(Encode(text)) == text for any bytes, with
// the tiny vocabulary and, when it is at hand, GPT-2's; that both merge
// procedures agree on every piece; and that the loader never panics. The
// encoder.json it loads is either the fuzzed bytes themselves (raw) or the
// tiny vocabulary's with the fuzzed bytes spliced in at an offset, replacing
// up to 63 bytes, which keeps inputs small while reaching the deeper checks;
// whatever the loader accepts must encode text reversibly too.
func FuzzGPT2BPE(f *testing.F) {
	goodEnc, err := os.ReadFile(filepath.Join("testdata", "gpt2_tiny", "encoder.json"))
	if err != nil {
		f.Fatal(err)
	}
	goodBPE, err := os.ReadFile(filepath.Join("testdata", "gpt2_tiny", "vocab.bpe"))
	if err != nil {
		f.Fatal(err)
	}
	at := func(s string) uint16 { return uint16(bytes.Index(goodEnc, []byte(s))) }
	f.Add([]byte("Hello, world! It's 2024.\n\n  xyxy aaaaa lower"), []byte(nil), uint16(0), uint16(0), false, goodBPE)
	f.Add([]byte("a\xffb \xed\xa0\x80 \xc3 'll 😀 \u0085\ufeff"), []byte(nil), uint16(0), uint16(0), false, []byte("#version: 0.2\nx y\nxy x\n"))
	f.Add([]byte(strings.Repeat("ab", 60)), []byte(`"ab": 273, `), at(`"<|endoftext|>"`), uint16(0), false, []byte("a b\n"))
	f.Add([]byte(" the lower"), []byte(`"Ġ": 271`), at(`"Ã©": 271`), uint16(len(`"Ã©": 271`)), false, goodBPE)
	f.Add([]byte(" \t\n "), []byte(`{"a":0,"a":1}`), uint16(0), uint16(0), true, []byte(""))
	f.Add([]byte("x"), []byte(`{"a": 0}`), uint16(0), uint16(0), true, []byte("\xff"))
	tiny, err := ParseGPT2BPE(goodEnc, goodBPE)
	if err != nil {
		f.Fatal(err)
	}
	full, _ := loadRealGPT2() // nil when GPT-2's files are not at hand
	f.Fuzz(func(t *testing.T, text, edit []byte, offset, cut uint16, raw bool, merges []byte) {
		s := string(text)
		if got := strings.Join(GPT2PreTokenize(s), ""); got != s {
			t.Fatalf("pieces of %q join to %q", s, got)
		}
		for _, b := range []*GPT2BPE{tiny, full} {
			if b == nil {
				continue
			}
			checkGPT2RoundTrip(t, b, text)
			for _, p := range GPT2PreTokenize(s) {
				if len(p) > 4096 {
					continue // rounds cost O(n^2)
				}
				syms := make([]int32, len(p))
				for i := range syms {
					syms[i] = b.byteID[p[i]]
				}
				short := b.mergeShort(append([]int32(nil), syms...))
				long := b.mergeLong(syms)
				if fmt.Sprint(short) != fmt.Sprint(long) {
					t.Fatalf("piece %q: %v by rounds, %v with the heap", p, short, long)
				}
			}
		}
		enc := edit
		if !raw {
			i := int(offset) % (len(goodEnc) + 1)
			j := min(i+int(cut)%64, len(goodEnc))
			enc = append(append(append([]byte(nil), goodEnc[:i]...), edit...), goodEnc[j:]...)
		}
		b, err := ParseGPT2BPE(enc, merges)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error of more than one line: %q", err)
			}
			return
		}
		checkGPT2RoundTrip(t, b, text)
	})
}

func checkGPT2RoundTrip(t *testing.T, b *GPT2BPE, text []byte) {
	t.Helper()
	ids := b.Encode(string(text))
	back, err := b.Decode(ids)
	if err != nil || !bytes.Equal(back, text) {
		t.Fatalf("Decode(Encode(%q)) = %q, %v", text, back, err)
	}
	for _, id := range ids {
		if id < 0 || id >= b.Len() {
			t.Fatalf("id %d out of range", id)
		}
	}
}

// BenchmarkGPT2Encode encodes tiny-shakespeare's input.txt with GPT-2's
// vocabulary, the cache warm after the first pass; BenchmarkGPT2EncodeCold
// empties the cache before each pass.
func BenchmarkGPT2Encode(bm *testing.B) { benchmarkGPT2(bm, false) }

// BenchmarkGPT2EncodeCold is BenchmarkGPT2Encode with an empty cache at each
// pass.
func BenchmarkGPT2EncodeCold(bm *testing.B) { benchmarkGPT2(bm, true) }

func benchmarkGPT2(bm *testing.B, cold bool) {
	b := realGPT2(bm)
	text := string(readCorpus(bm, "tinyshakespeare/input.txt"))
	ids := make([]int, 0, len(text)/3)
	bm.SetBytes(int64(len(text)))
	bm.ResetTimer()
	for i := 0; i < bm.N; i++ {
		if cold {
			b.mu.Lock()
			b.cache = nil
			b.mu.Unlock()
		}
		ids = b.AppendEncode(ids[:0], text)
	}
	bm.ReportMetric(float64(len(ids)), "tokens")
}
