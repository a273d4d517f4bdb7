package summarize

import (
	"sort"
	"strings"

	"github.com/triadml/triad/datasets/vocab"
	"github.com/triadml/triad/models/decode"
	"github.com/triadml/triad/models/pointer"
)

// constrain returns opt under the decoding constraints of o: without <unk>,
// without repeated words or trigrams.
func (o DecodeOptions) constrain(opt decode.Options) decode.Options {
	if o.NoUnk {
		opt.Forbid = []int{vocab.UnkID}
	}
	switch {
	case o.NoRepeatWords:
		opt.NoRepeatNgram = 1
	case o.NoRepeatTrigram:
		opt.NoRepeatNgram = 3
	}
	return opt
}

// search returns the options of beam search (and of greedy decoding with a beam
// of 1), under the decoding constraints.
func (o DecodeOptions) search() decode.Options {
	return o.constrain(decode.Options{BOS: vocab.BOSID, EOS: vocab.EOSID, MaxLen: o.MaxDecode, Beam: o.Beam, Alpha: o.LengthPenalty})
}

// decodeChunk is the number of articles decoded together greedily.
const decodeChunk = 100

// decodeGreedy returns the greedy headlines of the validation pairs idx, decoded
// in chunks of articles of similar lengths.
func (t *task) decodeGreedy(idx []int) ([]string, error) {
	order := append([]int(nil), idx...)
	sort.SliceStable(order, func(a, b int) bool { return len(t.valid[order[a]].src) < len(t.valid[order[b]].src) })
	byPair := map[int]string{}
	opt := t.cfg.constrain(decode.Options{BOS: vocab.BOSID, EOS: vocab.EOSID, MaxLen: t.cfg.MaxDecode})
	for lo := 0; lo < len(order); lo += decodeChunk {
		chunk := order[lo:min(lo+decodeChunk, len(order))]
		srcs := make([][]int, len(chunk))
		for i, j := range chunk {
			srcs[i] = t.valid[j].src
		}
		hyps, err := decode.Greedy(t.decoder, srcs, opt)
		if err != nil {
			return nil, err
		}
		for i, j := range chunk {
			byPair[j] = headline(t.voc, hyps[i].Tokens, t.valid[j].oovs)
		}
	}
	out := make([]string, len(idx))
	for i, j := range idx {
		out[i] = byPair[j]
	}
	return out, nil
}

// headline turns decoded extended ids into text: vocabulary words and copied
// source words, special tokens other than <unk> left out.
func headline(voc *vocab.Vocab, ids []int, oovs []string) string {
	words := pointer.Words(ids, voc.Token, oovs, voc.Len())
	out := words[:0]
	for _, w := range words {
		if w != vocab.Unk && vocab.IsSpecial(w) {
			continue
		}
		out = append(out, w)
	}
	return strings.Join(out, " ")
}

// decodeArticle returns the headline of one article's words ("" for none), cut
// to maxSrc words, with beam search or, for a beam of 1, greedily.
func decodeArticle(m decode.StepModel, voc *vocab.Vocab, words []string, maxSrc int, opt decode.Options) (string, error) {
	if len(words) == 0 {
		return "", nil
	}
	if len(words) > maxSrc {
		words = words[:maxSrc]
	}
	src, oovs := pointer.ExtendSource(words, voc.ID, voc.Len())
	var hyps []decode.Hypothesis
	var err error
	if opt.Beam > 1 {
		hyps, err = decode.BeamSearch(m, src, opt)
	} else {
		hyps, err = decode.Greedy(m, [][]int{src}, opt)
	}
	if err != nil || len(hyps) == 0 {
		return "", err
	}
	return headline(voc, hyps[0].Tokens, oovs), nil
}
