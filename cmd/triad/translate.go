package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/datasets"
	"github.com/triadml/triad/datasets/batch"
	"github.com/triadml/triad/datasets/vocab"
	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/metrics"
	"github.com/triadml/triad/models/attention"
	"github.com/triadml/triad/models/rnn"
	"github.com/triadml/triad/solvers"
	"github.com/triadml/triad/train"
)

func init() {
	register("translate", "machine translation on Multi30k (German -> English): GRU with attention or Transformer, BLEU; `translate decode` translates stdin", translateMain)
}

// translateConfig holds the hyperparameters of `triad translate`.
type translateConfig struct {
	train.Common
	DataDir   string `json:"data_dir" help:"directory holding Multi30k's {train,val}.{de,en}.gz (default: found through $TRIAD_DATA or the cache)"`
	Src       string `json:"src" help:"source language (de or en)"`
	Tgt       string `json:"tgt" help:"target language (en or de)"`
	Model     string `json:"model" help:"gru-attn (bidirectional GRU encoder, Bahdanau attention decoder) or transformer (which trains best with --batch 128 --dropout 0.1 --lr 5e-4 --warmup 400)"`
	Vocab     string `json:"vocab" help:"word (words and punctuation) or bpe (byte-pair encoding of the words, one model per language)"`
	BPESize   int    `json:"bpe_size" help:"bpe: symbols per language (alphabet plus merges)"`
	Lower     bool   `json:"lower" help:"lowercase both sides before tokenising (cased BLEU is then meaningless)"`
	MinFreq   int    `json:"min_freq" help:"minimum count of a vocabulary token in the training split"`
	MaxLen    int    `json:"max_len" help:"longest sentence in tokens: longer training pairs are left out, longer inputs cut"`
	Buckets   int    `json:"buckets" help:"length buckets of the training pairs (one compiled program each)"`
	TrainSize int    `json:"train_size" help:"use only the first N training pairs (0: all)"`
	ValSize   int    `json:"val_size" help:"evaluate on the first N validation pairs (0: all)"`
	// gru-attn
	Embed   int `json:"embed" help:"gru-attn: embedding width of both languages"`
	Hidden  int `json:"hidden" help:"gru-attn: encoder units per direction (the decoder has twice as many)"`
	AttnDim int `json:"attn_dim" help:"gru-attn: width of the additive attention (0: the decoder's)"`
	// transformer
	Dim       int    `json:"dim" help:"transformer: model width d_model"`
	Heads     int    `json:"heads" help:"transformer: attention heads"`
	FF        int    `json:"ff" help:"transformer: feed-forward width"`
	Layers    int    `json:"layers" help:"transformer: encoder and decoder layers"`
	PreLN     bool   `json:"pre_ln" help:"transformer: pre-LN sub-layers (default post-LN, as the paper)"`
	Positions string `json:"positions" help:"transformer: sinusoidal or learned positions"`
	TieOutput bool   `json:"tie_output" help:"transformer: tie the output layer to the target embedding"`
	// training
	Dropout        float64 `json:"dropout" help:"dropout (embeddings, layers, before the output)"`
	LabelSmoothing float64 `json:"label_smoothing" help:"label smoothing of the training cross-entropy (Szegedy et al. 2016)"`
	Batch          int     `json:"batch" help:"sentence pairs per training step"`
	MaxTokens      int     `json:"max_tokens" help:"most rows x padded length per compiled training program: a larger batch of a length bucket runs in parts whose gradients are combined (bounds memory; 0: no limit)"`
	LR             float64 `json:"lr" help:"peak Adam learning rate"`
	Schedule       string  `json:"schedule" help:"learning rate after the warm-up: constant, noam (inverse square root of the step, Vaswani et al. 2017) or cosine (to lr/100 at the last step)"`
	Warmup         int     `json:"warmup" help:"linear warm-up steps of the learning rate"`
	Decay          float64 `json:"lr_decay" help:"constant schedule: factor per epoch from epoch decay_after on (1: none)"`
	DecayAfter     int     `json:"decay_after" help:"constant schedule: first epoch whose rate is multiplied by lr_decay"`
	Beta2          float64 `json:"beta2" help:"Adam's beta2"`
	WeightDecay    float64 `json:"weight_decay" help:"Adam's L2 weight decay"`
	ClipNorm       float64 `json:"clip_norm" help:"clip the global gradient norm (0: off)"`
	// evaluation and decoding
	EvalBatch   int     `json:"eval_batch" help:"sentences per batch of validation decoding and perplexity"`
	Beam        int     `json:"beam" help:"beam size of the final evaluation (and of --beam-every-epoch); 0 or 1: greedy only"`
	BeamEpochs  bool    `json:"beam_every_epoch" help:"also decode the validation set with beam search at every evaluation"`
	Alpha       float64 `json:"alpha" help:"length-penalty exponent of beam search (Wu et al. 2016)"`
	UnkReplace  bool    `json:"unk_replace" help:"word vocabulary: replace an output <unk> by the source word it attends to most (Luong et al. 2015)"`
	DecodeRatio float64 `json:"decode_ratio" help:"decoding stops after decode_ratio * source length + 10 tokens (and at max_len)"`
}

// defaultTranslateConfig is a GRU with attention in the spirit of Bahdanau et
// al. (2015), sized for a CPU: word vocabularies of minimum count 2 (as
// torchtext's Multi30k examples), embeddings 256, encoder 256 per direction,
// batch 64, Adam 1e-3 with a short warm-up, label smoothing 0.1.
func defaultTranslateConfig() translateConfig {
	return translateConfig{
		Common: train.Common{Seed: 1, Epochs: 10, LogEvery: 50},
		Src:    "de", Tgt: "en", Model: "gru-attn", Vocab: "word", BPESize: 8000, MinFreq: 2, MaxLen: 50, Buckets: 6,
		Embed: 256, Hidden: 256, Dim: 256, Heads: 8, FF: 512, Layers: 3, Positions: "sinusoidal",
		Dropout: 0.2, LabelSmoothing: 0.1, Batch: 64, MaxTokens: 2048, LR: 1e-3, Schedule: "constant", Warmup: 200, Decay: 1, DecayAfter: 1,
		Beta2: 0.999, ClipNorm: 1, EvalBatch: 128, Beam: 5, Alpha: 0.6, UnkReplace: true, DecodeRatio: 1.5,
	}
}

func (c translateConfig) validate() error {
	for _, l := range []string{c.Src, c.Tgt} {
		if l != "de" && l != "en" {
			return errors.Errorf("unknown language %q (de, en)", l)
		}
	}
	if c.Src == c.Tgt {
		return errors.Errorf("source and target are both %q", c.Src)
	}
	if c.Dist != "" {
		return errors.Errorf("translate trains in one process (--dist %q)", c.Dist)
	}
	switch c.Model {
	case "gru-attn", "transformer":
	default:
		return errors.Errorf("unknown model %q (gru-attn, transformer)", c.Model)
	}
	switch c.Vocab {
	case "word", "bpe":
	default:
		return errors.Errorf("unknown vocabulary %q (word, bpe)", c.Vocab)
	}
	switch c.Schedule {
	case "constant", "noam", "cosine":
	default:
		return errors.Errorf("unknown schedule %q (constant, noam, cosine)", c.Schedule)
	}
	switch {
	case c.Batch <= 0 || c.EvalBatch <= 0 || c.MaxLen <= 0 || c.Buckets <= 0:
		return errors.New("batch, eval_batch, max_len and buckets must be positive")
	case c.Vocab == "bpe" && c.BPESize <= 0:
		return errors.New("bpe_size must be positive")
	case !(c.LR > 0) || c.Warmup < 0 || !(c.Decay > 0) || c.Beta2 < 0 || c.Beta2 >= 1 || c.WeightDecay < 0 || c.ClipNorm < 0:
		return errors.New("lr and lr_decay must be positive, warmup, weight_decay and clip_norm non-negative, beta2 in [0, 1)")
	case c.Dropout < 0 || c.Dropout >= 1 || c.LabelSmoothing < 0 || c.LabelSmoothing >= 1:
		return errors.New("dropout and label_smoothing must be in [0, 1)")
	case c.Beam < 0 || c.Alpha < 0 || !(c.DecodeRatio > 0):
		return errors.New("beam and alpha must be non-negative and decode_ratio positive")
	case c.TrainSize < 0 || c.ValSize < 0 || c.MinFreq < 0 || c.MaxTokens < 0:
		return errors.New("train_size, val_size, min_freq and max_tokens must be non-negative")
	}
	if c.Model == "gru-attn" && (c.Embed <= 0 || c.Hidden <= 0 || c.AttnDim < 0) {
		return errors.New("embed and hidden must be positive")
	}
	if c.Model == "transformer" {
		if c.Dim <= 0 || c.Heads <= 0 || c.FF <= 0 || c.Layers <= 0 || c.Dim%c.Heads != 0 {
			return errors.Errorf("transformer: dim %d, heads %d, ff %d, layers %d: want positive sizes and dim a multiple of heads", c.Dim, c.Heads, c.FF, c.Layers)
		}
		if c.Positions != "sinusoidal" && c.Positions != "learned" {
			return errors.Errorf("unknown positions %q (sinusoidal, learned)", c.Positions)
		}
	}
	return nil
}

// tokens are the special ids of both vocabularies.
var trTokens = attention.Tokens{Pad: vocab.PadID, BOS: vocab.BOSID, EOS: vocab.EOSID}

func translateMain(args []string) error {
	if len(args) > 0 && args[0] == "decode" {
		return translateDecode(args[1:], os.Stdin, os.Stdout, os.Stderr)
	}
	cfg := defaultTranslateConfig()
	if err := parseFlags("translate", &cfg, &cfg.Common, args); err != nil {
		return err
	}
	if err := cfg.validate(); err != nil {
		return usage(err)
	}
	data := cfg.DataDir
	if data == "" {
		var err error
		if data, err = datasets.Find("multi30k"); err != nil {
			return usage(err)
		}
	}
	trainPairs, err := datasets.LoadMulti30k(data, "train", cfg.Src, cfg.Tgt)
	if err != nil {
		return usage(err)
	}
	valPairs, err := datasets.LoadMulti30k(data, "val", cfg.Src, cfg.Tgt)
	if err != nil {
		return usage(err)
	}
	if cfg.TrainSize > 0 && cfg.TrainSize < len(trainPairs) {
		trainPairs = trainPairs[:cfg.TrainSize]
	}
	if cfg.ValSize > 0 && cfg.ValSize < len(valPairs) {
		valPairs = valPairs[:cfg.ValSize]
	}
	if len(trainPairs) == 0 || len(valPairs) == 0 {
		return usage(errors.Errorf("%s: %d training and %d validation pairs", data, len(trainPairs), len(valPairs)))
	}
	dir, err := runDir("translate", &cfg.Common)
	if err != nil {
		return err
	}
	start := time.Now()
	var src, tgt *trSide
	if cfg.Resume != "" {
		if src, tgt, err = loadTrSides(dir, cfg); err != nil {
			return usage(err)
		}
	} else {
		if src, tgt, err = buildTrSides(cfg, trainPairs); err != nil {
			return err
		}
		if err := src.save(dir); err != nil {
			return err
		}
		if err := tgt.save(dir); err != nil {
			return err
		}
	}
	if err := train.WriteConfig(dir, cfg, train.CurrentEnv(cfg.Threads, os.Args)); err != nil {
		return err
	}
	m, err := newTrModel(cfg, src.voc.Len(), tgt.voc.Len())
	if err != nil {
		return usage(err)
	}
	task, err := newTranslateTask(cfg, m, src, tgt, trainPairs, valPairs, dir)
	if err != nil {
		return err
	}
	defer task.close()
	ad := solvers.DefaultAdamConfig()
	ad.LR, ad.Beta2, ad.WeightDecay = cfg.LR, cfg.Beta2, cfg.WeightDecay
	solver, err := solvers.NewAdam(ad)
	if err != nil {
		return usage(err)
	}
	sched, err := cfg.schedule(task.StepsPerEpoch())
	if err != nil {
		return usage(err)
	}
	loop := &train.Loop{
		Dir: dir, Common: cfg.Common, Store: m.store, Solver: solver, Schedule: sched, ClipNorm: cfg.ClipNorm,
		Task: task, Best: "val_bleu_lc", BestMax: true, ItemName: "tokens",
	}
	fmt.Fprintf(os.Stderr, "translate: %s %s->%s, %d parameters, %s vocabularies %d/%d, %d train pairs (%d left out: longer than %d tokens or empty), %d validation, buckets %s, %d steps per epoch, run %s\n",
		cfg.Model, cfg.Src, cfg.Tgt, m.store.Count(), cfg.Vocab, src.voc.Len(), tgt.voc.Len(), len(task.trainSrc), task.dropped, cfg.MaxLen,
		len(task.valRefs), task.describeShapes(), task.StepsPerEpoch(), dir)
	ctx, stop := interruptible()
	defer stop()
	sum, err := loop.Run(ctx)
	if err != nil {
		return finish(err)
	}
	stop() // everything is saved: Ctrl-C may end the final evaluation
	return task.report(sum, start)
}

// schedule returns the learning-rate schedule: a linear warm-up to LR, then
// constant (with an optional per-epoch decay), the inverse square root of the
// step (Vaswani et al. 2017, eq. 3, scaled to peak at LR), or a half cosine.
func (c translateConfig) schedule(stepsPerEpoch int) (solvers.Schedule, error) {
	switch c.Schedule {
	case "noam":
		w := max(c.Warmup, 1)
		d := c.Dim
		if c.Model != "transformer" {
			d = 2 * c.Hidden
		}
		// Noam peaks at step w with factor/sqrt(d*w): choose the factor that makes the peak LR
		return solvers.NewNoam(d, w, c.LR*math.Sqrt(float64(d*w)))
	case "cosine":
		total := c.Epochs * stepsPerEpoch
		if c.MaxSteps > 0 && (total == 0 || c.MaxSteps < total) {
			total = c.MaxSteps
		}
		return solvers.NewWarmupCosine(c.LR, c.LR/100, min(c.Warmup, max(total-1, 0)), max(total, 1))
	}
	return trWarmupConstant{base: c.LR, warmup: c.Warmup, decay: c.Decay, after: c.DecayAfter, stepsPerEpoch: stepsPerEpoch}, nil
}

// trWarmupConstant rises linearly to base over warmup steps and stays there,
// multiplied by decay at the start of every epoch from epoch after on (epochs
// counted from 0).
type trWarmupConstant struct {
	base, decay   float64
	warmup, after int
	stepsPerEpoch int
}

func (s trWarmupConstant) LR(step int) float64 {
	lr := s.base
	if step < s.warmup {
		lr = s.base * float64(step+1) / float64(s.warmup)
	}
	if epoch := step / max(s.stepsPerEpoch, 1); s.decay != 1 && epoch >= s.after {
		lr *= math.Pow(s.decay, float64(epoch-s.after+1))
	}
	return lr
}

// ---- text: tokenisation and vocabularies ----

// trSide is the text processing of one language: a tokenizer (words, or BPE
// symbols of the words) and a vocabulary built from the training split.
type trSide struct {
	lang string
	word vocab.WordTokenizer
	bpe  *vocab.BPE // nil: word tokens
	voc  *vocab.Vocab
}

// tokens splits a line into the model's tokens.
func (s *trSide) tokens(line string) []string {
	if s.bpe != nil {
		return s.bpe.Tokenize(line)
	}
	return s.word.Tokenize(line)
}

// text joins output tokens into detokenised text. Special tokens other than
// <unk> are dropped; each <unk> is replaced by replace(i) when that is given
// and returns a word.
func (s *trSide) text(ids []int, replace func(i int) string) string {
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

func (s *trSide) vocabPath(dir string) string { return filepath.Join(dir, "vocab."+s.lang+".json") }
func (s *trSide) bpePath(dir string) string   { return filepath.Join(dir, "bpe."+s.lang+".json") }

// save writes the vocabulary (and BPE model) into the run directory.
func (s *trSide) save(dir string) error {
	if s.bpe != nil {
		if err := s.bpe.Save(s.bpePath(dir)); err != nil {
			return errors.Wrap(err, "translate")
		}
	}
	return errors.Wrap(s.voc.Save(s.vocabPath(dir)), "translate")
}

// buildTrSides learns both languages' tokenizers and vocabularies from the
// training pairs.
func buildTrSides(cfg translateConfig, pairs []datasets.Pair) (src, tgt *trSide, err error) {
	build := func(lang string, lines []string) (*trSide, error) {
		s := &trSide{lang: lang, word: vocab.WordTokenizer{Lower: cfg.Lower}}
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

// loadTrSides reads the vocabularies (and BPE models) a run saved.
func loadTrSides(dir string, cfg translateConfig) (src, tgt *trSide, err error) {
	load := func(lang string) (*trSide, error) {
		s := &trSide{lang: lang, word: vocab.WordTokenizer{Lower: cfg.Lower}}
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

// ---- the model ----

// trProgram is a compiled teacher-forced program of either model.
type trProgram interface {
	Feed(srcs, tgts [][]int) (int, error)
	SetNoise(*rand.Rand)
	Run() error
	Output(string) (*tensor.Dense, error)
	Close() error
}

// trModel is a translation model with its parameters, a builder of
// teacher-forced programs and a step decoder.
type trModel struct {
	cfg     translateConfig
	store   *graph.Store
	build   func(mode graph.Mode, batch, srcLen, tgtLen int, labelSmoothing float64) (trProgram, error)
	decoder attention.StepModel
	// modelDecoder is a reference for decoder: for the Transformer, the
	// decoder that recomputes the prefix padded to the maximum length, of which
	// decoder's shorter padding must be an equivalent.
	modelDecoder attention.StepModel
	newDecoders  func() (decoder, modelDecoder attention.StepModel)
	// maxSrc is the longest source the model reads and maxTgt the longest
	// padded target row (tokens plus BOS or EOS).
	maxSrc, maxTgt int
}

func newTrModel(cfg translateConfig, srcVocab, tgtVocab int) (*trModel, error) {
	store := graph.NewStore(tensor.Float32, graph.NewRNG(cfg.Seed, "init"))
	m := &trModel{cfg: cfg, store: store, maxSrc: cfg.MaxLen, maxTgt: cfg.MaxLen + 1}
	switch cfg.Model {
	case "gru-attn":
		s2s, err := attention.NewSeq2Seq(store, attention.Seq2SeqConfig{
			SrcVocab: srcVocab, TgtVocab: tgtVocab, Embed: cfg.Embed, Hidden: cfg.Hidden, AttnDim: cfg.AttnDim,
			Cell: rnn.GRU, Bidirectional: true, Attention: "bahdanau", Dropout: cfg.Dropout, Tokens: trTokens,
		})
		if err != nil {
			return nil, err
		}
		m.build = func(mode graph.Mode, batch, srcLen, tgtLen int, ls float64) (trProgram, error) {
			return s2s.Build(store, mode, batch, srcLen, tgtLen, ls)
		}
		m.newDecoders = func() (attention.StepModel, attention.StepModel) {
			d := s2s.NewDecoder(store)
			return d, d
		}
	case "transformer":
		tf, err := attention.NewTransformer(store, attention.TransformerConfig{
			SrcVocab: srcVocab, TgtVocab: tgtVocab, Dim: cfg.Dim, Heads: cfg.Heads, FF: cfg.FF,
			EncoderLayers: cfg.Layers, DecoderLayers: cfg.Layers, Dropout: cfg.Dropout, PreLN: cfg.PreLN,
			MaxLen: cfg.MaxLen + 1, Positions: cfg.Positions, TieOutput: cfg.TieOutput, Tokens: trTokens,
		})
		if err != nil {
			return nil, err
		}
		m.build = func(mode graph.Mode, batch, srcLen, tgtLen int, ls float64) (trProgram, error) {
			return tf.Build(store, mode, batch, srcLen, tgtLen, ls)
		}
		m.newDecoders = func() (attention.StepModel, attention.StepModel) {
			ref := tf.NewDecoder(store)
			ref.PrefixBucket = tf.Config.MaxLen
			return tf.NewDecoder(store), ref
		}
	default:
		return nil, errors.Errorf("unknown model %q", cfg.Model)
	}
	m.decoder, m.modelDecoder = m.newDecoders()
	return m, nil
}

// resetDecoders drops the decoders' compiled programs (their memory is freed
// once collected) and starts afresh: evaluation decodes with many shapes, and
// keeping them all between evaluations would hold gigabytes during training.
func (m *trModel) resetDecoders() {
	for _, d := range []attention.StepModel{m.decoder, m.modelDecoder} {
		if c, ok := d.(interface{ Close() error }); ok {
			_ = c.Close() // only frees memory
		}
	}
	m.decoder, m.modelDecoder = m.newDecoders()
}

// decodeLimit is the largest number of decoding steps (EOS included) for
// sources of at most srcLen tokens.
func (m *trModel) decodeLimit(srcLen int) int {
	return max(1, min(m.maxTgt, int(m.cfg.DecodeRatio*float64(srcLen))+10))
}

// ---- the task ----

// translateTask trains on length-bucketed batches (each epoch's order drawn
// from the epoch's own seeded stream, so a batch is a function of the step) and
// evaluates perplexity and BLEU on the validation pairs.
type translateTask struct {
	cfg      translateConfig
	m        *trModel
	src, tgt *trSide
	dir      string
	log      io.Writer

	trainSrc, trainTgt [][]int
	dropped            int
	bucketer           *batch.Bucketer
	shapes             []batch.Shape
	progs              map[batch.Shape]trProgram
	evals              map[[3]int]trProgram
	epoch              int
	batches            []batch.Batch
	done               int // steps trained so far (the step of the next evaluation)

	valSrcToks [][]string // the tokens of each validation source, cut to MaxLen
	valSrc     [][]int
	valTgt     [][]int // cut to MaxLen
	valRefs    []string
}

func newTranslateTask(cfg translateConfig, m *trModel, src, tgt *trSide, trainPairs, valPairs []datasets.Pair, dir string) (*translateTask, error) {
	t := &translateTask{cfg: cfg, m: m, src: src, tgt: tgt, dir: dir, log: os.Stderr, epoch: -1,
		progs: map[batch.Shape]trProgram{}, evals: map[[3]int]trProgram{}}
	var srcLens, tgtLens []int
	for _, p := range trainPairs {
		s, y := src.voc.Encode(src.tokens(p.Source)), tgt.voc.Encode(tgt.tokens(p.Target))
		if len(s) == 0 || len(s) > cfg.MaxLen || len(y) > cfg.MaxLen {
			t.dropped++
			continue
		}
		t.trainSrc, t.trainTgt = append(t.trainSrc, s), append(t.trainTgt, y)
		srcLens, tgtLens = append(srcLens, len(s)), append(tgtLens, len(y)+1)
	}
	if len(t.trainSrc) == 0 {
		return nil, usage(errors.Errorf("translate: no training pair has 1 to %d tokens on both sides", cfg.MaxLen))
	}
	sb, tb := trBucketBounds(srcLens, tgtLens, cfg.Buckets)
	var err error
	t.bucketer, err = batch.NewBucketer(srcLens, tgtLens, batch.BucketConfig{SrcBounds: sb, TgtBounds: tb, Joint: true, BatchSize: cfg.Batch})
	if err != nil {
		return nil, err
	}
	t.shapes = t.bucketer.Shapes()
	for _, p := range valPairs {
		toks := src.tokens(p.Source)
		if len(toks) > cfg.MaxLen {
			toks = toks[:cfg.MaxLen]
		}
		y := tgt.voc.Encode(tgt.tokens(p.Target))
		if len(y) > cfg.MaxLen {
			y = y[:cfg.MaxLen]
		}
		t.valSrcToks = append(t.valSrcToks, toks)
		t.valSrc = append(t.valSrc, src.voc.Encode(toks))
		t.valTgt = append(t.valTgt, y)
		t.valRefs = append(t.valRefs, p.Target)
	}
	return t, nil
}

// trBucketBounds returns n joint bucket bounds (fewer where lengths repeat):
// the quantiles of the lengths spread evenly up to the 90th percentile, then
// the 98th percentile and the longest, rounded up to even numbers and made
// strictly ascending on both sides.
func trBucketBounds(srcLens, tgtLens []int, n int) (src, tgt []int) {
	quantile := func(lens []int, q float64) int {
		s := append([]int(nil), lens...)
		sort.Ints(s)
		v := s[int(math.Ceil(q*float64(len(s)-1)))]
		return (v + 1) / 2 * 2
	}
	var qs []float64
	switch {
	case n == 1:
		qs = []float64{1}
	case n == 2:
		qs = []float64{0.9, 1}
	default:
		for k := 1; k <= n-2; k++ {
			qs = append(qs, 0.9*float64(k)/float64(n-2))
		}
		qs = append(qs, 0.98, 1)
	}
	for _, q := range qs {
		s, t := quantile(srcLens, q), quantile(tgtLens, q)
		if len(src) > 0 {
			ls, lt := src[len(src)-1], tgt[len(tgt)-1]
			if s <= ls && t <= lt {
				continue
			}
			s, t = max(s, ls+2), max(t, lt+2)
		}
		src, tgt = append(src, s), append(tgt, t)
	}
	// the last bucket holds the longest pairs exactly
	maxS, maxT := 0, 0
	for i := range srcLens {
		maxS, maxT = max(maxS, srcLens[i]), max(maxT, tgtLens[i])
	}
	src[len(src)-1], tgt[len(tgt)-1] = max(src[len(src)-1], maxS), max(tgt[len(tgt)-1], maxT)
	return src, tgt
}

func (t *translateTask) close() {
	for _, p := range t.progs {
		p.Close()
	}
	t.dropEvalPrograms()
}

// dropEvalPrograms closes the programs of an evaluation, which are rebuilt at
// the next one, so that training does not carry their memory.
func (t *translateTask) dropEvalPrograms() {
	for k, p := range t.evals {
		p.Close()
		delete(t.evals, k)
	}
	t.m.resetDecoders()
}

func (t *translateTask) StepsPerEpoch() int { return t.bucketer.NumBatches() }

// describeShapes lists the buckets as source x target lengths, with the rows
// of the parts where a batch runs in parts.
func (t *translateTask) describeShapes() string {
	var parts []string
	for _, sh := range t.shapes {
		d := fmt.Sprintf("%dx%d", sh.Src, sh.Tgt)
		if r := t.microRows(sh); r < t.cfg.Batch {
			d += fmt.Sprintf(" (parts of %d)", r)
		}
		parts = append(parts, d)
	}
	return strings.Join(parts, ", ")
}

// microRows returns the rows of the training program of a shape: the batch,
// or a part of it small enough that rows times the longer padded side stays
// within MaxTokens (the program's memory grows with it).
func (t *translateTask) microRows(sh batch.Shape) int {
	if t.cfg.MaxTokens <= 0 {
		return t.cfg.Batch
	}
	k := (t.cfg.Batch*max(sh.Src, sh.Tgt) + t.cfg.MaxTokens - 1) / t.cfg.MaxTokens
	return (t.cfg.Batch + k - 1) / max(k, 1)
}

// TrainStep trains on the step's batch, in micro-batches where the shape is
// large (see microRows): the gradients of the parts are combined with weights
// proportional to their target tokens, which gives the gradient of the mean
// loss per token of the whole batch. A partial last part is filled up by
// repeating its own pairs.
func (t *translateTask) TrainStep(step int, noise *rand.Rand) (train.Result, error) {
	spe := t.StepsPerEpoch()
	if epoch := step / spe; epoch != t.epoch {
		t.batches = t.bucketer.Epoch(graph.NewRNG(t.cfg.Seed, "shuffle/"+strconv.Itoa(epoch)))
		t.epoch = epoch
	}
	bt := t.batches[step%spe]
	rows := t.microRows(bt.Shape)
	prog, ok := t.progs[bt.Shape]
	if !ok {
		var err error
		if prog, err = t.m.build(graph.Train, rows, bt.Shape.Src, bt.Shape.Tgt, t.cfg.LabelSmoothing); err != nil {
			return train.Result{}, err
		}
		t.progs[bt.Shape] = prog
	}
	prog.SetNoise(noise)
	var sum float64
	total, prev := 0, 0
	for lo := 0; lo < len(bt.Indices); lo += rows {
		part := bt.Indices[lo:min(lo+rows, len(bt.Indices))]
		srcs, tgts := make([][]int, rows), make([][]int, rows)
		for i := range srcs {
			j := part[i%len(part)]
			srcs[i], tgts[i] = t.trainSrc[j], t.trainTgt[j]
		}
		n, err := prog.Feed(srcs, tgts)
		if err != nil {
			return train.Result{}, err
		}
		if prev > 0 { // the gradient so far, of weight prev, rescaled to weight n
			t.scaleGrads(float64(prev) / float64(n))
		}
		if err := prog.Run(); err != nil {
			return train.Result{}, err
		}
		loss, err := prog.Output("loss")
		if err != nil {
			return train.Result{}, err
		}
		sum += graph.Scalar(loss) * float64(n)
		total += n
		prev = n
	}
	if total != prev {
		t.scaleGrads(float64(prev) / float64(total))
	}
	t.done = step + 1
	return train.Result{Loss: sum / float64(total), Items: total}, nil
}

// scaleGrads multiplies every accumulated gradient by c.
func (t *translateTask) scaleGrads(c float64) {
	for _, p := range t.m.store.Params() {
		g := graph.Slice[float32](p.Grad)
		for i := range g {
			g[i] *= float32(c)
		}
	}
}

// Evaluate returns the validation perplexity and the BLEU of greedy decoding
// (and of beam search with --beam-every-epoch), cased and lowercased, and writes
// the translations to translations/.
func (t *translateTask) Evaluate() (map[string]float64, error) {
	ev, err := t.evaluate(t.cfg.BeamEpochs)
	if err != nil {
		return nil, err
	}
	name := fmt.Sprintf("val.step%07d", t.done)
	if err := ev.write(filepath.Join(t.dir, "translations"), name); err != nil {
		return nil, err
	}
	fmt.Fprintf(t.log, "step %d: validation greedy decoding %.1f sentences/s\n", t.done, ev.greedyPerSec)
	return ev.metrics(), nil
}

// trEval is one evaluation of the validation set.
type trEval struct {
	loss, ppl        float64
	greedy, beam     []string
	bleu, bleuLC     metrics.BLEUScore
	beamBLEU, beamLC metrics.BLEUScore
	greedyPerSec     float64
	beamPerSec       float64
	beamSize         int
}

func (e *trEval) metrics() map[string]float64 {
	// decoding speeds are left out: metrics.jsonl stays bitwise reproducible
	m := map[string]float64{"val_loss": e.loss, "val_ppl": e.ppl, "val_bleu": e.bleu.Score, "val_bleu_lc": e.bleuLC.Score}
	if e.beam != nil {
		m["val_bleu_beam"], m["val_bleu_beam_lc"] = e.beamBLEU.Score, e.beamLC.Score
	}
	return m
}

// write writes the greedy (and beam) translations to dir/name.greedy.txt (and
// dir/name.beamK.txt).
func (e *trEval) write(dir, name string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return errors.Wrap(err, "translate")
	}
	write := func(suffix string, lines []string) error {
		path := filepath.Join(dir, name+suffix)
		return errors.Wrap(os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644), "translate")
	}
	if err := write(".greedy.txt", e.greedy); err != nil {
		return err
	}
	if e.beam != nil {
		return write(fmt.Sprintf(".beam%d.txt", e.beamSize), e.beam)
	}
	return nil
}

// evaluate computes the validation perplexity and decodes the validation
// sources greedily (and with beam search when beam is set).
func (t *translateTask) evaluate(beam bool) (*trEval, error) {
	defer t.dropEvalPrograms()
	ev := &trEval{}
	var err error
	if ev.loss, err = t.valLoss(); err != nil {
		return nil, err
	}
	ev.ppl = math.Exp(ev.loss)
	t0 := time.Now()
	hyps, err := trGreedyAll(t.m, t.valSrc)
	if err != nil {
		return nil, err
	}
	ev.greedyPerSec = float64(len(hyps)) / time.Since(t0).Seconds()
	ev.greedy = t.texts(hyps)
	if ev.bleu, ev.bleuLC, err = trBLEU(ev.greedy, t.valRefs); err != nil {
		return nil, err
	}
	if beam && t.cfg.Beam > 1 {
		ev.beamSize = t.cfg.Beam
		t0 := time.Now()
		bh := make([]attention.Hypothesis, len(t.valSrc))
		for i, s := range t.valSrc {
			if bh[i], err = trBeam(t.m, s, t.cfg.Beam, t.cfg.Alpha); err != nil {
				return nil, errors.Wrapf(err, "validation sentence %d", i+1)
			}
		}
		ev.beamPerSec = float64(len(bh)) / time.Since(t0).Seconds()
		ev.beam = t.texts(bh)
		if ev.beamBLEU, ev.beamLC, err = trBLEU(ev.beam, t.valRefs); err != nil {
			return nil, err
		}
	}
	return ev, nil
}

// texts detokenises the validation hypotheses.
func (t *translateTask) texts(hyps []attention.Hypothesis) []string {
	out := make([]string, len(hyps))
	for i, h := range hyps {
		out[i] = t.tgt.text(h.Tokens, t.unkReplacer(t.valSrcToks[i], h))
	}
	return out
}

// unkReplacer returns the function that replaces output <unk> number i by the
// source word of largest attention weight, or nil when replacement is off or
// the vocabulary is not made of words.
func (t *translateTask) unkReplacer(srcToks []string, h attention.Hypothesis) func(int) string {
	return trUnkReplacer(t.cfg, t.src, srcToks, h)
}

func trUnkReplacer(cfg translateConfig, src *trSide, srcToks []string, h attention.Hypothesis) func(int) string {
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

// trBLEU returns sacreBLEU's corpus BLEU (13a tokenisation, exp smoothing) of
// detokenised hypotheses against the raw references, cased and lowercased.
func trBLEU(hyps, refs []string) (cased, lower metrics.BLEUScore, err error) {
	if cased, err = metrics.SacreBLEU(hyps, [][]string{refs}, metrics.BLEUOptions{}); err != nil {
		return cased, lower, errors.Wrap(err, "translate: BLEU")
	}
	lower, err = metrics.SacreBLEU(hyps, [][]string{refs}, metrics.BLEUOptions{Lowercase: true})
	return cased, lower, errors.Wrap(err, "translate: BLEU")
}

// trGreedyAll decodes sources greedily in batches of the evaluation size,
// grouped by length; an empty source gives an empty hypothesis.
func trGreedyAll(m *trModel, srcs [][]int) ([]attention.Hypothesis, error) {
	order := make([]int, 0, len(srcs))
	for i, s := range srcs {
		if len(s) > 0 {
			order = append(order, i)
		}
	}
	sort.SliceStable(order, func(a, b int) bool { return len(srcs[order[a]]) < len(srcs[order[b]]) })
	out := make([]attention.Hypothesis, len(srcs))
	for lo := 0; lo < len(order); lo += m.cfg.EvalBatch {
		chunk := order[lo:min(lo+m.cfg.EvalBatch, len(order))]
		batch := make([][]int, len(chunk))
		longest := 0
		for i, j := range chunk {
			batch[i] = trCut(srcs[j], m.maxSrc)
			longest = max(longest, len(batch[i]))
		}
		hyps, err := attention.Greedy(m.decoder, batch, attention.DecodeOptions{BOS: trTokens.BOS, EOS: trTokens.EOS, MaxLen: m.decodeLimit(longest)})
		if err != nil {
			return nil, err
		}
		for i, j := range chunk {
			out[j] = m.clip(hyps[i], len(batch[i]))
		}
	}
	return out, nil
}

// clip cuts a greedy hypothesis decoded together with longer sources to the
// decoding limit of its own source, so that a translation does not depend on
// the other sources of its batch (greedy decoding treats rows independently).
func (m *trModel) clip(h attention.Hypothesis, srcLen int) attention.Hypothesis {
	limit := m.decodeLimit(srcLen)
	if len(h.Weights) <= limit {
		return h
	}
	h.Finished = false
	h.Tokens = h.Tokens[:min(len(h.Tokens), limit)]
	h.Weights = h.Weights[:limit]
	return h
}

// trBeam decodes one source with beam search and returns the best hypothesis
// (an empty one for an empty source).
func trBeam(m *trModel, src []int, beam int, alpha float64) (attention.Hypothesis, error) {
	if len(src) == 0 {
		return attention.Hypothesis{}, nil
	}
	src = trCut(src, m.maxSrc)
	hyps, err := attention.BeamSearch(m.decoder, src, attention.DecodeOptions{BOS: trTokens.BOS, EOS: trTokens.EOS,
		MaxLen: m.decodeLimit(len(src)), Beam: beam, Alpha: alpha})
	if err != nil {
		return attention.Hypothesis{}, err
	}
	if len(hyps) == 0 {
		return attention.Hypothesis{}, nil
	}
	return hyps[0], nil
}

func trCut(ids []int, n int) []int {
	if len(ids) > n {
		return ids[:n]
	}
	return ids
}

// valLoss returns the mean cross-entropy per target token (EOS included, no
// label smoothing) of the validation pairs, teacher-forced, in batches of the
// evaluation size grouped by length.
func (t *translateTask) valLoss() (float64, error) {
	order := make([]int, 0, len(t.valSrc))
	for i, s := range t.valSrc {
		if len(s) > 0 {
			order = append(order, i)
		}
	}
	if len(order) == 0 {
		return 0, errors.New("translate: no validation pair has a source")
	}
	sort.SliceStable(order, func(a, b int) bool {
		x, y := order[a], order[b]
		if len(t.valSrc[x]) != len(t.valSrc[y]) {
			return len(t.valSrc[x]) < len(t.valSrc[y])
		}
		return len(t.valTgt[x]) < len(t.valTgt[y])
	})
	var sum float64
	var tokens int
	for lo := 0; lo < len(order); lo += t.cfg.EvalBatch {
		chunk := order[lo:min(lo+t.cfg.EvalBatch, len(order))]
		srcs, tgts := make([][]int, len(chunk)), make([][]int, len(chunk))
		ls, lt := 0, 0
		for i, j := range chunk {
			srcs[i], tgts[i] = t.valSrc[j], t.valTgt[j]
			ls, lt = max(ls, len(srcs[i])), max(lt, len(tgts[i])+1)
		}
		key := [3]int{len(chunk), min((ls+7)/8*8, t.m.maxSrc), min((lt+7)/8*8, t.m.maxTgt)}
		prog, ok := t.evals[key]
		if !ok {
			var err error
			if prog, err = t.m.build(graph.Eval, key[0], key[1], key[2], 0); err != nil {
				return 0, err
			}
			t.evals[key] = prog
		}
		n, err := prog.Feed(srcs, tgts)
		if err != nil {
			return 0, err
		}
		if err := prog.Run(); err != nil {
			return 0, err
		}
		out, err := prog.Output("loss")
		if err != nil {
			return 0, err
		}
		sum += graph.Scalar(out) * float64(n)
		tokens += n
	}
	return sum / float64(tokens), nil
}

// ---- the report ----

// trBLEUSummary holds the BLEU scores of the final evaluation.
type trBLEUSummary struct {
	Greedy          float64 `json:"greedy"`
	GreedyLowercase float64 `json:"greedy_lowercase"`
	Beam            float64 `json:"beam,omitempty"`
	BeamLowercase   float64 `json:"beam_lowercase,omitempty"`
	// Signature and Detail are sacreBLEU's, for the lowercased greedy score.
	Signature string `json:"signature"`
	Detail    string `json:"detail"`
}

// translateSummary is summary.json of a translate run: the loop's summary plus
// the final evaluation of the best checkpoint.
type translateSummary struct {
	train.Summary
	Model            string        `json:"model"`
	Params           int           `json:"params"`
	SrcVocab         int           `json:"src_vocab"`
	TgtVocab         int           `json:"tgt_vocab"`
	ValSentences     int           `json:"val_sentences"`
	EvaluatedStep    int           `json:"evaluated_step"` // the step of the weights evaluated (the best by lowercased greedy BLEU)
	BLEU             trBLEUSummary `json:"bleu"`
	ValLoss          float64       `json:"val_loss"`
	ValPerplexity    float64       `json:"val_perplexity"`
	BeamSize         int           `json:"beam_size"`
	Alpha            float64       `json:"alpha"`
	GreedySentPerSec float64       `json:"greedy_sentences_per_second"`
	BeamSentPerSec   float64       `json:"beam_sentences_per_second,omitempty"`
	Translations     []string      `json:"translations"`
	TotalSeconds     float64       `json:"total_seconds"`
	Command          string        `json:"command"` // reproduces the run from scratch
}

// report evaluates the best checkpoint, writes the translations and
// summary.json and prints the final line.
func (t *translateTask) report(sum *train.Summary, start time.Time) error {
	ckpt, err := train.LoadParams(t.dir, t.m.store)
	if err != nil {
		return err
	}
	ev, err := t.evaluate(t.cfg.Beam > 1)
	if err != nil {
		return err
	}
	if err := ev.write(t.dir, "val"); err != nil {
		return err
	}
	step := sum.Steps
	if sum.BestStep > 0 && strings.HasSuffix(ckpt, "best.safetensors") {
		step = sum.BestStep
	}
	s := translateSummary{Summary: *sum, Model: t.cfg.Model, Params: t.m.store.Count(), SrcVocab: t.src.voc.Len(), TgtVocab: t.tgt.voc.Len(),
		ValSentences: len(t.valRefs), EvaluatedStep: step, ValLoss: ev.loss, ValPerplexity: ev.ppl, Alpha: t.cfg.Alpha,
		GreedySentPerSec: ev.greedyPerSec, BeamSentPerSec: ev.beamPerSec, Translations: []string{"val.greedy.txt"},
		Command: trCommand(t.cfg)}
	s.BLEU = trBLEUSummary{Greedy: ev.bleu.Score, GreedyLowercase: ev.bleuLC.Score, Signature: ev.bleuLC.Signature, Detail: ev.bleuLC.String()}
	if ev.beam != nil {
		s.BeamSize = ev.beamSize
		s.BLEU.Beam, s.BLEU.BeamLowercase = ev.beamBLEU.Score, ev.beamLC.Score
		s.Translations = append(s.Translations, fmt.Sprintf("val.beam%d.txt", ev.beamSize))
	}
	s.TotalSeconds = time.Since(start).Seconds()
	if err := train.WriteJSON(filepath.Join(t.dir, "summary.json"), s); err != nil {
		return err
	}
	beam := ""
	if ev.beam != nil {
		beam = fmt.Sprintf(", beam %d %.2f (lowercased %.2f, %.1f sentences/s)", ev.beamSize, ev.beamBLEU.Score, ev.beamLC.Score, ev.beamPerSec)
	}
	fmt.Fprintf(t.log, "translate: validation BLEU greedy %.2f (lowercased %.2f, %.1f sentences/s)%s, perplexity %.2f; weights of step %d of %d, %.0f s, %d threads; run %s; reproduce: %s\n",
		ev.bleu.Score, ev.bleuLC.Score, ev.greedyPerSec, beam, ev.ppl, step, sum.Steps, s.TotalSeconds, sum.Threads, t.dir, s.Command)
	return nil
}

// trCommand returns the command line that reproduces a run from scratch: every
// setting that differs from the defaults, and the thread count (results are
// bitwise reproducible for a given seed, binary and thread count).
func trCommand(cfg translateConfig) string {
	cfg.Out, cfg.Resume = "", ""
	def := defaultTranslateConfig()
	var now, was map[string]any
	a, _ := json.Marshal(cfg)
	b, _ := json.Marshal(def)
	_ = json.Unmarshal(a, &now)
	_ = json.Unmarshal(b, &was)
	keys := make([]string, 0, len(now))
	for k := range now {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := []string{"triad translate"}
	for _, k := range keys {
		if k != "threads" && reflect.DeepEqual(now[k], was[k]) {
			continue
		}
		flag := "--" + strings.ReplaceAll(k, "_", "-")
		switch v := now[k].(type) {
		case bool:
			parts = append(parts, fmt.Sprintf("%s=%t", flag, v))
		case string:
			if v == "" || strings.ContainsAny(v, " \t\"'$\\") {
				v = strconv.Quote(v)
			}
			parts = append(parts, flag, v)
		default:
			parts = append(parts, flag, fmt.Sprint(v))
		}
	}
	return strings.Join(parts, " ")
}
