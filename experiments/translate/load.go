package translate

import (
	stderrors "errors"
	"os"
	"path/filepath"

	"github.com/pkg/errors"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/metrics/report"
	"github.com/triadml/triad/models/decode"
	"github.com/triadml/triad/train"
)

// Translator is a finished run loaded for translation: its configuration,
// tokenizers, vocabularies and weights.
type Translator struct {
	cfg      Config
	src, tgt *side
	m        *model
}

// DecodeOptions are the settings of Translate and Decode.
type DecodeOptions struct {
	// Beam is the beam size; 0 or 1 decodes greedily.
	Beam int
	// LengthPenalty is beam search's length-penalty exponent alpha, lp =
	// ((5+|Y|)/6)^alpha (Wu et al. 2016); 0 ranks by log-probability alone.
	LengthPenalty float64
	// Batch is the most sentences decoded together, greedily or with beam
	// search (0: 32): it changes the speed, not the translations.
	Batch int
}

// Translation is one sentence's translation, with the attention that produced
// it.
type Translation struct {
	// Text is the detokenised translation ("" for an empty sentence or a failure).
	Text string
	// Source holds the source tokens the model read, cut to its longest source.
	Source []string
	// SourceLen is the number of source tokens before the cut.
	SourceLen int
	// Output labels the rows of Attention: the output tokens, and "</s>" when
	// decoding ended with it.
	Output []string
	// Attention holds, for each output token, the weights over Source (and the
	// padding after it).
	Attention [][]float64
	// Err says why the sentence could not be translated.
	Err error
}

// Load reads a run directory: its config.json (older key names accepted), its
// vocabularies and its weights (the best checkpoint, else the last).
func Load(dir string) (*Translator, error) {
	cfg, err := readConfig(dir)
	if err != nil {
		return nil, err
	}
	src, tgt, err := loadSides(dir, cfg)
	if err != nil {
		return nil, err
	}
	m, _, _, err := train.Restore(dir, cfg.Seed, func(s *graph.Store) (*model, error) {
		return newModelIn(s, cfg, src.voc.Len(), tgt.voc.Len())
	})
	if err != nil {
		return nil, err
	}
	return &Translator{cfg: cfg, src: src, tgt: tgt, m: m}, nil
}

// readConfig reads and validates the config.json of a run directory.
func readConfig(dir string) (Config, error) {
	path := filepath.Join(dir, "config.json")
	if _, err := os.Stat(path); err != nil {
		return Config{}, errors.Wrapf(err, "%s is not a translate run", dir)
	}
	cfg := DefaultConfig()
	if err := train.ReadConfig(dir, &cfg); err != nil {
		return Config{}, err
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, errors.Wrapf(err, "%s", path)
	}
	return cfg, nil
}

// Config returns the run's configuration.
func (t *Translator) Config() Config { return t.cfg }

// DecodeOptions returns greedy decoding in batches of 32, with the run's length
// penalty for a beam size set later.
func (t *Translator) DecodeOptions() DecodeOptions {
	return DecodeOptions{Beam: 1, LengthPenalty: t.cfg.LengthPenalty, Batch: 32}
}

// Close frees the compiled decoding programs.
func (t *Translator) Close() error {
	t.m.closeDecoders()
	return nil
}

// Translate translates sentences, one output per sentence: "" for an empty
// sentence or one that fails. A sentence longer than the model's longest source
// is cut. The error joins the failures, each naming its sentence (from 1).
func (t *Translator) Translate(sentences []string, opts DecodeOptions) ([]string, error) {
	trs := t.Decode(sentences, opts)
	out := make([]string, len(trs))
	var errs []error
	for i, tr := range trs {
		out[i] = tr.Text
		if tr.Err != nil {
			errs = append(errs, errors.Wrapf(tr.Err, "sentence %d", i+1))
		}
	}
	return out, stderrors.Join(errs...)
}

// Decode translates sentences as Translate does and returns each translation
// with its source tokens and attention weights.
func (t *Translator) Decode(sentences []string, opts DecodeOptions) []Translation {
	out := make([]Translation, len(sentences))
	ids := make([][]int, len(sentences))
	var todo []int
	for i, s := range sentences {
		toks := t.src.tokens(s)
		out[i].SourceLen = len(toks)
		if len(toks) == 0 {
			continue
		}
		out[i].Source = toks[:min(len(toks), t.m.maxSrc)]
		ids[i] = t.src.voc.Encode(out[i].Source)
		todo = append(todo, i)
	}
	size := opts.Batch
	if size <= 0 {
		size = 32
	}
	hyps := make([]decode.Hypothesis, len(sentences))
	for lo := 0; lo < len(todo); lo += size {
		t.decodeGroup(todo[lo:min(lo+size, len(todo))], ids, hyps, out, opts)
	}
	for _, i := range todo {
		if out[i].Err != nil {
			continue
		}
		h := hyps[i]
		out[i].Text = t.tgt.text(h.Tokens, unkReplacer(t.cfg, t.src, out[i].Source, h))
		out[i].Output = t.tgt.voc.Decode(h.Tokens)
		if h.Finished {
			out[i].Output = append(out[i].Output, "</s>")
		}
		out[i].Attention = h.Weights
	}
	return out
}

// decodeGroup decodes the sentences group (indices into ids) together, or one
// by one when that fails, to find the sentence that fails (its Err in out).
func (t *Translator) decodeGroup(group []int, ids [][]int, hyps []decode.Hypothesis, out []Translation, opts DecodeOptions) {
	if len(group) > 1 {
		srcs := make([][]int, len(group))
		for k, i := range group {
			srcs[k] = ids[i]
		}
		if hs, err := t.decode(srcs, opts); err == nil {
			for k, i := range group {
				hyps[i] = hs[k]
			}
			return
		}
	}
	for _, i := range group {
		hs, err := t.decode([][]int{ids[i]}, opts)
		if err != nil {
			out[i].Err = err
			continue
		}
		hyps[i] = hs[0]
	}
}

// decode decodes sources greedily or with beam search, turning a panic of the
// graph machinery into an error.
func (t *Translator) decode(srcs [][]int, opts DecodeOptions) (hyps []decode.Hypothesis, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = errors.Errorf("decoding failed: %v", r)
		}
	}()
	if opts.Beam > 1 {
		return t.m.beams(srcs, opts.Beam, opts.LengthPenalty)
	}
	// pad the batch to a power of two rows with copies of its first source, so
	// that a few compiled programs serve every batch size
	rows := 1
	for rows < len(srcs) {
		rows *= 2
	}
	padded := append([][]int(nil), srcs...)
	for len(padded) < rows {
		padded = append(padded, srcs[0])
	}
	hyps, err = t.m.greedy(padded)
	if err != nil {
		return nil, err
	}
	return hyps[:len(srcs)], nil
}

// Heatmap draws the translation's attention weights, source tokens across and
// output tokens down, as a PNG file.
func (tr Translation) Heatmap(path, title string) error {
	if len(tr.Output) == 0 || len(tr.Output) != len(tr.Attention) {
		return errors.Errorf("no attention weights to draw (%d output tokens, %d rows)", len(tr.Output), len(tr.Attention))
	}
	return report.Heatmap(path, tr.Attention, tr.Source, tr.Output, title)
}
