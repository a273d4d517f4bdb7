package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
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
	"github.com/triadml/triad/internal/atomicfile"
	"github.com/triadml/triad/metrics"
	"github.com/triadml/triad/models/attention"
	"github.com/triadml/triad/models/pointer"
	"github.com/triadml/triad/solvers"
	"github.com/triadml/triad/train"
)

func init() {
	register("summarize", "headline generation on the Gigaword sample: pointer-generator or plain attention, ROUGE against a lead baseline; `summarize decode` headlines stdin", summarizeMain)
}

// summarizeConfig holds the hyperparameters of `triad summarize`.
type summarizeConfig struct {
	train.Common
	DataDir         string  `json:"data_dir" help:"directory holding the Gigaword sample's files (default: found through $TRIAD_DATA or the cache)"`
	Copy            bool    `json:"copy" help:"pointer-generator, which can copy source words (true), or plain attention with p_gen = 1 (false)"`
	MinFreq         int     `json:"min_freq" help:"minimum count of a vocabulary word in the training articles and headlines"`
	VocabSize       int     `json:"vocab_size" help:"largest vocabulary, the 4 special tokens included (0: no cap)"`
	MaxSrc          int     `json:"max_src" help:"cut articles to this many tokens"`
	MaxTgt          int     `json:"max_tgt" help:"cut headlines to this many tokens for training and the validation loss"`
	Buckets         string  `json:"buckets" help:"padded (article, headline+EOS) lengths of the length buckets, ascending, e.g. 24:10,32:12,64:24 (empty: from the data)"`
	Embed           int     `json:"embed" help:"word embedding width"`
	Hidden          int     `json:"hidden" help:"encoder units per direction (the decoder has twice as many)"`
	AttnDim         int     `json:"attn_dim" help:"width of the additive attention (0: the decoder's)"`
	StateFirst      bool    `json:"state_first" help:"decoder order: update the state, then attend from it (See et al. 2017), or attend from the previous state first (false: Bahdanau order)"`
	Share           bool    `json:"share_embeddings" help:"one embedding table for articles and headlines"`
	Tie             bool    `json:"tie_output" help:"the output layer's weight is the headline embedding table"`
	Dropout         float64 `json:"dropout" help:"dropout on the embeddings and before the output layer"`
	Batch           int     `json:"batch" help:"pairs per training step"`
	LR              float64 `json:"lr" help:"Adam learning rate"`
	DecayAfter      int     `json:"lr_decay_after" help:"epochs at the full learning rate"`
	Decay           float64 `json:"lr_decay" help:"learning-rate factor per epoch after lr_decay_after"`
	ClipNorm        float64 `json:"clip_norm" help:"clip the global gradient norm (0: off)"`
	MaxDecode       int     `json:"max_decode" help:"most tokens a decoded headline may have, EOS included"`
	EvalSize        int     `json:"eval_size" help:"validation pairs decoded greedily at each evaluation (0: all)"`
	Beam            int     `json:"beam" help:"beam size of the final evaluation (1: greedy only)"`
	LengthPenalty   float64 `json:"length_penalty" help:"beam search: length-penalty exponent alpha, lp = ((5+|Y|)/6)^alpha (Wu et al. 2016)"`
	NoRepeatTrigram bool    `json:"no_repeat_trigram" help:"decoding: never repeat a trigram within a headline"`
	NoRepeatWords   bool    `json:"no_repeat_words" help:"decoding: never write a word twice in a headline (which also blocks repeated trigrams)"`
	NoUnk           bool    `json:"no_unk" help:"decoding: never write <unk> (a pointer-generator copies instead)"`
	BeamEval        int     `json:"beam_eval" help:"validation pairs decoded with beam search at the end (0: all)"`
	LeadMax         int     `json:"lead_max" help:"lead baseline: largest N tried for the first N article words"`
	Samples         int     `json:"samples" help:"validation examples written to samples.md"`
}

// defaultSummarizeConfig is the configuration of the published runs
// (results/summarize): embeddings of 128, a bidirectional GRU of 128 units per
// direction, a decoder of 256 in See et al.'s order (state, then attention) and
// an attention of 128, a vocabulary of the words
// seen at least twice (capped at 10,000), dropout 0.4, Adam at 1e-3 with
// clipping at 2 for 10 epochs, the rate decayed by 0.7 per epoch after the
// fifth. Decoding: beam 8 with length penalty 5, no word written twice (which
// the references almost never do: 4.9% of the training headlines repeat a word,
// mostly "to" or "in") and no <unk>; these settings were chosen on the first
// 300 validation pairs.
func defaultSummarizeConfig() summarizeConfig {
	return summarizeConfig{
		Common: train.Common{Seed: 1, Epochs: 10, LogEvery: 50},
		Copy:   true, StateFirst: true,
		MinFreq: 2, VocabSize: 10000, MaxSrc: 60, MaxTgt: 24,
		Embed: 128, Hidden: 128, AttnDim: 128, Dropout: 0.4,
		Batch: 64, LR: 1e-3, DecayAfter: 5, Decay: 0.7, ClipNorm: 2,
		MaxDecode: 24, Beam: 8, LengthPenalty: 5, NoRepeatTrigram: true, NoRepeatWords: true, NoUnk: true, LeadMax: 30, Samples: 20,
	}
}

func (c summarizeConfig) validate() error {
	if c.VocabSize != 0 && c.VocabSize <= vocab.NumSpecial {
		return errors.Errorf("vocab_size %d leaves no room for words beyond the %d special tokens", c.VocabSize, vocab.NumSpecial)
	}
	if c.MaxSrc <= 0 || c.MaxTgt <= 0 || c.Batch <= 0 || c.MaxDecode <= 0 || c.LeadMax <= 0 {
		return errors.New("max_src, max_tgt, batch, max_decode and lead_max must be positive")
	}
	if c.LR <= 0 || c.Decay <= 0 || c.DecayAfter < 0 || c.ClipNorm < 0 {
		return errors.New("lr and lr_decay must be positive, lr_decay_after and clip_norm not negative")
	}
	if c.Beam < 1 || c.LengthPenalty < 0 || c.EvalSize < 0 || c.BeamEval < 0 || c.Samples < 0 {
		return errors.New("beam must be at least 1; length_penalty, eval_size, beam_eval and samples not negative")
	}
	if _, err := parsePairBuckets(c.Buckets); err != nil {
		return err
	}
	_, err := pointer.New(graph.NewStore(tensor.Float32, graph.NewRNG(0, "check")), c.model(vocab.NumSpecial+1))
	return err
}

// model returns the network's configuration for a vocabulary size.
func (c summarizeConfig) model(vocabSize int) pointer.Config {
	return pointer.Config{Vocab: vocabSize, Embed: c.Embed, Hidden: c.Hidden, AttnDim: c.AttnDim, Dropout: c.Dropout,
		Copy: c.Copy, StateFirst: c.StateFirst, ShareEmbeddings: c.Share, TieOutput: c.Tie,
		Tokens: pointer.Tokens{Pad: vocab.PadID, Unk: vocab.UnkID, BOS: vocab.BOSID, EOS: vocab.EOSID}}
}

// modelName names the configured model.
func (c summarizeConfig) modelName() string {
	if c.Copy {
		return "pointer-generator"
	}
	return "attention"
}

// parsePairBuckets reads "S:T,S:T,..." with both lengths strictly ascending.
func parsePairBuckets(s string) ([]batch.Shape, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []batch.Shape
	for _, f := range strings.Split(s, ",") {
		parts := strings.Split(strings.TrimSpace(f), ":")
		var sh batch.Shape
		var err1, err2 error
		if len(parts) == 2 {
			sh.Src, err1 = strconv.Atoi(parts[0])
			sh.Tgt, err2 = strconv.Atoi(parts[1])
		}
		if len(parts) != 2 || err1 != nil || err2 != nil || sh.Src <= 0 || sh.Tgt <= 1 ||
			(len(out) > 0 && (sh.Src <= out[len(out)-1].Src || sh.Tgt <= out[len(out)-1].Tgt)) {
			return nil, errors.Errorf("buckets %q: want ascending article:headline lengths such as 24:10,32:12,64:24 (headline lengths above 1, EOS included)", s)
		}
		out = append(out, sh)
	}
	return out, nil
}

// summaryPair is one article-headline pair in the model's extended ids.
type summaryPair struct {
	words     []string // the article's tokens, cut to max_src
	reference string   // the headline as in the file (ROUGE's reference)
	src, tgt  []int    // extended ids (tgt cut to max_tgt)
	oovs      []string // the article's out-of-vocabulary words, oovs[k] for id V+k
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
func encodePair(voc *vocab.Vocab, article []string, headline string, maxSrc, maxTgt int) summaryPair {
	if len(article) > maxSrc {
		article = article[:maxSrc]
	}
	p := summaryPair{words: article, reference: headline}
	p.src, p.oovs = pointer.ExtendSource(article, voc.ID, voc.Len())
	tgt := normaliseArticle(headline)
	if len(tgt) > maxTgt {
		tgt = tgt[:maxTgt]
	}
	p.tgt = pointer.ExtendTarget(tgt, voc.ID, p.oovs, voc.Len(), vocab.UnkID)
	return p
}

// loadSummaryData reads the Gigaword sample's train and valid splits, drops
// pairs with an empty article or headline, builds the vocabulary on the
// training pairs and encodes both splits.
func loadSummaryData(cfg summarizeConfig) (trainSet, validSet []summaryPair, voc *vocab.Vocab, err error) {
	dir := cfg.DataDir
	if dir == "" {
		if dir, err = datasets.Find("gigaword-sample"); err != nil {
			return nil, nil, nil, usage(err)
		}
	}
	raw := map[string][]datasets.Pair{}
	for _, split := range []string{"train", "valid"} {
		pairs, err := datasets.LoadGigaword(dir, split)
		if err != nil {
			return nil, nil, nil, usage(err)
		}
		raw[split] = pairs
	}
	type tokenized struct {
		article  []string
		headline string
	}
	keep := func(pairs []datasets.Pair) []tokenized {
		var out []tokenized
		for _, p := range pairs {
			a := normaliseArticle(p.Source)
			if len(a) > 0 && len(normaliseArticle(p.Target)) > 0 {
				out = append(out, tokenized{a, p.Target})
			}
		}
		return out
	}
	tr, va := keep(raw["train"]), keep(raw["valid"])
	if len(tr) == 0 || len(va) == 0 {
		return nil, nil, nil, usage(errors.Errorf("%s: %d usable training and %d validation pairs", dir, len(tr), len(va)))
	}
	counts := map[string]int{}
	for _, p := range tr {
		for _, w := range p.article[:min(len(p.article), cfg.MaxSrc)] {
			counts[w]++
		}
		for _, w := range normaliseArticle(p.headline) {
			counts[w]++
		}
	}
	if voc, err = vocab.Build(counts, vocab.BuildOptions{MinFreq: cfg.MinFreq, MaxSize: cfg.VocabSize}); err != nil {
		return nil, nil, nil, usage(err)
	}
	for _, p := range tr {
		trainSet = append(trainSet, encodePair(voc, p.article, p.headline, cfg.MaxSrc, cfg.MaxTgt))
	}
	for _, p := range va {
		validSet = append(validSet, encodePair(voc, p.article, p.headline, cfg.MaxSrc, cfg.MaxTgt))
	}
	return trainSet, validSet, voc, nil
}

func summarizeMain(args []string) error {
	if len(args) > 0 && args[0] == "decode" {
		return summarizeDecode(args[1:], os.Stdin, os.Stdout, os.Stderr)
	}
	start := time.Now()
	cfg := defaultSummarizeConfig()
	if err := parseFlags("summarize", &cfg, &cfg.Common, args); err != nil {
		return err
	}
	if err := cfg.validate(); err != nil {
		return usage(err)
	}
	dir, err := runDir("summarize", &cfg.Common)
	if err != nil {
		return err
	}
	trainSet, validSet, voc, err := loadSummaryData(cfg)
	if err != nil {
		return err
	}
	if err := voc.Save(filepath.Join(dir, "vocab.json")); err != nil {
		return err
	}
	if err := train.WriteConfig(dir, cfg, train.CurrentEnv(cfg.Threads, os.Args)); err != nil {
		return err
	}
	store := graph.NewStore(tensor.Float32, graph.NewRNG(cfg.Seed, "init"))
	model, err := pointer.New(store, cfg.model(voc.Len()))
	if err != nil {
		return usage(err)
	}
	task, err := newSummarizeTask(cfg, model, store, voc, trainSet, validSet)
	if err != nil {
		return err
	}
	defer task.close()
	ad := solvers.DefaultAdamConfig()
	ad.LR = cfg.LR
	solver, err := solvers.NewAdam(ad)
	if err != nil {
		return usage(err)
	}
	loop := &train.Loop{
		Dir: dir, Common: cfg.Common, Store: store, Solver: solver, ClipNorm: cfg.ClipNorm, Task: task,
		Schedule: epochDecay{base: cfg.LR, decay: cfg.Decay, after: cfg.DecayAfter, stepsPerEpoch: task.StepsPerEpoch()},
		Best:     "val_rouge", BestMax: true, ItemName: "tokens",
	}
	fmt.Fprintf(os.Stderr, "summarize: %s, %d parameters, vocabulary %d, %d train / %d validation pairs, buckets %v, %d steps per epoch, run %s\n",
		cfg.modelName(), store.Count(), voc.Len(), len(trainSet), len(validSet), task.shapes, task.StepsPerEpoch(), dir)
	ctx, stop := interruptible()
	defer stop()
	sum, err := loop.Run(ctx)
	if err != nil {
		return finish(err)
	}
	if _, err := train.LoadParams(dir, store); err != nil {
		return err
	}
	return task.report(dir, sum, start)
}

// summarizeTask trains on length-bucketed batches, each epoch's order drawn
// from its own seeded stream (a batch is a function of the step), and
// evaluates the validation loss and the ROUGE of greedy headlines.
type summarizeTask struct {
	cfg          summarizeConfig
	model        *pointer.Model
	store        *graph.Store
	voc          *vocab.Vocab
	train, valid []summaryPair
	bucketer     *batch.Bucketer
	validBuckets *batch.Bucketer
	shapes       []batch.Shape
	progs, evals map[batch.Shape]*pointer.Program
	decoder      *pointer.Decoder
	dec          attention.StepModel // the decoder under the decoding constraints
	evalIdx      []int               // validation pairs decoded at each evaluation
	epoch        int
	batches      []batch.Batch
}

func newSummarizeTask(cfg summarizeConfig, model *pointer.Model, store *graph.Store, voc *vocab.Vocab, trainSet, validSet []summaryPair) (*summarizeTask, error) {
	t := &summarizeTask{cfg: cfg, model: model, store: store, voc: voc, train: trainSet, valid: validSet, epoch: -1,
		progs: map[batch.Shape]*pointer.Program{}, evals: map[batch.Shape]*pointer.Program{}, decoder: model.NewDecoder(store)}
	var err error
	if t.dec, err = decodeModel(t.decoder, cfg); err != nil {
		return nil, err
	}
	lengths := func(set []summaryPair) (src, tgt []int) {
		for _, p := range set {
			src = append(src, len(p.src))
			tgt = append(tgt, len(p.tgt)+1)
		}
		return src, tgt
	}
	ts, tt := lengths(trainSet)
	vs, vt := lengths(validSet)
	shapes, _ := parsePairBuckets(cfg.Buckets)
	if shapes == nil {
		shapes = autoPairBuckets(append(ts, vs...), append(tt, vt...))
	}
	t.shapes = shapes
	bc := batch.BucketConfig{Joint: true, BatchSize: cfg.Batch}
	for _, s := range shapes {
		bc.SrcBounds = append(bc.SrcBounds, s.Src)
		bc.TgtBounds = append(bc.TgtBounds, s.Tgt)
	}
	if t.bucketer, err = batch.NewBucketer(ts, tt, bc); err != nil {
		return nil, usage(errors.Wrap(err, "training pairs"))
	}
	if t.validBuckets, err = batch.NewBucketer(vs, vt, bc); err != nil {
		return nil, usage(errors.Wrap(err, "validation pairs"))
	}
	n := len(validSet)
	if cfg.EvalSize > 0 && cfg.EvalSize < n {
		n = cfg.EvalSize
	}
	for i := 0; i < n; i++ {
		t.evalIdx = append(t.evalIdx, i*len(validSet)/n)
	}
	return t, nil
}

// autoPairBuckets returns joint buckets at the 50th, 80th and 95th percentiles
// of the article lengths (rounded up to a multiple of 4) and of the headline
// lengths, and the longest of each.
func autoPairBuckets(src, tgt []int) []batch.Shape {
	quantile := func(v []int, q float64, step int) int {
		s := append([]int(nil), v...)
		sort.Ints(s)
		x := s[int(q*float64(len(s)-1))]
		return (x + step - 1) / step * step
	}
	longest := batch.Shape{Src: quantile(src, 1, 1), Tgt: quantile(tgt, 1, 1)}
	var out []batch.Shape
	for _, q := range []float64{0.5, 0.8, 0.95} {
		s := batch.Shape{Src: quantile(src, q, 4), Tgt: max(quantile(tgt, q, 1), 2)}
		if s.Src >= longest.Src || s.Tgt >= longest.Tgt {
			break
		}
		if len(out) == 0 || (s.Src > out[len(out)-1].Src && s.Tgt > out[len(out)-1].Tgt) {
			out = append(out, s)
		}
	}
	return append(out, longest)
}

func (t *summarizeTask) close() {
	for _, m := range []map[batch.Shape]*pointer.Program{t.progs, t.evals} {
		for _, p := range m {
			p.Close()
		}
	}
	t.decoder.Close()
}

func (t *summarizeTask) StepsPerEpoch() int { return t.bucketer.NumBatches() }

func (t *summarizeTask) program(mode graph.Mode, shape batch.Shape) (*pointer.Program, error) {
	cache := t.progs
	if mode == graph.Eval {
		cache = t.evals
	}
	if p, ok := cache[shape]; ok {
		return p, nil
	}
	p, err := t.model.Build(t.store, mode, t.cfg.Batch, shape.Src, shape.Tgt)
	if err != nil {
		return nil, err
	}
	cache[shape] = p
	return p, nil
}

// feed sets the pairs idx of set into p.
func feed(p *pointer.Program, set []summaryPair, idx []int) (int, error) {
	srcs, tgts := make([][]int, len(idx)), make([][]int, len(idx))
	for i, j := range idx {
		srcs[i], tgts[i] = set[j].src, set[j].tgt
	}
	return p.Feed(srcs, tgts)
}

func (t *summarizeTask) TrainStep(step int, noise *rand.Rand) (train.Result, error) {
	spe := t.StepsPerEpoch()
	if epoch := step / spe; epoch != t.epoch {
		t.batches = t.bucketer.Epoch(graph.NewRNG(t.cfg.Seed, "shuffle/"+strconv.Itoa(epoch)))
		t.epoch = epoch
	}
	bt := t.batches[step%spe]
	p, err := t.program(graph.Train, bt.Shape)
	if err != nil {
		return train.Result{}, err
	}
	n, err := feed(p, t.train, bt.Indices)
	if err != nil {
		return train.Result{}, err
	}
	p.SetNoise(noise)
	if err := p.Run(); err != nil {
		return train.Result{}, err
	}
	return train.Result{Loss: p.Loss(), Items: n}, nil
}

// Evaluate returns the teacher-forced validation loss (mean nats per headline
// token), the mean p_gen over the validation tokens (pointer-generator), and
// the ROUGE-1/2/L F1 of greedy headlines of the evaluated pairs with their mean,
// val_rouge, which selects the best checkpoint.
func (t *summarizeTask) Evaluate() (map[string]float64, error) {
	m, err := t.validLoss()
	if err != nil {
		return nil, err
	}
	heads, err := t.decodeGreedy(t.evalIdx)
	if err != nil {
		return nil, err
	}
	refs := make([]string, len(t.evalIdx))
	for i, j := range t.evalIdx {
		refs[i] = t.valid[j].reference
	}
	r, err := metrics.MeanRouge(refs, heads)
	if err != nil {
		return nil, err
	}
	m["val_rouge1"], m["val_rouge2"], m["val_rougeL"] = r.Rouge1.F1, r.Rouge2.F1, r.RougeL.F1
	m["val_rouge"] = (r.Rouge1.F1 + r.Rouge2.F1 + r.RougeL.F1) / 3
	words := 0
	for _, h := range heads {
		words += len(strings.Fields(h))
	}
	m["val_words"] = float64(words) / float64(len(heads))
	return m, nil
}

// validLoss runs the teacher-forced evaluation programs over the validation set.
func (t *summarizeTask) validLoss() (map[string]float64, error) {
	var sum, pgen float64
	tokens := 0
	for _, bt := range t.validBuckets.Epoch(graph.NewRNG(t.cfg.Seed, "valid")) {
		p, err := t.program(graph.Eval, bt.Shape)
		if err != nil {
			return nil, err
		}
		n, err := feed(p, t.valid, bt.Indices)
		if err != nil {
			return nil, err
		}
		if err := p.Run(); err != nil {
			return nil, err
		}
		loss, err := p.Output("loss")
		if err != nil {
			return nil, err
		}
		sum += graph.Scalar(loss) * float64(n)
		tokens += n
		if t.cfg.Copy {
			pg, err := p.Output("p_gen")
			if err != nil {
				return nil, err
			}
			v := graph.Float64s(pg)
			for i, j := range bt.Indices {
				for k := 0; k <= len(t.valid[j].tgt); k++ {
					pgen += v[i*bt.Shape.Tgt+k]
				}
			}
		}
	}
	m := map[string]float64{"val_loss": sum / float64(tokens)}
	if t.cfg.Copy {
		m["val_p_gen"] = pgen / float64(tokens)
	}
	return m, nil
}

// decodeChunk is the number of articles decoded together greedily.
const decodeChunk = 100

// decodeGreedy returns the greedy headlines of the validation pairs idx, decoded
// in chunks of articles of similar lengths.
func (t *summarizeTask) decodeGreedy(idx []int) ([]string, error) {
	order := append([]int(nil), idx...)
	sort.SliceStable(order, func(a, b int) bool { return len(t.valid[order[a]].src) < len(t.valid[order[b]].src) })
	byPair := map[int]string{}
	opt := attention.DecodeOptions{BOS: vocab.BOSID, EOS: vocab.EOSID, MaxLen: t.cfg.MaxDecode}
	for lo := 0; lo < len(order); lo += decodeChunk {
		chunk := order[lo:min(lo+decodeChunk, len(order))]
		srcs := make([][]int, len(chunk))
		for i, j := range chunk {
			srcs[i] = t.valid[j].src
		}
		hyps, err := attention.Greedy(t.dec, srcs, opt)
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

// decodeModel returns d under the configured decoding constraints: without
// <unk>, without repeated words or trigrams.
func decodeModel(d *pointer.Decoder, cfg summarizeConfig) (attention.StepModel, error) {
	var m attention.StepModel = d
	if cfg.NoUnk {
		m = pointer.ForbidTokens(m, vocab.UnkID)
	}
	switch {
	case cfg.NoRepeatWords:
		return pointer.NoRepeatNgrams(m, 1, vocab.BOSID, vocab.EOSID)
	case cfg.NoRepeatTrigram:
		return pointer.NoRepeatNgrams(m, 3, vocab.BOSID, vocab.EOSID)
	}
	return m, nil
}

// rougeFigures are the mean ROUGE F1 scores of a set of headlines.
type rougeFigures struct {
	Rouge1 float64 `json:"rouge1_f1"`
	Rouge2 float64 `json:"rouge2_f1"`
	RougeL float64 `json:"rougeL_f1"`
	Mean   float64 `json:"mean"`
	Pairs  int     `json:"pairs"`
}

func rougeOf(refs, cands []string) (rougeFigures, error) {
	r, err := metrics.MeanRouge(refs, cands)
	if err != nil {
		return rougeFigures{}, err
	}
	return rougeFigures{Rouge1: r.Rouge1.F1, Rouge2: r.Rouge2.F1, RougeL: r.RougeL.F1,
		Mean: (r.Rouge1.F1 + r.Rouge2.F1 + r.RougeL.F1) / 3, Pairs: len(refs)}, nil
}

// leadResult is the lead-N baseline: the first N words of the article.
type leadResult struct {
	N        int          `json:"n"`
	ChosenBy string       `json:"chosen_by"`
	Train    rougeFigures `json:"train"`
	Valid    rougeFigures `json:"valid"`
}

// leadBaseline chooses N in 1..maxN maximising the mean of ROUGE-1, ROUGE-2 and
// ROUGE-L F1 of the first N article words on the training pairs (the smallest N
// on ties) and evaluates it on the validation pairs.
func leadBaseline(trainSet, validSet []summaryPair, maxN int) (leadResult, error) {
	res := leadResult{ChosenBy: "mean of ROUGE-1, ROUGE-2 and ROUGE-L F1 on the training pairs"}
	// ROUGE's tokens of a prefix are the concatenated tokens of its words, since
	// white space separates tokens
	type prepared struct{ words [][]string }
	prep := func(set []summaryPair) ([]prepared, [][]string) {
		ps := make([]prepared, len(set))
		refs := make([][]string, len(set))
		for i, p := range set {
			for _, w := range p.words {
				ps[i].words = append(ps[i].words, metrics.RougeTokenize(w))
			}
			refs[i] = metrics.RougeTokenize(p.reference)
		}
		return ps, refs
	}
	score := func(ps []prepared, refs [][]string, n int) (rougeFigures, error) {
		var f rougeFigures
		for i, p := range ps {
			var cand []string
			for _, w := range p.words[:min(n, len(p.words))] {
				cand = append(cand, w...)
			}
			r1, err := metrics.RougeNTokens(refs[i], cand, 1)
			if err != nil {
				return f, err
			}
			r2, err := metrics.RougeNTokens(refs[i], cand, 2)
			if err != nil {
				return f, err
			}
			f.Rouge1 += r1.F1
			f.Rouge2 += r2.F1
			f.RougeL += metrics.RougeLTokens(refs[i], cand).F1
		}
		k := float64(len(ps))
		f.Rouge1, f.Rouge2, f.RougeL, f.Pairs = f.Rouge1/k, f.Rouge2/k, f.RougeL/k, len(ps)
		f.Mean = (f.Rouge1 + f.Rouge2 + f.RougeL) / 3
		return f, nil
	}
	tp, tr := prep(trainSet)
	for n := 1; n <= maxN; n++ {
		f, err := score(tp, tr, n)
		if err != nil {
			return res, err
		}
		if res.N == 0 || f.Mean > res.Train.Mean {
			res.N, res.Train = n, f
		}
	}
	vp, vr := prep(validSet)
	var err error
	res.Valid, err = score(vp, vr, res.N)
	return res, err
}

// leadText returns the first n words of an article.
func leadText(words []string, n int) string { return strings.Join(words[:min(n, len(words))], " ") }

// summarizeSummary is summary.json: the loop's summary and the final figures.
type summarizeSummary struct {
	*train.Summary
	Model           string       `json:"model"`
	Params          int          `json:"params"`
	Vocab           int          `json:"vocab"`
	TrainPairs      int          `json:"train_pairs"`
	ValidPairs      int          `json:"valid_pairs"`
	Greedy          rougeFigures `json:"rouge_greedy"`
	BeamRouge       rougeFigures `json:"rouge_beam"`
	Beam            int          `json:"beam"`
	LengthPenalty   float64      `json:"length_penalty"`
	NoRepeatTrigram bool         `json:"no_repeat_trigram"`
	NoRepeatWords   bool         `json:"no_repeat_words"`
	NoUnk           bool         `json:"no_unk"`
	Lead            leadResult   `json:"lead_baseline"`
	BeatsLead       bool         `json:"beats_lead"` // the beam headlines beat the lead baseline on ROUGE-1, -2 and -L
	Unseen          *unseenPairs `json:"unseen_pairs,omitempty"`
	CopiedOOV       float64      `json:"copied_oov_fraction"`
	UnkFraction     float64      `json:"unk_fraction"`
	WordsPerHead    float64      `json:"words_per_headline"`
	EvalSeconds     float64      `json:"eval_seconds"`
	TotalSeconds    float64      `json:"total_seconds"`
	Samples         []headSample `json:"samples"`
}

// decodingChosenOn is the number of leading validation pairs on which the
// default decoding settings (beam, length penalty, blocking) were chosen; the
// report also scores the pairs after them, which played no part in that choice.
const decodingChosenOn = 300

// unseenPairs are the beam and lead figures on the validation pairs from index
// From on.
type unseenPairs struct {
	From int          `json:"from"`
	Beam rougeFigures `json:"beam"`
	Lead rougeFigures `json:"lead"`
}

// headSample is one validation example shown in samples.md.
type headSample struct {
	Article   string `json:"article"`
	Reference string `json:"reference"`
	Lead      string `json:"lead"`
	Greedy    string `json:"greedy"`
	Beam      string `json:"beam"`
}

// report decodes the validation set with the best weights, greedily and with
// beam search, compares with the lead baseline and writes summary.json and
// samples.md.
func (t *summarizeTask) report(dir string, sum *train.Summary, start time.Time) error {
	t0 := time.Now()
	cfg := t.cfg
	all := make([]int, len(t.valid))
	refs := make([]string, len(t.valid))
	for i := range all {
		all[i], refs[i] = i, t.valid[i].reference
	}
	greedy, err := t.decodeGreedy(all)
	if err != nil {
		return err
	}
	s := &summarizeSummary{Summary: sum, Model: cfg.modelName(), Params: t.store.Count(), Vocab: t.voc.Len(),
		TrainPairs: len(t.train), ValidPairs: len(t.valid), Beam: cfg.Beam, LengthPenalty: cfg.LengthPenalty,
		NoRepeatTrigram: cfg.NoRepeatTrigram, NoRepeatWords: cfg.NoRepeatWords, NoUnk: cfg.NoUnk}
	if s.Greedy, err = rougeOf(refs, greedy); err != nil {
		return err
	}
	nBeam := len(t.valid)
	if cfg.BeamEval > 0 && cfg.BeamEval < nBeam {
		nBeam = cfg.BeamEval
	}
	opt := attention.DecodeOptions{BOS: vocab.BOSID, EOS: vocab.EOSID, MaxLen: cfg.MaxDecode, Beam: cfg.Beam, Alpha: cfg.LengthPenalty}
	beam := make([]string, nBeam)
	var copied, unk, words int
	for i := 0; i < nBeam; i++ {
		p := t.valid[i]
		hyps, err := attention.BeamSearch(t.dec, p.src, opt)
		if err != nil {
			return errors.Wrapf(err, "validation pair %d", i)
		}
		var toks []int
		if len(hyps) > 0 {
			toks = hyps[0].Tokens
		}
		for _, id := range toks {
			switch {
			case id >= t.voc.Len():
				copied++
			case id == vocab.UnkID:
				unk++
			}
		}
		words += len(toks)
		beam[i] = headline(t.voc, toks, p.oovs)
	}
	if s.BeamRouge, err = rougeOf(refs[:nBeam], beam); err != nil {
		return err
	}
	if words > 0 {
		s.CopiedOOV, s.UnkFraction = float64(copied)/float64(words), float64(unk)/float64(words)
		s.WordsPerHead = float64(words) / float64(nBeam)
	}
	if s.Lead, err = leadBaseline(t.train, t.valid, cfg.LeadMax); err != nil {
		return err
	}
	lead := s.Lead.Valid
	if nBeam < len(t.valid) { // compare on the same pairs
		if lead, err = rougeOf(refs[:nBeam], leadTexts(t.valid[:nBeam], s.Lead.N)); err != nil {
			return err
		}
	}
	s.BeatsLead = s.BeamRouge.Rouge1 > lead.Rouge1 && s.BeamRouge.Rouge2 > lead.Rouge2 && s.BeamRouge.RougeL > lead.RougeL
	if n := decodingChosenOn; nBeam > n {
		u := &unseenPairs{From: n}
		if u.Beam, err = rougeOf(refs[n:nBeam], beam[n:]); err != nil {
			return err
		}
		if u.Lead, err = rougeOf(refs[n:nBeam], leadTexts(t.valid[n:nBeam], s.Lead.N)); err != nil {
			return err
		}
		s.Unseen = u
	}
	lines := func(name string, hs []string) error {
		return atomicfile.WriteFile(filepath.Join(dir, name), []byte(strings.Join(hs, "\n")+"\n"), 0o644)
	}
	if err := lines("valid.greedy.txt", greedy); err != nil {
		return err
	}
	if err := lines("valid.beam.txt", beam); err != nil {
		return err
	}
	for k := 0; k < min(cfg.Samples, nBeam); k++ {
		i := k * nBeam / min(cfg.Samples, nBeam)
		p := t.valid[i]
		s.Samples = append(s.Samples, headSample{Article: strings.Join(p.words, " "), Reference: p.reference,
			Lead: leadText(p.words, s.Lead.N), Greedy: greedy[i], Beam: beam[i]})
	}
	s.EvalSeconds = time.Since(t0).Seconds()
	s.TotalSeconds = time.Since(start).Seconds()
	if err := train.WriteJSON(filepath.Join(dir, "summary.json"), s); err != nil {
		return err
	}
	if err := writeSamples(filepath.Join(dir, "samples.md"), s); err != nil {
		return err
	}
	unseen := ""
	if u := s.Unseen; u != nil {
		unseen = fmt.Sprintf("; pairs %d on: beam %.2f/%.2f/%.2f, lead %.2f/%.2f/%.2f", u.From+1,
			100*u.Beam.Rouge1, 100*u.Beam.Rouge2, 100*u.Beam.RougeL, 100*u.Lead.Rouge1, 100*u.Lead.Rouge2, 100*u.Lead.RougeL)
	}
	fmt.Fprintf(os.Stderr, "summarize: %s, ROUGE-1/2/L F1 %.2f/%.2f/%.2f (beam %d on %d pairs), greedy %.2f/%.2f/%.2f; lead-%d baseline %.2f/%.2f/%.2f%s; %d steps, %.0f s, run %s\n",
		s.Model, 100*s.BeamRouge.Rouge1, 100*s.BeamRouge.Rouge2, 100*s.BeamRouge.RougeL, cfg.Beam, nBeam,
		100*s.Greedy.Rouge1, 100*s.Greedy.Rouge2, 100*s.Greedy.RougeL, s.Lead.N,
		100*lead.Rouge1, 100*lead.Rouge2, 100*lead.RougeL, unseen, sum.Steps, s.TotalSeconds, dir)
	return nil
}

func leadTexts(set []summaryPair, n int) []string {
	out := make([]string, len(set))
	for i, p := range set {
		out[i] = leadText(p.words, n)
	}
	return out
}

// writeSamples writes the sample headlines as Markdown.
func writeSamples(path string, s *summarizeSummary) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# Sample headlines: %s\n\n", s.Model)
	fmt.Fprintf(&b, "Validation pairs spread evenly over the set. ROUGE-1/2/L F1 on the validation set: beam %.2f/%.2f/%.2f, greedy %.2f/%.2f/%.2f, lead-%d %.2f/%.2f/%.2f.\n\n",
		100*s.BeamRouge.Rouge1, 100*s.BeamRouge.Rouge2, 100*s.BeamRouge.RougeL, 100*s.Greedy.Rouge1, 100*s.Greedy.Rouge2, 100*s.Greedy.RougeL,
		s.Lead.N, 100*s.Lead.Valid.Rouge1, 100*s.Lead.Valid.Rouge2, 100*s.Lead.Valid.RougeL)
	var rules []string
	switch {
	case s.NoRepeatWords:
		rules = append(rules, "no word twice")
	case s.NoRepeatTrigram:
		rules = append(rules, "no repeated trigram")
	}
	if s.NoUnk {
		rules = append(rules, "no <unk>")
	}
	if len(rules) > 0 {
		fmt.Fprintf(&b, "Decoding (greedy and beam): %s.\n\n", strings.Join(rules, ", "))
	}
	beam := fmt.Sprintf("beam %d, length penalty %g", s.Beam, s.LengthPenalty)
	for i, x := range s.Samples {
		fmt.Fprintf(&b, "%d. **article:** %s\n   - **reference:** %s\n   - **%s:** %s\n   - **greedy:** %s\n   - **lead-%d:** %s\n\n",
			i+1, mdEscape(x.Article), mdEscape(x.Reference), beam, mdEscape(x.Beam), mdEscape(x.Greedy), s.Lead.N, mdEscape(x.Lead))
	}
	return errors.Wrap(os.WriteFile(path, []byte(b.String()), 0o644), "summarize: samples")
}

// mdEscape keeps Markdown from reading the text's punctuation as markup (a '#'
// inside a line is plain text).
func mdEscape(s string) string {
	r := strings.NewReplacer(`\`, `\\`, "*", `\*`, "_", `\_`, "`", "\\`", "<", "&lt;", ">", "&gt;", "[", `\[`, "]", `\]`)
	return r.Replace(s)
}
