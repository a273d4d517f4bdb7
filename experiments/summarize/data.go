package summarize

import (
	"strings"

	"github.com/pkg/errors"

	"github.com/triadml/triad/datasets"
	"github.com/triadml/triad/datasets/vocab"
	"github.com/triadml/triad/metrics"
	"github.com/triadml/triad/models/pointer"
	"github.com/triadml/triad/train"
)

// pair is one article-headline pair in the model's extended ids.
type pair struct {
	// SummaryPair holds the article's tokens, cut to max_src, and the headline
	// as in the file (ROUGE's reference).
	metrics.SummaryPair
	src, tgt []int    // extended ids (tgt cut to max_tgt)
	oovs     []string // the article's out-of-vocabulary words, oovs[k] for id V+k
}

// summaryPairs returns the articles' words and references of set, for the lead
// baseline.
func summaryPairs(set []pair) []metrics.SummaryPair {
	out := make([]metrics.SummaryPair, len(set))
	for i, p := range set {
		out[i] = p.SummaryPair
	}
	return out
}

// normaliseArticle lowercases a line, writes every digit as '#' (the Gigaword
// sample's convention, which its files already follow) and splits it on white
// space: articles and headlines for training, articles to decode.
func normaliseArticle(line string) []string {
	line = strings.ToLower(line)
	line = strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return '#'
		}
		return r
	}, line)
	return strings.Fields(line)
}

// encodePair cuts and encodes one pair with the vocabulary.
func encodePair(voc *vocab.Vocab, article []string, headline string, maxSrc, maxTgt int) pair {
	if len(article) > maxSrc {
		article = article[:maxSrc]
	}
	p := pair{SummaryPair: metrics.SummaryPair{Words: article, Reference: headline}}
	p.src, p.oovs = pointer.ExtendSource(article, voc.ID, voc.Len())
	tgt := normaliseArticle(headline)
	if len(tgt) > maxTgt {
		tgt = tgt[:maxTgt]
	}
	p.tgt = pointer.ExtendTarget(tgt, voc.ID, p.oovs, voc.Len(), vocab.UnkID)
	return p
}

// loadData reads the Gigaword sample's train and valid splits, drops pairs with
// an empty article or headline, builds the vocabulary on the training pairs and
// encodes both splits. A missing or malformed dataset is a usage error.
func loadData(cfg Config) (trainSet, validSet []pair, voc *vocab.Vocab, err error) {
	dir, err := cfg.Find("gigaword-sample")
	if err != nil {
		return nil, nil, nil, err
	}
	raw := map[string][]datasets.Pair{}
	for _, split := range []string{"train", "valid"} {
		pairs, err := datasets.LoadGigaword(dir, split)
		if err != nil {
			return nil, nil, nil, train.Usage(err)
		}
		raw[split] = pairs
	}
	tr, va := keepNonEmpty(raw["train"]), keepNonEmpty(raw["valid"])
	if len(tr) == 0 || len(va) == 0 {
		return nil, nil, nil, train.Usage(errors.Errorf("%s: %d usable training and %d validation pairs", dir, len(tr), len(va)))
	}
	counts := map[string]int{}
	for _, p := range tr {
		for _, w := range p.Words[:min(len(p.Words), cfg.MaxSrc)] {
			counts[w]++
		}
		for _, w := range normaliseArticle(p.Reference) {
			counts[w]++
		}
	}
	if voc, err = vocab.Build(counts, vocab.BuildOptions{MinFreq: cfg.MinFreq, MaxSize: cfg.VocabSize}); err != nil {
		return nil, nil, nil, train.Usage(err)
	}
	for _, p := range tr {
		trainSet = append(trainSet, encodePair(voc, p.Words, p.Reference, cfg.MaxSrc, cfg.MaxTgt))
	}
	for _, p := range va {
		validSet = append(validSet, encodePair(voc, p.Words, p.Reference, cfg.MaxSrc, cfg.MaxTgt))
	}
	return trainSet, validSet, voc, nil
}

// keepNonEmpty returns the pairs whose article and headline both have a token,
// the article normalised.
func keepNonEmpty(pairs []datasets.Pair) []metrics.SummaryPair {
	var out []metrics.SummaryPair
	for _, p := range pairs {
		a := normaliseArticle(p.Source)
		if len(a) > 0 && len(normaliseArticle(p.Target)) > 0 {
			out = append(out, metrics.SummaryPair{Words: a, Reference: p.Target})
		}
	}
	return out
}
