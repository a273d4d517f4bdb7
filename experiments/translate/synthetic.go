package translate

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/pkg/errors"
)

// lexicon is the word-for-word "German -> English" of the synthetic corpus.
var lexicon = [][2]string{
	{"der", "the"}, {"hund", "dog"}, {"katze", "cat"}, {"mann", "man"}, {"frau", "woman"}, {"kind", "child"},
	{"läuft", "runs"}, {"schläft", "sleeps"}, {"isst", "eats"}, {"sieht", "sees"}, {"rot", "red"}, {"blau", "blue"},
	{"groß", "big"}, {"klein", "small"}, {"hier", "here"}, {"dort", "there"}, {"heute", "today"}, {"schnell", "fast"},
}

// WriteSynthetic writes a small corpus in Multi30k's layout ({train,val}.{de,en}.gz)
// into dir, for examples and tests that must not depend on the real data:
// sentences of 3 to 7 words of an 18-word lexicon and a full stop, translated
// word for word, the first letter capitalised on both sides; a third of them
// also hold a name seen nowhere else, the same on both sides (an unknown word
// that a model can only copy). The corpus is the same for the same sizes.
func WriteSynthetic(dir string, nTrain, nVal int) error {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, split := range []struct {
		name string
		n    int
	}{{"train", nTrain}, {"val", nVal}} {
		var de, en []string
		for i := 0; i < split.n; i++ {
			var d, e []string
			for k := 3 + rng.IntN(5); k > 0; k-- {
				w := lexicon[rng.IntN(len(lexicon))]
				d, e = append(d, w[0]), append(e, w[1])
			}
			if rng.IntN(3) == 0 {
				name := fmt.Sprintf("Xq%s%d", split.name, i)
				k := 1 + rng.IntN(len(d)-1)
				d = append(d[:k], append([]string{name}, d[k:]...)...)
				e = append(e[:k], append([]string{name}, e[k:]...)...)
			}
			de = append(de, capitalised(strings.Join(d, " "))+".")
			en = append(en, capitalised(strings.Join(e, " "))+".")
		}
		if err := writeGzipLines(filepath.Join(dir, split.name+".de.gz"), de); err != nil {
			return err
		}
		if err := writeGzipLines(filepath.Join(dir, split.name+".en.gz"), en); err != nil {
			return err
		}
	}
	return nil
}

// capitalised returns s with its first letter in upper case.
func capitalised(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:]
}

// writeGzipLines writes lines, each ended by a newline, gzip-compressed to path.
func writeGzipLines(path string, lines []string) error {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write([]byte(strings.Join(lines, "\n") + "\n")); err != nil {
		return errors.Wrap(err, "translate")
	}
	if err := zw.Close(); err != nil {
		return errors.Wrap(err, "translate")
	}
	return errors.Wrap(os.WriteFile(path, buf.Bytes(), 0o644), "translate")
}
