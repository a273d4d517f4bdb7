package summarize

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
)

// WriteToyGigaword writes a small sample in the Gigaword sample's layout into
// dir (train.article.txt, train.title.txt, valid.article.filter.txt,
// valid.title.filter.txt): train and valid articles "NAME VERBed the NOUN in
// PLACE on DAY , officials said ." with headlines "NAME VERBs NOUN in PLACE".
// Each name (zq...x, letters only) occurs once, so names are outside a
// vocabulary of words seen twice and only a model that copies can write them.
// It is for examples and tests that cannot wait for the real data.
func WriteToyGigaword(dir string, train, valid int) error {
	rng := rand.New(rand.NewPCG(5, 6))
	verbs := strings.Fields("open close visit attack praise")
	nouns := strings.Fields("bank school plant office bridge port")
	places := strings.Fields("paris tokyo lima cairo oslo")
	days := strings.Fields("monday tuesday friday")
	name := 0
	return writeGigaword(dir, train, valid, func(int) (article, title string) {
		name++
		who := "zq" + letters(name) + "x"
		v, o, p := verbs[rng.IntN(len(verbs))], nouns[rng.IntN(len(nouns))], places[rng.IntN(len(places))]
		article = fmt.Sprintf("%s %sed the %s in %s on %s , officials said .", who, v, o, p, days[rng.IntN(len(days))])
		return article, fmt.Sprintf("%s %ss %s in %s", who, v, o, p)
	})
}

// writeGigaword writes train and then valid pairs in the Gigaword sample's
// layout into dir, asking pair for each pair in turn with its index in its
// split.
func writeGigaword(dir string, train, valid int, pair func(i int) (article, title string)) error {
	write := func(articleFile, titleFile string, n int) error {
		var arts, titles strings.Builder
		for i := range n {
			article, title := pair(i)
			fmt.Fprintln(&arts, article)
			fmt.Fprintln(&titles, title)
		}
		if err := os.WriteFile(filepath.Join(dir, articleFile), []byte(arts.String()), 0o644); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, titleFile), []byte(titles.String()), 0o644)
	}
	if err := write("train.article.txt", "train.title.txt", train); err != nil {
		return err
	}
	return write("valid.article.filter.txt", "valid.title.filter.txt", valid)
}

// letters writes n in base 26 with the letters a to z.
func letters(n int) string {
	s := ""
	for ; n > 0; n /= 26 {
		s = string(rune('a'+n%26)) + s
	}
	return s
}
