package translate

import (
	"context"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/models/decode"
	"github.com/triadml/triad/models/rnn"
	"github.com/triadml/triad/models/seq2seq"
	"github.com/triadml/triad/models/transformer"
	"github.com/triadml/triad/train"
)

// model is a translation model with its parameters, a builder of teacher-forced
// programs and a step decoder.
type model struct {
	cfg   Config
	store *graph.Store
	build func(mode graph.Mode, batch, srcLen, tgtLen int, labelSmoothing float64) (seq2seq.PairProgram, error)
	// decoder decodes step by step, the Transformer with a key/value cache.
	decoder decode.StepModel
	// modelDecoder is a reference for decoder: for the Transformer, the decoder
	// that recomputes the prefix padded to the maximum length at every step, of
	// which decoder's cached steps must be an equivalent.
	modelDecoder decode.StepModel
	newDecoders  func() (decoder, modelDecoder decode.StepModel)
	// maxSrc is the longest source the model reads and maxTgt the longest padded
	// target row (tokens plus BOS or EOS).
	maxSrc, maxTgt int
}

// builder is the build function of a model whose Build makes programs of its
// own type P in store.
func builder[P seq2seq.PairProgram](store *graph.Store, build func(*graph.Store, graph.Mode, int, int, int, float64) (P, error)) func(graph.Mode, int, int, int, float64) (seq2seq.PairProgram, error) {
	return func(mode graph.Mode, batch, srcLen, tgtLen int, labelSmoothing float64) (seq2seq.PairProgram, error) {
		return build(store, mode, batch, srcLen, tgtLen, labelSmoothing)
	}
}

// newModel creates the model cfg names with freshly initialised parameters (the
// seed's "init" stream).
func newModel(cfg Config, srcVocab, tgtVocab int) (*model, error) {
	return newModelIn(graph.NewStore(tensor.Float32, graph.NewRNG(cfg.Seed, "init")), cfg, srcVocab, tgtVocab)
}

// newModelIn is newModel with the parameters created in store.
func newModelIn(store *graph.Store, cfg Config, srcVocab, tgtVocab int) (*model, error) {
	m := &model{cfg: cfg, store: store, maxSrc: cfg.MaxLen, maxTgt: cfg.MaxLen + 1}
	switch cfg.Model {
	case "gru-attn":
		s2s, err := seq2seq.New(store, seq2seq.Config{
			SrcVocab: srcVocab, TgtVocab: tgtVocab, Embed: cfg.Embed, Hidden: cfg.Hidden, AttnDim: cfg.AttnDim,
			Cell: rnn.GRU, Bidirectional: true, Attention: "bahdanau", Dropout: cfg.Dropout, Tokens: specials,
		})
		if err != nil {
			return nil, err
		}
		m.build = builder(store, s2s.Build)
		m.newDecoders = func() (decode.StepModel, decode.StepModel) {
			d := s2s.NewDecoder(store)
			return d, d
		}
	case "transformer":
		tf, err := transformer.New(store, transformer.Config{
			SrcVocab: srcVocab, TgtVocab: tgtVocab, Dim: cfg.Dim, Heads: cfg.Heads, FF: cfg.FF,
			EncoderLayers: cfg.Layers, DecoderLayers: cfg.Layers, Dropout: cfg.Dropout, PreLN: cfg.PreLN,
			MaxLen: cfg.MaxLen + 1, Positions: cfg.Positions, TieOutput: cfg.TieOutput, Tokens: specials,
		})
		if err != nil {
			return nil, err
		}
		m.build = builder(store, tf.Build)
		m.newDecoders = func() (decode.StepModel, decode.StepModel) {
			ref := tf.NewDecoder(store)
			ref.Recompute, ref.PrefixBucket = true, tf.Config.MaxLen
			return tf.NewDecoder(store), ref
		}
	default:
		return nil, errors.Errorf("unknown model %q", cfg.Model)
	}
	m.decoder, m.modelDecoder = m.newDecoders()
	return m, nil
}

// closeDecoders frees the decoders' compiled programs.
func (m *model) closeDecoders() {
	for _, d := range []decode.StepModel{m.decoder, m.modelDecoder} {
		if c, ok := d.(interface{ Close() error }); ok {
			_ = c.Close() // only frees memory
		}
	}
}

// decodeLimit is the largest number of decoding steps (EOS included) for
// sources of at most srcLen tokens.
func (m *model) decodeLimit(srcLen int) int {
	return max(1, min(m.maxTgt, int(m.cfg.DecodeRatio*float64(srcLen))+10))
}

// options returns the decoding options for sources of at most srcLen tokens.
func (m *model) options(srcLen int) decode.Options {
	return decode.Options{BOS: specials.BOS, EOS: specials.EOS, MaxLen: m.decodeLimit(srcLen)}
}

// clip cuts a greedy hypothesis decoded together with longer sources to the
// decoding limit of its own source, so that a translation does not depend on
// the other sources of its batch (greedy decoding treats rows independently).
func (m *model) clip(h decode.Hypothesis, srcLen int) decode.Hypothesis {
	limit := m.decodeLimit(srcLen)
	if len(h.Weights) <= limit {
		return h
	}
	h.Finished = false
	h.Tokens = h.Tokens[:min(len(h.Tokens), limit)]
	h.Weights = h.Weights[:limit]
	return h
}

// greedy decodes a batch of non-empty sources together, each hypothesis clipped
// to its own source's limit.
func (m *model) greedy(srcs [][]int) ([]decode.Hypothesis, error) {
	longest := 0
	for _, s := range srcs {
		longest = max(longest, len(s))
	}
	hyps, err := decode.Greedy(m.decoder, srcs, m.options(longest))
	if err != nil {
		return nil, err
	}
	for i := range hyps {
		hyps[i] = m.clip(hyps[i], len(srcs[i]))
	}
	return hyps, nil
}

// greedyAll decodes sources greedily in batches of the evaluation size, grouped
// by length; an empty source gives an empty hypothesis. It stops between
// batches when ctx is cancelled.
func (m *model) greedyAll(ctx context.Context, srcs [][]int) ([]decode.Hypothesis, error) {
	return m.inBatches(ctx, srcs, m.cfg.EvalBatch, m.greedy)
}

// beamAll decodes sources with beam search in batches of the evaluation size
// divided by the beam (so that a batch's hypotheses are about the evaluation
// size, and so its decoding state), grouped by length, and returns each one's
// best hypothesis; an empty source gives an empty hypothesis. It stops between
// batches when ctx is cancelled.
func (m *model) beamAll(ctx context.Context, srcs [][]int, beam int, lengthPenalty float64) ([]decode.Hypothesis, error) {
	return m.inBatches(ctx, srcs, max(1, m.cfg.EvalBatch/max(1, beam)), func(batch [][]int) ([]decode.Hypothesis, error) {
		return m.beams(batch, beam, lengthPenalty)
	})
}

// inBatches decodes the non-empty sources with decodeBatch, in batches of size
// sources grouped by length, each source cut to the longest the model
// reads; an empty source gives an empty hypothesis. It stops between batches
// when ctx is cancelled.
func (m *model) inBatches(ctx context.Context, srcs [][]int, size int, decodeBatch func([][]int) ([]decode.Hypothesis, error)) ([]decode.Hypothesis, error) {
	return decode.ByLength(srcs, size, func(batch [][]int) ([]decode.Hypothesis, error) {
		if ctx.Err() != nil {
			return nil, train.ErrInterrupted
		}
		for i, src := range batch {
			batch[i] = cut(src, m.maxSrc)
		}
		return decodeBatch(batch)
	})
}

// beams decodes a batch of non-empty sources together with beam search, each
// up to its own source's decoding limit, and returns each one's best
// hypothesis (an empty one when the search found none).
func (m *model) beams(srcs [][]int, beam int, lengthPenalty float64) ([]decode.Hypothesis, error) {
	opts := make([]decode.Options, len(srcs))
	for i, src := range srcs {
		opts[i] = m.options(len(src))
		opts[i].Beam, opts[i].Alpha = beam, lengthPenalty
	}
	hyps, err := decode.BeamSearchBatch(m.decoder, srcs, opts)
	if err != nil {
		return nil, err
	}
	out := make([]decode.Hypothesis, len(srcs))
	for i, hs := range hyps {
		if len(hs) > 0 {
			out[i] = hs[0]
		}
	}
	return out, nil
}

// cut returns the first n ids at most.
func cut(ids []int, n int) []int {
	if len(ids) > n {
		return ids[:n]
	}
	return ids
}
