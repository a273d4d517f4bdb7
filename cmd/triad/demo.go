package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/models/attention"
	"github.com/triadml/triad/models/rnn"
	"github.com/triadml/triad/solvers"
	"github.com/triadml/triad/train"
)

func init() {
	register("demo", "built-in demo, no dataset: attention seq2seq learns to normalise dates written in many formats and languages", demoMain)
}

// demoConfig holds the hyperparameters of `triad demo`.
type demoConfig struct {
	train.Common
	Model          string  `json:"model" help:"rnn (GRU/LSTM encoder-decoder with attention) or transformer"`
	Cell           string  `json:"cell" help:"rnn model: gru or lstm"`
	Attention      string  `json:"attention" help:"rnn model: bahdanau, dot or general"`
	Embed          int     `json:"embed" help:"rnn model: character embedding size"`
	Hidden         int     `json:"hidden" help:"rnn model: encoder units per direction (the decoder has twice as many)"`
	AttnDim        int     `json:"attn_dim" help:"rnn model: width of the additive attention (0: the decoder's)"`
	Dim            int     `json:"dim" help:"transformer: model width"`
	Heads          int     `json:"heads" help:"transformer: attention heads"`
	FF             int     `json:"ff" help:"transformer: feed-forward width"`
	Layers         int     `json:"layers" help:"transformer: encoder and decoder layers"`
	Dropout        float64 `json:"dropout" help:"dropout"`
	LabelSmoothing float64 `json:"label_smoothing" help:"label smoothing of the cross-entropy"`
	Batch          int     `json:"batch" help:"pairs per training step (fresh dates every step)"`
	LR             float64 `json:"lr" help:"Adam learning rate"`
	Warmup         int     `json:"warmup" help:"linear warm-up steps of the learning rate, then cosine decay to 0.1x at the end"`
	ClipNorm       float64 `json:"clip_norm" help:"clip the global gradient norm (0: off)"`
	TestSize       int     `json:"test_size" help:"held-out pairs for the exact-match accuracy"`
	Beam           int     `json:"beam" help:"beam size of the beam-search evaluation"`
	Alpha          float64 `json:"alpha" help:"length-penalty exponent of beam search (Wu et al. 2016)"`
	BeamEval       int     `json:"beam_eval" help:"held-out pairs also decoded with beam search at the end"`
	Examples       int     `json:"examples" help:"held-out examples printed at the end"`
}

func defaultDemoConfig() demoConfig {
	return demoConfig{
		Common: train.Common{Seed: 1, Epochs: 8, LogEvery: 50, EvalEvery: 200},
		Model:  "rnn", Cell: "gru", Attention: "bahdanau", Embed: 32, Hidden: 32, AttnDim: 32,
		Dim: 64, Heads: 4, FF: 128, Layers: 2,
		Batch: 64, LR: 3e-3, Warmup: 100, ClipNorm: 1, TestSize: 1000, Beam: 4, Alpha: 0.6, BeamEval: 100, Examples: 8,
	}
}

// demoStepsPerEpoch is the length of the demo's "epoch": the data are drawn fresh
// at every step, so an epoch is only a unit of --epochs.
const demoStepsPerEpoch = 100

func demoMain(args []string) error {
	cfg := defaultDemoConfig()
	if err := parseFlags("demo", &cfg, &cfg.Common, args); err != nil {
		return err
	}
	if cfg.Batch <= 0 || cfg.TestSize <= 0 || cfg.Beam <= 0 || cfg.Examples < 0 || cfg.BeamEval < 0 {
		return usage(errors.New("batch, test_size and beam must be positive"))
	}
	dir, err := runDir("demo", &cfg.Common)
	if err != nil {
		return err
	}
	start := time.Now()
	task, store, err := newDemoTask(cfg)
	if err != nil {
		return err
	}
	if err := train.WriteConfig(dir, cfg, train.CurrentEnv(cfg.Threads, os.Args)); err != nil {
		return err
	}
	adam := solvers.DefaultAdamConfig()
	adam.LR = cfg.LR
	solver, err := solvers.NewAdam(adam)
	if err != nil {
		return usage(err)
	}
	total := cfg.Epochs * demoStepsPerEpoch
	if cfg.MaxSteps > 0 && (total == 0 || cfg.MaxSteps < total) {
		total = cfg.MaxSteps
	}
	sched, err := solvers.NewWarmupCosine(cfg.LR, cfg.LR/10, min(cfg.Warmup, max(total-1, 0)), max(total, 1))
	if err != nil {
		return usage(err)
	}
	loop := &train.Loop{
		Dir: dir, Common: cfg.Common, Store: store, Solver: solver, Schedule: sched,
		ClipNorm: cfg.ClipNorm, Task: task, Best: "val_exact", BestMax: true, ItemName: "tokens",
	}
	fmt.Fprintf(os.Stderr, "demo: %s model, %d parameters, %d source / %d target characters, %d held-out dates, run %s\n",
		cfg.Model, store.Count(), len(task.src.chars), len(task.tgt.chars), len(task.test), dir)
	for _, ex := range task.test[:min(3, len(task.test))] {
		fmt.Fprintf(os.Stderr, "  e.g. %q -> %q\n", ex.src, ex.tgt)
	}
	ctx, stop := interruptible()
	defer stop()
	sum, err := loop.Run(ctx)
	if err != nil {
		return finish(err)
	}
	return task.report(dir, sum, start)
}

// ---- the task ----

// datePair is one example: a date as written (src) and in ISO 8601 (tgt).
type datePair struct{ src, tgt string }

// demoProgram is a compiled teacher-forced program of either model.
type demoProgram interface {
	Feed(srcs, tgts [][]int) (int, error)
	SetNoise(*rand.Rand)
	Run() error
	Output(string) (*tensor.Dense, error)
}

type demoTask struct {
	cfg      demoConfig
	src, tgt charVocab
	srcLen   int // source positions of the training graph
	tgtLen   int // target positions (10 characters + EOS)
	build    func(mode graph.Mode, batch, srcLen int) (demoProgram, error)
	decoder  attention.StepModel
	progs    map[int]demoProgram // training programs by source length
	test     []datePair
	held     map[string]bool
	pool     []datePair // the training pairs of the current pool, sorted by length
	poolID   int
	poolPerm []int
}

// demoPoolBatches is the number of batches drawn together and grouped by source
// length, so that each batch pads its sources only to its own length bucket.
const demoPoolBatches = 16

const demoTgtLen = len("2006-01-02") + 1

var demoTokens = attention.Tokens{Pad: 0, BOS: 1, EOS: 2}

func newDemoTask(cfg demoConfig) (*demoTask, *graph.Store, error) {
	srcChars, longest := dateAlphabet()
	t := &demoTask{cfg: cfg, src: newCharVocab(srcChars), tgt: newCharVocab("-0123456789"),
		srcLen: (longest + 7) / 8 * 8, tgtLen: demoTgtLen, held: map[string]bool{}}
	rng := graph.NewRNG(cfg.Seed, "demo/test")
	for len(t.test) < cfg.TestSize {
		p := randomDate(rng)
		if !t.held[p.src] {
			t.held[p.src] = true
			t.test = append(t.test, p)
		}
	}
	store := graph.NewStore(tensor.Float32, graph.NewRNG(cfg.Seed, "init"))
	switch cfg.Model {
	case "rnn":
		m, err := attention.NewSeq2Seq(store, attention.Seq2SeqConfig{
			SrcVocab: t.src.size(), TgtVocab: t.tgt.size(), Embed: cfg.Embed, Hidden: cfg.Hidden, AttnDim: cfg.AttnDim,
			Cell: rnn.Cell(cfg.Cell), Bidirectional: true, Attention: cfg.Attention, Dropout: cfg.Dropout, Tokens: demoTokens,
		})
		if err != nil {
			return nil, nil, usage(err)
		}
		t.build = func(mode graph.Mode, batch, srcLen int) (demoProgram, error) {
			return m.Build(store, mode, batch, srcLen, t.tgtLen, cfg.LabelSmoothing)
		}
		t.decoder = m.NewDecoder(store)
	case "transformer":
		m, err := attention.NewTransformer(store, attention.TransformerConfig{
			SrcVocab: t.src.size(), TgtVocab: t.tgt.size(), Dim: cfg.Dim, Heads: cfg.Heads, FF: cfg.FF,
			EncoderLayers: cfg.Layers, DecoderLayers: cfg.Layers, Dropout: cfg.Dropout, MaxLen: t.srcLen, Tokens: demoTokens,
		})
		if err != nil {
			return nil, nil, usage(err)
		}
		t.build = func(mode graph.Mode, batch, srcLen int) (demoProgram, error) {
			return m.Build(store, mode, batch, srcLen, t.tgtLen, cfg.LabelSmoothing)
		}
		t.decoder = m.NewDecoder(store)
	default:
		return nil, nil, usage(errors.Errorf("unknown model %q (rnn, transformer)", cfg.Model))
	}
	t.progs = map[int]demoProgram{}
	t.poolID = -1
	return t, store, nil
}

func (t *demoTask) StepsPerEpoch() int { return demoStepsPerEpoch }

// batch returns the pairs of a step: steps come in pools of demoPoolBatches
// batches drawn from a stream named after the pool (skipping held-out sources),
// sorted by source length and cut into batches taken in a random order, so that
// the batch is a function of the step and pads little.
func (t *demoTask) batch(step int) []datePair {
	id := step / demoPoolBatches
	if id != t.poolID {
		rng := graph.NewRNG(t.cfg.Seed, "demo/train/"+strconv.Itoa(id))
		t.pool = t.pool[:0]
		for len(t.pool) < demoPoolBatches*t.cfg.Batch {
			if p := randomDate(rng); !t.held[p.src] {
				t.pool = append(t.pool, p)
			}
		}
		sort.SliceStable(t.pool, func(i, j int) bool {
			return utf8.RuneCountInString(t.pool[i].src) < utf8.RuneCountInString(t.pool[j].src)
		})
		t.poolPerm = rng.Perm(demoPoolBatches)
		t.poolID = id
	}
	k := t.poolPerm[step%demoPoolBatches]
	return t.pool[k*t.cfg.Batch : (k+1)*t.cfg.Batch]
}

// TrainStep trains on the step's batch with the program of its length bucket.
func (t *demoTask) TrainStep(step int, noise *rand.Rand) (train.Result, error) {
	pairs := t.batch(step)
	srcs, tgts := make([][]int, len(pairs)), make([][]int, len(pairs))
	longest := 0
	for i, p := range pairs {
		srcs[i], tgts[i] = t.src.encode(p.src), t.tgt.encode(p.tgt)
		longest = max(longest, len(srcs[i]))
	}
	srcLen := min((longest+7)/8*8, t.srcLen)
	prog, ok := t.progs[srcLen]
	if !ok {
		var err error
		if prog, err = t.build(graph.Train, t.cfg.Batch, srcLen); err != nil {
			return train.Result{}, err
		}
		t.progs[srcLen] = prog
	}
	n, err := prog.Feed(srcs, tgts)
	if err != nil {
		return train.Result{}, err
	}
	prog.SetNoise(noise)
	if err := prog.Run(); err != nil {
		return train.Result{}, err
	}
	loss, err := prog.Output("loss")
	if err != nil {
		return train.Result{}, err
	}
	return train.Result{Loss: graph.Scalar(loss), Items: n}, nil
}

// decodeAll decodes sources greedily in batches and returns the hypotheses.
func (t *demoTask) decodeAll(pairs []datePair) ([]attention.Hypothesis, error) {
	const chunk = 250
	opt := attention.DecodeOptions{BOS: demoTokens.BOS, EOS: demoTokens.EOS, MaxLen: t.tgtLen}
	var out []attention.Hypothesis
	for lo := 0; lo < len(pairs); lo += chunk {
		hi := min(lo+chunk, len(pairs))
		srcs := make([][]int, hi-lo)
		for i, p := range pairs[lo:hi] {
			srcs[i] = t.src.encode(p.src)
		}
		hyps, err := attention.Greedy(t.decoder, srcs, opt)
		if err != nil {
			return nil, err
		}
		out = append(out, hyps...)
	}
	return out, nil
}

// Evaluate decodes the held-out set greedily: exact-match and per-character
// accuracy.
func (t *demoTask) Evaluate() (map[string]float64, error) {
	hyps, err := t.decodeAll(t.test)
	if err != nil {
		return nil, err
	}
	var exact, chars, total int
	for i, h := range hyps {
		got, want := t.tgt.decode(h.Tokens), t.test[i].tgt
		if got == want {
			exact++
		}
		for j := range want {
			if j < len(got) && got[j] == want[j] {
				chars++
			}
		}
		total += len(want)
	}
	return map[string]float64{
		"val_exact":    float64(exact) / float64(len(hyps)),
		"val_char_acc": float64(chars) / float64(total),
	}, nil
}

// demoHeatmaps are the sources whose attention the demo draws.
var demoHeatmaps = []string{"saturday, 28 nov. 2026", "Samstag, 28. November 2026", "28/11/2026"}

// report prints and saves the final figures, examples and attention heatmaps.
func (t *demoTask) report(dir string, sum *train.Summary, start time.Time) error {
	hyps, err := t.decodeAll(t.test)
	if err != nil {
		return err
	}
	type example struct {
		Source     string `json:"source"`
		Target     string `json:"target"`
		Prediction string `json:"prediction"`
		Beam       string `json:"beam,omitempty"`
	}
	res := struct {
		ExactMatch     float64   `json:"exact_match"`
		BeamExactMatch float64   `json:"beam_exact_match"`
		BeamEvaluated  int       `json:"beam_evaluated"`
		Beam           int       `json:"beam"`
		TestSize       int       `json:"test_size"`
		Steps          int       `json:"steps"`
		Seconds        float64   `json:"seconds"`
		TrainSeconds   float64   `json:"train_seconds"`
		Threads        int       `json:"threads"`
		Examples       []example `json:"examples"`
		Heatmaps       []string  `json:"heatmaps"`
	}{Beam: t.cfg.Beam, TestSize: len(t.test), Steps: sum.Steps, TrainSeconds: sum.Seconds, Threads: runtime.GOMAXPROCS(0)}
	exact := 0
	var errs []example
	for i, h := range hyps {
		got := t.tgt.decode(h.Tokens)
		if got == t.test[i].tgt {
			exact++
		} else if len(errs) < 5 {
			errs = append(errs, example{Source: t.test[i].src, Target: t.test[i].tgt, Prediction: got})
		}
	}
	res.ExactMatch = float64(exact) / float64(len(hyps))
	opt := attention.DecodeOptions{BOS: demoTokens.BOS, EOS: demoTokens.EOS, MaxLen: t.tgtLen, Beam: t.cfg.Beam, Alpha: t.cfg.Alpha}
	beamExact := 0
	var beamDiffs []example
	for i := 0; i < min(t.cfg.BeamEval, len(t.test)); i++ {
		bh, err := attention.BeamSearch(t.decoder, t.src.encode(t.test[i].src), opt)
		if err != nil {
			return err
		}
		got := ""
		if len(bh) > 0 {
			got = t.tgt.decode(bh[0].Tokens)
		}
		if got == t.test[i].tgt {
			beamExact++
		}
		res.BeamEvaluated++
		if greedy := t.tgt.decode(hyps[i].Tokens); got != greedy && len(beamDiffs) < 3 {
			beamDiffs = append(beamDiffs, example{Source: t.test[i].src, Target: t.test[i].tgt, Prediction: greedy, Beam: got})
		}
		if i < t.cfg.Examples {
			res.Examples = append(res.Examples, example{Source: t.test[i].src, Target: t.test[i].tgt, Prediction: t.tgt.decode(hyps[i].Tokens), Beam: got})
		}
	}
	if res.BeamEvaluated > 0 {
		res.BeamExactMatch = float64(beamExact) / float64(res.BeamEvaluated)
	}
	for i, src := range demoHeatmaps {
		h, err := attention.Greedy(t.decoder, [][]int{t.src.encode(src)}, attention.DecodeOptions{BOS: demoTokens.BOS, EOS: demoTokens.EOS, MaxLen: t.tgtLen})
		if err != nil {
			return err
		}
		name := "attention.png"
		if i > 0 {
			name = fmt.Sprintf("attention_%d.png", i+1)
		}
		var outLabels []string
		for _, r := range t.tgt.decode(h[0].Tokens) {
			outLabels = append(outLabels, string(r))
		}
		if h[0].Finished {
			outLabels = append(outLabels, "</s>")
		}
		var srcLabels []string
		for _, r := range src {
			srcLabels = append(srcLabels, string(r))
		}
		title := fmt.Sprintf("%q -> %q", src, t.tgt.decode(h[0].Tokens))
		if err := attention.Heatmap(filepath.Join(dir, name), h[0].Weights, srcLabels, outLabels, title); err != nil {
			return err
		}
		res.Heatmaps = append(res.Heatmaps, name)
	}
	res.Seconds = time.Since(start).Seconds()
	if err := train.WriteJSON(filepath.Join(dir, "results.json"), res); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "demo: exact match %.2f%% greedy on %d held-out dates, %.2f%% with beam %d on the first %d; %d steps, %.0f s training (%.0f s in all), %d threads\n",
		100*res.ExactMatch, len(t.test), 100*res.BeamExactMatch, t.cfg.Beam, res.BeamEvaluated, sum.Steps, sum.Seconds, res.Seconds, res.Threads)
	for _, ex := range res.Examples {
		mark := "ok"
		if ex.Prediction != ex.Target {
			mark = "WRONG, want " + ex.Target
		}
		fmt.Fprintf(os.Stderr, "  %-40q -> %s  (%s)\n", ex.Source, ex.Prediction, mark)
	}
	for _, ex := range errs {
		fmt.Fprintf(os.Stderr, "  error: %q -> %s, want %s\n", ex.Source, ex.Prediction, ex.Target)
	}
	for _, ex := range beamDiffs {
		fmt.Fprintf(os.Stderr, "  beam and greedy differ: %q -> beam %s, greedy %s, want %s\n", ex.Source, ex.Beam, ex.Prediction, ex.Target)
	}
	fmt.Fprintf(os.Stderr, "demo: attention heatmaps %s in %s\n", strings.Join(res.Heatmaps, ", "), dir)
	return nil
}

// ---- character vocabularies ----

// charVocab maps characters to ids after the special tokens pad, BOS, EOS, unknown.
type charVocab struct {
	chars []rune
	ids   map[rune]int
}

const demoUnk = 3

func newCharVocab(chars string) charVocab {
	v := charVocab{ids: map[rune]int{}}
	for _, r := range chars {
		if _, ok := v.ids[r]; !ok {
			v.ids[r] = 4 + len(v.chars)
			v.chars = append(v.chars, r)
		}
	}
	return v
}

func (v charVocab) size() int { return 4 + len(v.chars) }

func (v charVocab) encode(s string) []int {
	out := make([]int, 0, len(s))
	for _, r := range s {
		id, ok := v.ids[r]
		if !ok {
			id = demoUnk
		}
		out = append(out, id)
	}
	return out
}

func (v charVocab) decode(ids []int) string {
	var b strings.Builder
	for _, id := range ids {
		if id >= 4 && id-4 < len(v.chars) {
			b.WriteRune(v.chars[id-4])
		} else {
			b.WriteRune('?')
		}
	}
	return b.String()
}

// ---- dates ----

// dateLang holds one language's month and weekday names (weekdays Sunday first)
// and the ways it writes a date. Placeholders: {D} day, {DD} two-digit day, {D1}
// French day (1er for the first), {ORD} English ordinal day, {M}/{MM} month number,
// {MONTH} month name, {MON} abbreviated month, {WD} weekday, {YYYY} year.
type dateLang struct {
	months, abbr [12]string
	weekdays     [7]string
	formats      []string
}

var dateLangs = []dateLang{
	{ // English
		months:   [12]string{"january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"},
		abbr:     [12]string{"jan.", "feb.", "mar.", "apr.", "may", "jun.", "jul.", "aug.", "sep.", "oct.", "nov.", "dec."},
		weekdays: [7]string{"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"},
		formats: []string{"{MONTH} {D}, {YYYY}", "{MON} {D}, {YYYY}", "{WD}, {MONTH} {D}, {YYYY}", "{D} {MONTH} {YYYY}",
			"{D} {MON} {YYYY}", "{WD}, {D} {MON} {YYYY}", "{MONTH} {ORD}, {YYYY}", "the {ORD} of {MONTH} {YYYY}", "{WD} {ORD} {MONTH} {YYYY}"},
	},
	{ // French
		months:   [12]string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"},
		abbr:     [12]string{"janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."},
		weekdays: [7]string{"dimanche", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi"},
		formats:  []string{"{D1} {MONTH} {YYYY}", "{WD} {D1} {MONTH} {YYYY}", "le {D1} {MONTH} {YYYY}", "{D1} {MON} {YYYY}"},
	},
	{ // German
		months:   [12]string{"januar", "februar", "märz", "april", "mai", "juni", "juli", "august", "september", "oktober", "november", "dezember"},
		abbr:     [12]string{"jan.", "feb.", "märz", "apr.", "mai", "juni", "juli", "aug.", "sept.", "okt.", "nov.", "dez."},
		weekdays: [7]string{"sonntag", "montag", "dienstag", "mittwoch", "donnerstag", "freitag", "samstag"},
		formats:  []string{"{D}. {MONTH} {YYYY}", "{WD}, {D}. {MONTH} {YYYY}", "{D}. {MON} {YYYY}", "{WD}, den {D}. {MONTH} {YYYY}"},
	},
	{ // Spanish
		months:   [12]string{"enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre"},
		abbr:     [12]string{"ene.", "feb.", "mar.", "abr.", "may.", "jun.", "jul.", "ago.", "sept.", "oct.", "nov.", "dic."},
		weekdays: [7]string{"domingo", "lunes", "martes", "miércoles", "jueves", "viernes", "sábado"},
		formats:  []string{"{D} de {MONTH} de {YYYY}", "{WD}, {D} de {MONTH} de {YYYY}", "{D} {MON} {YYYY}"},
	},
	{ // Italian
		months:   [12]string{"gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto", "settembre", "ottobre", "novembre", "dicembre"},
		abbr:     [12]string{"gen", "feb", "mar", "apr", "mag", "giu", "lug", "ago", "set", "ott", "nov", "dic"},
		weekdays: [7]string{"domenica", "lunedì", "martedì", "mercoledì", "giovedì", "venerdì", "sabato"},
		formats:  []string{"{D} {MONTH} {YYYY}", "{WD} {D} {MONTH} {YYYY}", "{D} {MON} {YYYY}"},
	},
	{ // numeric, day before month (never month/day: 03/04 would be ambiguous)
		formats: []string{"{DD}/{MM}/{YYYY}", "{D}/{M}/{YYYY}", "{DD}.{MM}.{YYYY}", "{D}.{M}.{YYYY}", "{DD}-{MM}-{YYYY}",
			"{YYYY}/{MM}/{DD}", "{YYYY}.{MM}.{DD}", "{YYYY}{MM}{DD}", "{YYYY}-{MM}-{DD}"},
	},
}

// dateFormat is one (language, template) pair.
type dateFormat struct {
	lang     *dateLang
	template string
}

var dateFormats = func() []dateFormat {
	var fs []dateFormat
	for i := range dateLangs {
		for _, f := range dateLangs[i].formats {
			fs = append(fs, dateFormat{lang: &dateLangs[i], template: f})
		}
	}
	return fs
}()

// The demo's dates lie in [dateFirst, dateFirst + dateDays).
var (
	dateFirst = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)
	dateDays  = int(time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC).Sub(dateFirst).Hours() / 24)
)

// randomDate draws a date uniformly from 1900-2099, a format uniformly, and a
// letter case (as written, capitalised words, or upper case).
func randomDate(rng *rand.Rand) datePair {
	d := dateFirst.AddDate(0, 0, rng.IntN(dateDays))
	f := dateFormats[rng.IntN(len(dateFormats))]
	return datePair{src: formatDate(d, f, rng.IntN(3)), tgt: d.Format("2006-01-02")}
}

// formatDate writes d in format f with letter case c (0 as written, 1 capitalised
// words, 2 upper case).
func formatDate(d time.Time, f dateFormat, c int) string {
	day, month := d.Day(), int(d.Month())
	l := f.lang
	r := strings.NewReplacer(
		"{DD}", fmt.Sprintf("%02d", day),
		"{D1}", frenchDay(day),
		"{D}", strconv.Itoa(day),
		"{ORD}", englishOrdinal(day),
		"{MM}", fmt.Sprintf("%02d", month),
		"{MONTH}", l.months[month-1],
		"{MON}", l.abbr[month-1],
		"{M}", strconv.Itoa(month),
		"{WD}", l.weekdays[d.Weekday()],
		"{YYYY}", fmt.Sprintf("%04d", d.Year()),
	)
	s := r.Replace(f.template)
	switch c {
	case 1:
		return capitalise(s)
	case 2:
		return strings.ToUpper(s)
	}
	return s
}

func frenchDay(d int) string {
	if d == 1 {
		return "1er"
	}
	return strconv.Itoa(d)
}

func englishOrdinal(d int) string {
	suffix := "th"
	if d < 11 || d > 13 {
		switch d % 10 {
		case 1:
			suffix = "st"
		case 2:
			suffix = "nd"
		case 3:
			suffix = "rd"
		}
	}
	return strconv.Itoa(d) + suffix
}

// capitalise upper-cases the first letter of every word.
func capitalise(s string) string {
	var b strings.Builder
	start := true
	for _, r := range s {
		if start && unicode.IsLetter(r) {
			r = unicode.ToUpper(r)
		}
		start = r == ' '
		b.WriteRune(r)
	}
	return b.String()
}

// dateAlphabet returns every character the generator can write, sorted, and the
// longest source in characters, by writing every day of a leap year in every
// format and case (years add only digits).
func dateAlphabet() (string, int) {
	seen := map[rune]bool{}
	longest := 0
	for d := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC); d.Year() == 2024; d = d.AddDate(0, 0, 1) {
		for _, f := range dateFormats {
			for c := 0; c < 3; c++ {
				s := formatDate(d, f, c)
				longest = max(longest, utf8.RuneCountInString(s))
				for _, r := range s {
					seen[r] = true
				}
			}
		}
	}
	rs := make([]rune, 0, len(seen))
	for r := range seen {
		rs = append(rs, r)
	}
	sort.Slice(rs, func(i, j int) bool { return rs[i] < rs[j] })
	return string(rs), longest
}
