package translate

import (
	"path/filepath"
	"strings"

	"github.com/pkg/errors"

	"github.com/triadml/triad/datasets"
	"github.com/triadml/triad/datasets/vocab"
	"github.com/triadml/triad/models/decode"
)

// specials are the special ids of both vocabularies.
var specials = decode.Tokens{Pad: vocab.PadID, Unk: vocab.UnkID, BOS: vocab.BOSID, EOS: vocab.EOSID}

// side is the text processing of one language: a tokenizer (words, or BPE
// symbols of the words) and a vocabulary built from the training split.
type side struct {
	lang string
	word vocab.WordTokenizer
	bpe  *vocab.BPE // nil: word tokens
	voc  *vocab.Vocab
}

// tokens splits a line into the model's tokens.
func (s *side) tokens(line string) []string {
	if s.bpe != nil {
		return s.bpe.Tokenize(line)
	}
	return s.word.Tokenize(line)
}

// text joins output tokens into detokenised text. Special tokens other than
// <unk> are dropped; each <unk> is replaced by replace(i) when that is given
// and returns a word.
func (s *side) text(ids []int, replace func(i int) string) string {
	var toks []string
	for i, id := range ids {
		tok, ok := s.voc.Token(id)
		if !ok || id == vocab.PadID || id == vocab.BOSID || id == vocab.EOSID {
			continue
		}
		if id == vocab.UnkID {
			if replace != nil {
				if w := replace(i); w != "" {
					tok = w
				}
			}
			if s.bpe != nil && !strings.HasSuffix(tok, vocab.EndOfWord) {
				tok += vocab.EndOfWord
			}
		}
		toks = append(toks, tok)
	}
	if s.bpe != nil {
		return s.bpe.Detokenize(toks)
	}
	return s.word.Detokenize(toks)
}

func (s *side) vocabPath(dir string) string { return filepath.Join(dir, "vocab."+s.lang+".json") }
func (s *side) bpePath(dir string) string   { return filepath.Join(dir, "bpe."+s.lang+".json") }

// save writes the vocabulary (and BPE model) into the run directory.
func (s *side) save(dir string) error {
	if s.bpe != nil {
		if err := s.bpe.Save(s.bpePath(dir)); err != nil {
			return errors.Wrap(err, "translate")
		}
	}
	return errors.Wrap(s.voc.Save(s.vocabPath(dir)), "translate")
}

// buildSides learns both languages' tokenizers and vocabularies from the
// training pairs.
func buildSides(cfg Config, pairs []datasets.Pair) (src, tgt *side, err error) {
	build := func(lang string, lines []string) (*side, error) {
		s := &side{lang: lang, word: vocab.WordTokenizer{Lower: cfg.Lower}}
		if cfg.Vocab == "bpe" {
			b, err := vocab.TrainBPE(lines, vocab.BPEConfig{VocabSize: cfg.BPESize, Pre: s.word})
			if err != nil {
				return nil, errors.Wrapf(err, "translate: BPE of %s", lang)
			}
			s.bpe = b
		}
		counts := map[string]int{}
		for _, l := range lines {
			for _, t := range s.tokens(l) {
				counts[t]++
			}
		}
		v, err := vocab.Build(counts, vocab.BuildOptions{MinFreq: cfg.MinFreq})
		if err != nil {
			return nil, errors.Wrapf(err, "translate: vocabulary of %s", lang)
		}
		s.voc = v
		return s, nil
	}
	srcLines, tgtLines := make([]string, len(pairs)), make([]string, len(pairs))
	for i, p := range pairs {
		srcLines[i], tgtLines[i] = p.Source, p.Target
	}
	if src, err = build(cfg.Src, srcLines); err != nil {
		return nil, nil, err
	}
	if tgt, err = build(cfg.Tgt, tgtLines); err != nil {
		return nil, nil, err
	}
	return src, tgt, nil
}

// loadSides reads the vocabularies (and BPE models) a run saved.
func loadSides(dir string, cfg Config) (src, tgt *side, err error) {
	load := func(lang string) (*side, error) {
		s := &side{lang: lang, word: vocab.WordTokenizer{Lower: cfg.Lower}}
		if cfg.Vocab == "bpe" {
			b, err := vocab.LoadBPE(s.bpePath(dir))
			if err != nil {
				return nil, err
			}
			s.bpe = b
		}
		v, err := vocab.LoadVocab(s.vocabPath(dir))
		if err != nil {
			return nil, err
		}
		s.voc = v
		return s, nil
	}
	if src, err = load(cfg.Src); err != nil {
		return nil, nil, err
	}
	if tgt, err = load(cfg.Tgt); err != nil {
		return nil, nil, err
	}
	return src, tgt, nil
}

// unkReplacer returns the function that replaces output <unk> number i of h by
// the source token of largest attention weight, or nil when replacement is off
// or the vocabulary is not made of words (Luong et al. 2015).
func unkReplacer(cfg Config, src *side, srcToks []string, h decode.Hypothesis) func(int) string {
	if !cfg.UnkReplace || src.bpe != nil {
		return nil
	}
	return func(i int) string {
		if i >= len(h.Weights) || len(srcToks) == 0 {
			return ""
		}
		row := h.Weights[i]
		best := 0
		for j := 0; j < len(srcToks) && j < len(row); j++ {
			if row[j] > row[best] {
				best = j
			}
		}
		return srcToks[best]
	}
}
