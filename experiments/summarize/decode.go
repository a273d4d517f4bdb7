package summarize

import (
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

// decodeRows is the number of rows (hypotheses) decoded together: 100
// articles greedily, 100/beam with beam search, whose state holds a copy of
// an article's encoding for each of its hypotheses.
const decodeRows = 100

// chunkOf returns how many articles a decoding chunk holds with beam beam.
func chunkOf(beam int) int { return max(1, decodeRows/max(1, beam)) }

// decodeGreedy returns the greedy headlines of the validation pairs idx, decoded
// in chunks of articles of similar lengths.
func (t *task) decodeGreedy(idx []int) ([]string, error) {
	opt := t.cfg.constrain(decode.Options{BOS: vocab.BOSID, EOS: vocab.EOSID, MaxLen: t.cfg.MaxDecode})
	srcs := make([][]int, len(idx))
	for i, j := range idx {
		srcs[i] = t.valid[j].src
	}
	toks, err := decode.ByLength(srcs, chunkOf(1), func(batch [][]int) ([][]int, error) { return greedy(t.decoder, batch, opt) })
	if err != nil {
		return nil, err
	}
	out := make([]string, len(idx))
	for i, j := range idx {
		out[i] = headline(t.voc, toks[i], t.valid[j].oovs)
	}
	return out, nil
}

// greedy returns the greedy tokens of every source of srcs, decoded together.
func greedy(m decode.StepModel, srcs [][]int, opt decode.Options) ([][]int, error) {
	hyps, err := decode.Greedy(m, srcs, opt)
	if err != nil {
		return nil, err
	}
	out := make([][]int, len(hyps))
	for i, h := range hyps {
		out[i] = h.Tokens
	}
	return out, nil
}

// beams returns the tokens of the best hypothesis of a beam search of every
// source of srcs (none when it found none), decoded together.
func beams(m decode.StepModel, srcs [][]int, opt decode.Options) ([][]int, error) {
	hyps, err := decode.BeamSearchBatch(m, srcs, []decode.Options{opt})
	if err != nil {
		return nil, err
	}
	out := make([][]int, len(hyps))
	for i, hs := range hyps {
		if len(hs) > 0 {
			out[i] = hs[0].Tokens
		}
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

// decodeArticles returns the headlines of articles' words ("" for none), each
// cut to maxSrc words, decoded in chunks of articles of similar lengths with
// beam search or, for a beam of 1, greedily.
func decodeArticles(m decode.StepModel, voc *vocab.Vocab, articles [][]string, maxSrc int, opt decode.Options) ([]string, error) {
	var srcs [][]int
	var oovs [][]string
	var which []int // the article of each source
	for i, words := range articles {
		if len(words) == 0 {
			continue
		}
		if len(words) > maxSrc {
			words = words[:maxSrc]
		}
		src, o := pointer.ExtendSource(words, voc.ID, voc.Len())
		srcs, oovs, which = append(srcs, src), append(oovs, o), append(which, i)
	}
	decodeBatch := func(batch [][]int) ([][]int, error) { return greedy(m, batch, opt) }
	if opt.Beam > 1 {
		decodeBatch = func(batch [][]int) ([][]int, error) { return beams(m, batch, opt) }
	}
	toks, err := decode.ByLength(srcs, chunkOf(opt.Beam), decodeBatch)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(articles))
	for k, i := range which {
		out[i] = headline(voc, toks[k], oovs[k])
	}
	return out, nil
}
