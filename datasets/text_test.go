package datasets

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReadLines(t *testing.T) {
	cases := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"a", []string{"a"}},
		{"a\n", []string{"a"}},
		{"a\nb", []string{"a", "b"}},
		{"a\r\nb\r\n", []string{"a", "b"}},
		{"a\n\nb\n", []string{"a", "", "b"}},
		{"\n", []string{""}},
		{"a\n\n", []string{"a", ""}},
		{"Grüße 🍕\n", []string{"Grüße 🍕"}},
	}
	for _, c := range cases {
		got, err := ReadLines(strings.NewReader(c.in))
		require.NoError(t, err, "%q", c.in)
		assert.Equal(t, c.want, got, "%q", c.in)
	}
	_, err := ReadLines(strings.NewReader("ok\nbad \xff byte\n"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "line 2: invalid UTF-8 at byte 4")
}

func TestLoadTextAndLines(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "corpus.txt")
	writeFile(t, p, []byte("First Citizen:\nBefore we proceed\n"))
	s, err := LoadText(p)
	require.NoError(t, err)
	assert.Equal(t, "First Citizen:\nBefore we proceed\n", s)

	gz := filepath.Join(dir, "corpus.txt.gz")
	writeFile(t, gz, gzipBytes(t, []byte("x\ny\n")))
	lines, err := LoadLines(gz)
	require.NoError(t, err)
	assert.Equal(t, []string{"x", "y"}, lines)

	bad := filepath.Join(dir, "bad.txt")
	writeFile(t, bad, []byte("one\ntwo\xc3\n"))
	_, err = LoadText(bad)
	require.Error(t, err)
	assert.Contains(t, err.Error(), bad+": line 2: invalid UTF-8 at byte offset 7")
	_, err = LoadLines(bad)
	require.Error(t, err)
	assert.Contains(t, err.Error(), bad+": line 2")

	// A truncated gzip file is reported as such, with its name.
	full := gzipBytes(t, []byte(strings.Repeat("a line of text\n", 200)))
	trunc := filepath.Join(dir, "trunc.gz")
	writeFile(t, trunc, full[:len(full)/2])
	_, err = LoadLines(trunc)
	require.Error(t, err)
	assert.Equal(t, trunc+": truncated gzip stream", err.Error())
	_, err = LoadText(trunc)
	require.Error(t, err)
	assert.Equal(t, trunc+": truncated gzip stream", err.Error())
}

func TestLoadParallel(t *testing.T) {
	dir := t.TempDir()
	en, de := filepath.Join(dir, "train.en.gz"), filepath.Join(dir, "train.de.gz")
	writeFile(t, en, gzipBytes(t, []byte("A dog runs.\nTwo men.\n")))
	writeFile(t, de, gzipBytes(t, []byte("Ein Hund rennt.\nZwei Männer.\n")))
	pairs, err := LoadMulti30k(dir, "train", "en", "de")
	require.NoError(t, err)
	assert.Equal(t, []Pair{{"A dog runs.", "Ein Hund rennt."}, {"Two men.", "Zwei Männer."}}, pairs)
	pairs, err = LoadMulti30k(dir, "train", "de", "en")
	require.NoError(t, err)
	assert.Equal(t, "Ein Hund rennt.", pairs[0].Source)

	writeFile(t, de, gzipBytes(t, []byte("Ein Hund rennt.\n")))
	_, err = LoadParallel(en, de)
	require.Error(t, err)
	assert.Contains(t, err.Error(), en+" has 2 lines but "+de+" has 1")

	_, err = LoadMulti30k(dir, "test", "en", "de")
	assert.Error(t, err)
	_, err = LoadMulti30k(dir, "train", "en", "fr")
	assert.Error(t, err)

	writeFile(t, filepath.Join(dir, "valid.article.filter.txt"), []byte("police arrest # men\n"))
	writeFile(t, filepath.Join(dir, "valid.title.filter.txt"), []byte("# arrested\n"))
	pairs, err = LoadGigaword(dir, "valid")
	require.NoError(t, err)
	assert.Equal(t, []Pair{{"police arrest # men", "# arrested"}}, pairs)
	_, err = LoadGigaword(dir, "test")
	assert.Error(t, err)
	_, err = LoadGigaword(dir, "train")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "train.article.txt")
}

func TestLabeledTSV(t *testing.T) {
	rows, err := ReadLabeledTSV(strings.NewReader("b\tsecond one\na\tfirst\twith tab\n"))
	require.NoError(t, err)
	assert.Equal(t, []LabeledText{{"b", "second one"}, {"a", "first\twith tab"}}, rows)

	bad := []struct{ in, want string }{
		{"no tab here\n", "line 1: no TAB"},
		{"a\tok\n\tno label\n", "line 2: empty label"},
		{"a b\ttext\n", "holds white space"},
		{"a\t  \n", "line 1: empty text"},
		{"a\tx\n\n", "line 2: no TAB"},
	}
	for _, c := range bad {
		_, err := ReadLabeledTSV(strings.NewReader(c.in))
		require.Error(t, err, "%q", c.in)
		assert.Contains(t, err.Error(), c.want, "%q", c.in)
	}

	dir := t.TempDir()
	p := filepath.Join(dir, "x.tsv")
	writeFile(t, p, []byte("pos\tgood\nneg\tbad\npos\tfine\n"))
	ex, names, err := LoadLabeledTSV(p)
	require.NoError(t, err)
	assert.Equal(t, []string{"neg", "pos"}, names)
	assert.Equal(t, []Example{{"good", 1}, {"bad", 0}, {"fine", 1}}, ex)

	writeFile(t, filepath.Join(dir, "snips_valid.tsv"), []byte("RateBook\trate this 5\nAddToPlaylist\tadd it\n"))
	ex, names, err = LoadSNIPS(dir, "valid")
	require.NoError(t, err)
	assert.Equal(t, SNIPSIntents, names)
	assert.Equal(t, []Example{{"rate this 5", 4}, {"add it", 0}}, ex)
	writeFile(t, filepath.Join(dir, "snips_train.tsv"), []byte("RateBook\tok\nOrderPizza\tone please\n"))
	_, _, err = LoadSNIPS(dir, "train")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "snips_train.tsv: line 2: unknown intent \"OrderPizza\"")
	_, _, err = LoadSNIPS(dir, "test")
	assert.Error(t, err)
}

func TestLoadRTPolarityFixture(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "rt-polarity.pos"), []byte("a joy .\nwonderful .\n"))
	writeFile(t, filepath.Join(dir, "rt-polarity.neg"), []byte("a bore .\n"))
	ex, names, err := LoadRTPolarity(dir)
	require.NoError(t, err)
	assert.Equal(t, []string{"negative", "positive"}, names)
	assert.Equal(t, []Example{{"a bore .", 0}, {"a joy .", 1}, {"wonderful .", 1}}, ex)

	writeFile(t, filepath.Join(dir, "rt-polarity.neg"), []byte("a bore .\n\nmore\n"))
	_, _, err = LoadRTPolarity(dir)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "rt-polarity.neg: line 2: empty line")
}

func TestReadCMUDict(t *testing.T) {
	in := ";;; a comment\n'bout B AW T\na EY\na(2) AH\n\nabode AH0 B OW1 D\n"
	got, err := ReadCMUDict(strings.NewReader(in))
	require.NoError(t, err)
	assert.Equal(t, []Pronunciation{
		{"'bout", 1, []string{"B", "AW", "T"}},
		{"a", 1, []string{"EY"}},
		{"a", 2, []string{"AH"}},
		{"abode", 1, []string{"AH0", "B", "OW1", "D"}},
	}, got)
	assert.Len(t, CMUPhones, 39)

	for in, want := range map[string]string{
		"lonely\n":        "line 1: word \"lonely\" has no phonemes",
		"x(0) EY\n":       "bad variant suffix",
		"x(two) EY\n":     "bad variant suffix",
		"x Q\n":           "unknown phoneme \"Q\"",
		"x AH12\n":        "unknown phoneme \"AH12\"",
		"ok EY\nx \xff\n": "line 2: invalid UTF-8",
	} {
		_, err := ReadCMUDict(strings.NewReader(in))
		require.Error(t, err, "%q", in)
		assert.Contains(t, err.Error(), want, "%q", in)
	}

	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "cmudict-en-us.dict.gz"), gzipBytes(t, []byte("hello HH AH L OW\nwor!d W ER L D\n")))
	got, err = LoadCMUDict(dir)
	require.NoError(t, err)
	assert.Len(t, got, 2)
	writeFile(t, filepath.Join(dir, "cmudict-en-us.dict.gz"), gzipBytes(t, []byte("hello HH AH L OW\nworld W ER L DD\n")))
	_, err = LoadCMUDict(dir)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "cmudict-en-us.dict.gz: line 2: unknown phoneme \"DD\"")
}

func TestRepairCESU8(t *testing.T) {
	// U+1F355 (pizza) is the surrogate pair D83C DF55; CESU-8 encodes each half
	// as three bytes: ED A0 BC, ED BD 95.
	cesu := []byte("Pop \xed\xa0\xbc\xed\xbd\x95 off")
	assert.Equal(t, "Pop 🍕 off", string(RepairCESU8(cesu)))
	plain := []byte("nothing to do é")
	assert.Equal(t, plain, RepairCESU8(plain))
	// A lone half stays as it is.
	lone := []byte("x\xed\xa0\xbcy")
	assert.Equal(t, lone, RepairCESU8(lone))
	// Two pairs back to back.
	assert.Equal(t, "🍕🍕", string(RepairCESU8(bytes.Repeat([]byte("\xed\xa0\xbc\xed\xbd\x95"), 2))))
}
