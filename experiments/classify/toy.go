package classify

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	"github.com/pkg/errors"

	"github.com/triadml/triad/datasets"
)

// toyWords returns n words drawn from filler.
func toyWords(rng *rand.Rand, filler []string, n int) []string {
	words := make([]string, n)
	for i := range words {
		words[i] = filler[rng.IntN(len(filler))]
	}
	return words
}

// WriteToyPolarity writes a small dataset in rt-polarity's layout into dir
// (rt-polarity.neg, rt-polarity.pos): n sentences of each polarity, each with
// one telling word among neutral ones, so that a working model separates them.
// It is for examples and tests that cannot wait for the real data.
func WriteToyPolarity(dir string, n int) error {
	rng := rand.New(rand.NewPCG(1, 2))
	filler := strings.Fields("the film a story with its cast and plot this movie of an actor scene")
	for _, f := range []struct {
		name string
		cues []string
	}{{"rt-polarity.neg", []string{"dull", "awful", "boring"}}, {"rt-polarity.pos", []string{"great", "moving", "funny"}}} {
		var lines []string
		for i := 0; i < n; i++ {
			words := toyWords(rng, filler, 3+rng.IntN(8))
			words[rng.IntN(len(words))] = f.cues[rng.IntN(len(f.cues))]
			lines = append(lines, strings.Join(words, " "))
		}
		if err := os.WriteFile(filepath.Join(dir, f.name), []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
			return errors.Wrap(err, "classify")
		}
	}
	return nil
}

// WriteToySNIPS writes a small dataset in SNIPS's layout into dir
// (snips_train.tsv, snips_valid.tsv): train and valid sentences of each intent,
// each with the intent's own cue word ("cue0" to "cue6") among neutral ones.
func WriteToySNIPS(dir string, train, valid int) error {
	rng := rand.New(rand.NewPCG(3, 4))
	filler := strings.Fields("please i want to the a for me now could you some my")
	for _, split := range []struct {
		name string
		n    int
	}{{"train", train}, {"valid", valid}} {
		var sb strings.Builder
		for i := 0; i < split.n; i++ {
			for k, intent := range datasets.SNIPSIntents {
				words := toyWords(rng, filler, 2+rng.IntN(6))
				words[rng.IntN(len(words))] = fmt.Sprintf("cue%d", k)
				fmt.Fprintf(&sb, "%s\t%s\n", intent, strings.Join(words, " "))
			}
		}
		if err := os.WriteFile(filepath.Join(dir, "snips_"+split.name+".tsv"), []byte(sb.String()), 0o644); err != nil {
			return errors.Wrap(err, "classify")
		}
	}
	return nil
}
