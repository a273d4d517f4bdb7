package summarize

import (
	"path/filepath"

	"github.com/pkg/errors"

	"github.com/triadml/triad/datasets/vocab"
	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/models/pointer"
	"github.com/triadml/triad/train"
)

// Summarizer is a finished run loaded to write headlines: its configuration,
// vocabulary and best weights.
type Summarizer struct {
	cfg Config
	voc *vocab.Vocab
	dec *pointer.Decoder
}

// Load reads the run in dir: config.json, vocab.json and the best checkpoint
// (the last one where there is no best yet).
func Load(dir string) (*Summarizer, error) {
	cfg := DefaultConfig()
	if err := train.ReadConfig(dir, &cfg); err != nil {
		return nil, errors.Wrap(err, "not a summarize run")
	}
	voc, err := vocab.LoadVocab(filepath.Join(dir, "vocab.json"))
	if err != nil {
		return nil, err
	}
	model, store, _, err := train.Restore(dir, cfg.Seed, func(s *graph.Store) (*pointer.Model, error) {
		return pointer.New(s, cfg.model(voc.Len()))
	})
	if err != nil {
		return nil, err
	}
	return &Summarizer{cfg: cfg, voc: voc, dec: model.NewDecoder(store)}, nil
}

// Options returns the run's decoding settings, Summarize's usual options.
func (s *Summarizer) Options() DecodeOptions { return s.cfg.DecodeOptions }

// Summarize returns a headline for every article, one for one. An article is
// lowercased, its digits written as '#', split on white space (the Gigaword
// sample's form; tokenise text like it for the best results) and cut to the
// run's max_src words; an empty article gives an empty headline. Articles are
// decoded together, in chunks of similar lengths; a beam of 1 decodes
// greedily. On an error no headline is returned.
func (s *Summarizer) Summarize(articles []string, opts DecodeOptions) ([]string, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	words := make([][]string, len(articles))
	for i, a := range articles {
		words[i] = normaliseArticle(a)
	}
	return decodeArticles(s.dec, s.voc, words, s.cfg.MaxSrc, opts.search())
}

// SourceWords returns the number of words Summarize finds in article and the
// most it reads, the run's max_src: an article with more is cut to its first
// max_src words.
func (s *Summarizer) SourceWords(article string) (words, limit int) {
	return len(normaliseArticle(article)), s.cfg.MaxSrc
}

// Close frees the compiled decoding programs.
func (s *Summarizer) Close() error { return s.dec.Close() }
