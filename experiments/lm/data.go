package lm

import (
	"github.com/triadml/triad/datasets/vocab"
	"github.com/triadml/triad/train"
)

// corpus is the text split into training and validation tokens, with the
// vocabulary of the training tokens.
type corpus struct {
	vocab      *vocab.Vocab
	train, val []string
}

// loadCorpus reads DataDir/input.txt, or the tinyshakespeare dataset when
// DataDir is empty, and splits it. A missing or unreadable text is a usage error.
func loadCorpus(c Config) (*corpus, error) {
	// split on characters, so that char and word levels validate on the same text
	trainPart, valPart, err := train.SplitText(c.DataDir, c.TrainFrac)
	if err != nil {
		return nil, err
	}
	tok, err := tokenizer(c.Level)
	if err != nil {
		return nil, train.Usage(err)
	}
	out := &corpus{train: tok.Tokenize(trainPart), val: tok.Tokenize(valPart)}
	counts := map[string]int{}
	for _, t := range out.train {
		counts[t]++
	}
	if out.vocab, err = vocab.Build(counts, vocab.BuildOptions{MinFreq: c.MinFreq}); err != nil {
		return nil, err
	}
	return out, nil
}
