package demo

import (
	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/datasets"
	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/models/decode"
	"github.com/triadml/triad/models/rnn"
	"github.com/triadml/triad/models/seq2seq"
	"github.com/triadml/triad/models/transformer"
	"github.com/triadml/triad/train"
)

// tokens are the special ids of both vocabularies.
var tokens = decode.Tokens{Pad: 0, BOS: 1, EOS: 2, Unk: unk}

// targetChars is the alphabet of ISO dates.
const targetChars = "-0123456789"

// tgtLen is the number of target positions: an ISO date and EOS.
const tgtLen = len(datasets.DateISO) + 1

// greedyChunk is the number of sources decoded together, greedily or with beam
// search.
const greedyChunk = 250

// model is a network of cfg.Model over its parameters, with the vocabularies it
// reads and writes and a step decoder over the same weights.
type model struct {
	cfg      Config
	store    *graph.Store
	src, tgt charVocab
	srcLen   int // the longest source, rounded up to 8: the largest source bucket
	build    func(mode graph.Mode, batch, srcLen int) (seq2seq.PairProgram, error)
	decoder  decode.StepModel
}

// newModel builds cfg's network with freshly initialised weights.
func newModel(cfg Config) (*model, error) {
	return newModelIn(graph.NewStore(tensor.Float32, graph.NewRNG(cfg.Seed, "init")), cfg)
}

// newModelIn is newModel with the parameters created in store.
func newModelIn(store *graph.Store, cfg Config) (*model, error) {
	srcChars, longest := datasets.DateAlphabet()
	m := &model{cfg: cfg, src: newCharVocab(srcChars), tgt: newCharVocab(targetChars), srcLen: (longest + 7) / 8 * 8,
		store: store}
	switch cfg.Model {
	case "rnn":
		net, err := seq2seq.New(m.store, seq2seq.Config{
			SrcVocab: m.src.size(), TgtVocab: m.tgt.size(), Embed: cfg.Embed, Hidden: cfg.Hidden, AttnDim: cfg.AttnDim,
			Cell: rnn.Cell(cfg.Cell), Bidirectional: true, Attention: cfg.Attention, Dropout: cfg.Dropout, Tokens: tokens,
		})
		if err != nil {
			return nil, train.Usage(err)
		}
		m.build = func(mode graph.Mode, batch, srcLen int) (seq2seq.PairProgram, error) {
			return net.Build(m.store, mode, batch, srcLen, tgtLen, cfg.LabelSmoothing)
		}
		m.decoder = net.NewDecoder(m.store)
	case "transformer":
		net, err := transformer.New(m.store, transformer.Config{
			SrcVocab: m.src.size(), TgtVocab: m.tgt.size(), Dim: cfg.Dim, Heads: cfg.Heads, FF: cfg.FF,
			EncoderLayers: cfg.Layers, DecoderLayers: cfg.Layers, Dropout: cfg.Dropout, MaxLen: m.srcLen, Tokens: tokens,
		})
		if err != nil {
			return nil, train.Usage(err)
		}
		m.build = func(mode graph.Mode, batch, srcLen int) (seq2seq.PairProgram, error) {
			return net.Build(m.store, mode, batch, srcLen, tgtLen, cfg.LabelSmoothing)
		}
		m.decoder = net.NewDecoder(m.store)
	default:
		return nil, train.Usage(errors.Errorf("unknown model %q (rnn, transformer)", cfg.Model))
	}
	return m, nil
}

// inChunks encodes srcs greedyChunk at a time and calls decodeChunk with the
// ids of each chunk, in order.
func (m *model) inChunks(srcs []string, decodeChunk func(ids [][]int) error) error {
	for lo := 0; lo < len(srcs); lo += greedyChunk {
		hi := min(lo+greedyChunk, len(srcs))
		ids := make([][]int, hi-lo)
		for i, s := range srcs[lo:hi] {
			ids[i] = m.src.encode(s)
		}
		if err := decodeChunk(ids); err != nil {
			return err
		}
	}
	return nil
}

// greedy decodes sources greedily, greedyChunk at a time.
func (m *model) greedy(srcs []string) ([]decode.Hypothesis, error) {
	var out []decode.Hypothesis
	err := m.inChunks(srcs, func(ids [][]int) error {
		hyps, err := decode.Greedy(m.decoder, ids, m.options())
		out = append(out, hyps...)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// beamSearchAll returns the best hypothesis of a beam search of every source
// as an ISO date ("" when the search found none), greedyChunk sources searched
// together.
func (m *model) beamSearchAll(srcs []string, beam int) ([]string, error) {
	opt := m.options()
	opt.Beam, opt.Alpha = beam, m.cfg.LengthPenalty
	out := make([]string, 0, len(srcs))
	err := m.inChunks(srcs, func(ids [][]int) error {
		hyps, err := decode.BeamSearchBatch(m.decoder, ids, []decode.Options{opt})
		if err != nil {
			return err
		}
		for _, hs := range hyps {
			date := ""
			if len(hs) > 0 {
				date = m.tgt.decode(hs[0].Tokens)
			}
			out = append(out, date)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// options are the settings of greedy decoding.
func (m *model) options() decode.Options {
	return decode.Options{BOS: tokens.BOS, EOS: tokens.EOS, MaxLen: tgtLen}
}

// close frees the decoder's compiled programs.
func (m *model) close() error {
	if c, ok := m.decoder.(interface{ Close() error }); ok {
		return c.Close()
	}
	return nil
}
