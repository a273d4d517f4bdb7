package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/datasets"
	"github.com/triadml/triad/datasets/audio"
	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/losses"
	"github.com/triadml/triad/metrics"
	"github.com/triadml/triad/models/rnn"
	"github.com/triadml/triad/solvers"
	"github.com/triadml/triad/train"
)

func init() {
	register("ctc", "spoken digit sequences (Free Spoken Digit Dataset) with a bidirectional RNN and CTC", ctcMain)
}

// ctcSampleRate is the sample rate of the Free Spoken Digit Dataset.
const ctcSampleRate = 8000

// ctcClasses are the CTC classes: 0 the blank, d+1 the digit d.
const ctcClasses = 11

// ctcConfig holds the hyperparameters of `triad ctc`. Utterances join 1 to 7
// recordings of one speaker with short silences; training utterances are drawn
// afresh for every step from the training takes, test utterances once, with
// their own seed, from the test takes (0-4).
type ctcConfig struct {
	train.Common
	Cell           string  `json:"cell" help:"lstm or gru"`
	Layers         int     `json:"layers" help:"bidirectional recurrent layers"`
	Hidden         int     `json:"hidden" help:"hidden units per direction"`
	Dropout        float64 `json:"dropout" help:"dropout between recurrent layers"`
	Mels           int     `json:"mels" help:"log-mel filters of the 25 ms frames, 10 ms apart (HTK mel scale, Hann window)"`
	Stack          int     `json:"stack" help:"10 ms frames stacked into one input frame, which also subsamples by this factor"`
	MinDigits      int     `json:"min_digits" help:"fewest digits of an utterance"`
	MaxDigits      int     `json:"max_digits" help:"most digits of an utterance"`
	GapMinMs       float64 `json:"gap_min_ms" help:"shortest silence between two digits, in ms"`
	GapMaxMs       float64 `json:"gap_max_ms" help:"longest silence between two digits, in ms"`
	EdgeMaxMs      float64 `json:"edge_max_ms" help:"longest silence before the first and after the last digit, in ms"`
	SilenceNoise   float64 `json:"silence_noise" help:"standard deviation of the Gaussian noise filling the silences (0: digital silence)"`
	Pad            string  `json:"pad" help:"padding of shorter utterances in a batch: silence (more signal, read by the loss) or mask (masked recurrent steps: slower graphs)"`
	Buckets        string  `json:"buckets" help:"padded lengths of the batch shapes, in input frames, comma-separated; longer utterances are redrawn"`
	Batch          int     `json:"batch" help:"utterances per training step"`
	StepsPerEpoch  int     `json:"steps_per_epoch" help:"training steps per epoch (the utterances of every step are new)"`
	LR             float64 `json:"lr" help:"peak Adam learning rate"`
	MinLR          float64 `json:"min_lr" help:"learning rate at the end of the cosine schedule"`
	Warmup         int     `json:"warmup" help:"linear warm-up steps"`
	ClipNorm       float64 `json:"clip_norm" help:"clip the global gradient norm (0: off)"`
	TestUtterances int     `json:"test_utterances" help:"test utterances, built from the test takes"`
	TestSeed       uint64  `json:"test_seed" help:"seed of the test utterances (independent of --seed)"`
	EvalBatch      int     `json:"eval_batch" help:"utterances per evaluation batch"`
	Beam           int     `json:"beam" help:"prefix beam search width of test_der (1: greedy decoding)"`
}

func defaultCTCConfig() ctcConfig {
	return ctcConfig{
		Common: train.Common{Seed: 1, Epochs: 10, LogEvery: 25},
		Cell:   "gru", Layers: 2, Hidden: 128, Mels: 40, Stack: 6,
		MinDigits: 1, MaxDigits: 7, GapMinMs: 50, GapMaxMs: 200, EdgeMaxMs: 100, SilenceNoise: 1e-3,
		Pad: "silence", Buckets: "20,40,60,80,100", Batch: 32, StepsPerEpoch: 100,
		LR: 3e-3, MinLR: 1e-4, Warmup: 100, ClipNorm: 5,
		TestUtterances: 500, TestSeed: 1, EvalBatch: 50, Beam: 8,
	}
}

// validate checks the settings that do not depend on the data.
func (c *ctcConfig) validate() error {
	switch {
	case c.Cell != "lstm" && c.Cell != "gru":
		return errors.Errorf("cell %q: want lstm or gru", c.Cell)
	case c.Layers < 1 || c.Hidden < 1 || c.Mels < 1 || c.Stack < 1:
		return errors.New("layers, hidden, mels and stack must be positive")
	case c.MinDigits < 1 || c.MaxDigits < c.MinDigits:
		return errors.Errorf("digits from %d to %d: want 1 <= min_digits <= max_digits", c.MinDigits, c.MaxDigits)
	case c.GapMinMs < 0 || c.GapMaxMs < c.GapMinMs || c.EdgeMaxMs < 0 || c.SilenceNoise < 0:
		return errors.New("silences: want 0 <= gap_min_ms <= gap_max_ms, edge_max_ms >= 0 and silence_noise >= 0")
	case c.Batch < 1 || c.EvalBatch < 1 || c.StepsPerEpoch < 1 || c.TestUtterances < 1:
		return errors.New("batch, eval_batch, steps_per_epoch and test_utterances must be positive")
	case c.LR <= 0 || c.MinLR < 0 || c.MinLR > c.LR || c.Warmup < 0:
		return errors.New("learning rates: want 0 <= min_lr <= lr, lr > 0 and warmup >= 0")
	case c.Pad != "silence" && c.Pad != "mask":
		return errors.Errorf("pad %q: want silence or mask", c.Pad)
	case c.Beam < 1:
		return errors.Errorf("beam %d: want at least 1", c.Beam)
	}
	_, err := c.bucketSizes()
	return err
}

// bucketSizes parses Buckets into increasing lengths.
func (c *ctcConfig) bucketSizes() ([]int, error) {
	var out []int
	for _, f := range strings.Split(c.Buckets, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, errors.Errorf("buckets %q: %q is not a positive length", c.Buckets, f)
		}
		out = append(out, n)
	}
	sort.Ints(out)
	return slices.Compact(out), nil
}

func ctcMain(args []string) error {
	cfg := defaultCTCConfig()
	if err := parseFlags("ctc", &cfg, &cfg.Common, args); err != nil {
		return err
	}
	if err := cfg.validate(); err != nil {
		return usage(err)
	}
	dir, err := runDir("ctc", &cfg.Common)
	if err != nil {
		return err
	}
	data, err := datasets.Find("fsdd")
	if err != nil {
		return usage(err)
	}
	corpus, err := loadDigitCorpus(data)
	if err != nil {
		return usage(err)
	}
	task, err := newCTCTask(cfg, corpus)
	if err != nil {
		return err
	}
	if err := train.WriteConfig(dir, cfg, train.CurrentEnv(cfg.Threads, os.Args)); err != nil {
		return err
	}
	utts, digits := task.testCount()
	fmt.Fprintf(os.Stderr, "ctc: bidirectional %s %dx%d, %d parameters, %d speakers, %d training / %d test recordings, %d test utterances (%d digits), buckets %v, run %s\n",
		cfg.Cell, cfg.Layers, cfg.Hidden, task.store.Count(), len(corpus.speakers), corpus.count("train"), corpus.count("test"),
		utts, digits, task.buckets, dir)
	ctx, stop := interruptible()
	defer stop()
	sum, err := task.loop(dir).Run(ctx)
	if err != nil {
		return finish(err)
	}
	fmt.Fprintf(os.Stderr, "ctc: test digit error rate %.4f (greedy %.4f), sequence accuracy %.4f after %d steps, %.0f s, %d threads\n",
		sum.Final["test_der"], sum.Final["test_der_greedy"], sum.Final["test_seq_acc"], sum.Steps, sum.Seconds, sum.Threads)
	return nil
}

// loop returns the training loop of the task.
func (t *ctcTask) loop(dir string) *train.Loop {
	total := t.cfg.Epochs * t.cfg.StepsPerEpoch
	if t.cfg.MaxSteps > 0 && (total == 0 || t.cfg.MaxSteps < total) {
		total = t.cfg.MaxSteps
	}
	warm := min(t.cfg.Warmup, max(total-1, 0))
	var sched solvers.Schedule = solvers.WarmupCosine{Base: t.cfg.LR, Min: t.cfg.MinLR, Warmup: warm, Total: max(total, warm+1)}
	return &train.Loop{
		Dir: dir, Common: t.cfg.Common, Store: t.store, Solver: t.solver, Schedule: sched,
		ClipNorm: t.cfg.ClipNorm, Task: t, Best: "test_der", ItemName: "utterances",
	}
}

// digitClip is one recording: its digit and samples.
type digitClip struct {
	digit   int
	samples []float32
}

// digitCorpus holds the recordings of each split by speaker.
type digitCorpus struct {
	speakers []string                          // sorted
	clips    map[string]map[string][]digitClip // split -> speaker -> clips, in metadata order
}

func (c *digitCorpus) count(split string) int {
	n := 0
	for _, cs := range c.clips[split] {
		n += len(cs)
	}
	return n
}

// loadDigitCorpus reads every recording of the FSDD copy in dir. A recording
// that is not a readable WAV file, or not at 8 kHz, is an error naming it.
func loadDigitCorpus(dir string) (*digitCorpus, error) {
	recs, err := datasets.LoadFSDD(dir)
	if err != nil {
		return nil, err
	}
	c := &digitCorpus{clips: map[string]map[string][]digitClip{"train": {}, "test": {}}}
	seen := map[string]bool{}
	for _, r := range recs {
		s, rate, err := r.Samples()
		if err != nil {
			return nil, errors.Wrap(err, "fsdd")
		}
		if rate != ctcSampleRate {
			return nil, errors.Errorf("fsdd: %s: sample rate %d Hz, want %d Hz", r.Path, rate, ctcSampleRate)
		}
		if len(s) == 0 {
			return nil, errors.Errorf("fsdd: %s: no samples", r.Path)
		}
		c.clips[r.Split][r.Speaker] = append(c.clips[r.Split][r.Speaker], digitClip{digit: r.Digit, samples: s})
		if !seen[r.Speaker] {
			seen[r.Speaker] = true
			c.speakers = append(c.speakers, r.Speaker)
		}
	}
	sort.Strings(c.speakers)
	return c, nil
}

// rawUtterance is a generated digit sequence as a waveform.
type rawUtterance struct {
	digits []int
	wave   []float64
}

// utterance is a digit sequence as the network reads it: normalised, stacked
// log-mel frames, of which the first real ones belong to the utterance (the
// others are padding silence).
type utterance struct {
	digits []int
	feats  *audio.Features
	real   int
}

// uttGen builds utterances.
type uttGen struct {
	cfg    ctcConfig
	corpus *digitCorpus
	ext    *audio.Extractor
}

func newUttGen(cfg ctcConfig, corpus *digitCorpus) (*uttGen, error) {
	ext, err := audio.NewExtractor(audio.Config{SampleRate: ctcSampleRate, Mels: cfg.Mels})
	if err != nil {
		return nil, err
	}
	return &uttGen{cfg: cfg, corpus: corpus, ext: ext}, nil
}

// inputDim returns the size of an input frame.
func (g *uttGen) inputDim() int { return g.cfg.Mels * g.cfg.Stack }

// frames returns the number of input frames of n samples.
func (g *uttGen) frames(n int) int {
	return (g.ext.NumFrames(n) + g.cfg.Stack - 1) / g.cfg.Stack
}

// silence appends n samples of silence (noise of the configured level).
func (g *uttGen) silence(dst []float64, rng *rand.Rand, n int) []float64 {
	dst = slices.Grow(dst, n)
	for range n {
		dst = append(dst, g.cfg.SilenceNoise*rng.NormFloat64())
	}
	return dst
}

// msSamples draws a duration uniformly in [lo, hi] ms, as samples.
func msSamples(rng *rand.Rand, lo, hi float64) int {
	return int(math.Round((lo + (hi-lo)*rng.Float64()) * ctcSampleRate / 1000))
}

// draw joins n recordings of one speaker, drawn uniformly among the speakers
// with recordings in split, each recording drawn uniformly among the
// speaker's (so digits are nearly uniform), with silences of gap_min_ms to
// gap_max_ms between them and up to edge_max_ms before and after.
func (g *uttGen) draw(rng *rand.Rand, split string, n int) (rawUtterance, error) {
	var speakers []string
	for _, s := range g.corpus.speakers {
		if len(g.corpus.clips[split][s]) > 0 {
			speakers = append(speakers, s)
		}
	}
	if len(speakers) == 0 {
		return rawUtterance{}, errors.Errorf("ctc: no %s recordings", split)
	}
	clips := g.corpus.clips[split][speakers[rng.IntN(len(speakers))]]
	// the layout first: silences (n+1, the first and last at the edges) and clips
	u := rawUtterance{digits: make([]int, n)}
	chosen := make([]digitClip, n)
	gaps := make([]int, n+1)
	total := 0
	for i := range gaps {
		if i == 0 || i == n {
			gaps[i] = msSamples(rng, 0, g.cfg.EdgeMaxMs)
		} else {
			gaps[i] = msSamples(rng, g.cfg.GapMinMs, g.cfg.GapMaxMs)
		}
		total += gaps[i]
		if i < n {
			chosen[i] = clips[rng.IntN(len(clips))]
			u.digits[i] = chosen[i].digit
			total += len(chosen[i].samples)
		}
	}
	x := make([]float64, 0, total)
	for i, c := range chosen {
		x = g.silence(x, rng, gaps[i])
		for _, v := range c.samples {
			x = append(x, float64(v))
		}
	}
	u.wave = g.silence(x, rng, gaps[n])
	return u, nil
}

// drawFitting draws utterances until one fits maxFrames input frames.
func (g *uttGen) drawFitting(rng *rand.Rand, split string, n, maxFrames int) (rawUtterance, error) {
	for range 100 {
		u, err := g.draw(rng, split, n)
		if err != nil {
			return u, err
		}
		if g.frames(len(u.wave)) <= maxFrames {
			return u, nil
		}
	}
	return rawUtterance{}, errors.Errorf("ctc: 100 utterances of %d digits in a row exceed %d frames: raise the largest bucket", n, maxFrames)
}

// features computes the input frames of u. With padTo > 0 the waveform is
// first extended with silence (from rng) to exactly padTo input frames; the
// normalisation statistics are those of the utterance's own frames.
func (g *uttGen) features(u rawUtterance, padTo int, rng *rand.Rand) (utterance, error) {
	wave := u.wave
	real := g.frames(len(wave))
	own := g.ext.NumFrames(len(wave))
	if padTo > 0 {
		if real > padTo {
			return utterance{}, errors.Errorf("ctc: utterance of %d frames padded to %d", real, padTo)
		}
		// padTo*stack frames of 10 ms span frameLen + (padTo*stack-1)*hop
		// samples; up to hop-1 samples past them belong to no frame
		want := g.ext.FrameLength() + (padTo*g.cfg.Stack-1)*g.ext.Hop()
		if len(wave) >= want {
			wave = wave[:want]
		} else {
			wave = g.silence(slices.Clip(wave), rng, want-len(wave))
		}
	}
	f := g.ext.LogMel(wave)
	f.NormalizeBy(own)
	st, err := f.Stack(g.cfg.Stack, g.cfg.Stack)
	if err != nil {
		return utterance{}, err
	}
	if padTo > 0 {
		st.Frames = padTo
		st.Data = st.Data[:padTo*st.Dim]
	}
	return utterance{digits: u.digits, feats: st, real: real}, nil
}

// ctcModel is a bidirectional recurrent stack with a linear layer to the CTC
// classes.
type ctcModel struct {
	rnn  *rnn.RNN
	head *graph.Linear
}

// ctcProgram is a compiled graph for T input frames and B utterances: inputs
// "x.t" (B, D) and, when masked, "m.t" (B, 1) (1 on real frames, 0 on padding)
// for t < T, "targets" (B, max_digits), "in_len" and "tgt_len" (B); output
// "loss" (training) or "lp" (T, B, classes) and "nll" (B) (evaluation).
type ctcProgram struct {
	*graph.Program
	T, B, S, D int
	masked     bool
	// feed buffers, reused
	x, m    []*tensor.Dense
	targets *tensor.Dense
	inLen   *tensor.Dense
	tgtLen  *tensor.Dense
	lengths []int
}

func (m *ctcModel) build(store *graph.Store, mode graph.Mode, T, B, S, D int, masked bool) (*ctcProgram, error) {
	b := graph.NewBuilder(store, mode)
	xs := make([]*G.Node, T)
	var masks []*G.Node
	for t := range T {
		xs[t] = b.Input("x."+strconv.Itoa(t), tensor.Float32, B, D)
		if masked {
			masks = append(masks, b.Input("m."+strconv.Itoa(t), tensor.Float32, B, 1))
		}
	}
	init := m.rnn.ZeroState(b, "state", B)
	outs, _ := m.rnn.Forward(b, xs, init, masks)
	if b.Err() != nil {
		return nil, b.Err()
	}
	h := outs[0]
	if T > 1 {
		h = b.Check(G.Concat(0, outs...))
	}
	logits := m.head.Forward(b, h) // (T*B, classes), time-major
	logits = b.Check(G.Reshape(logits, tensor.Shape{T, B, ctcClasses}))
	lp := b.Check(graph.LogSoftMax(logits, 2, nil))
	targets := b.Input("targets", tensor.Int, B, S)
	inLen := b.Input("in_len", tensor.Int, B)
	tgtLen := b.Input("tgt_len", tensor.Int, B)
	opt := losses.CTCOptions{Blank: 0, Reduction: losses.Mean}
	if mode == graph.Eval {
		opt.Reduction = losses.None
	}
	loss := b.Check(losses.CTC(lp, targets, inLen, tgtLen, opt))
	var prog *graph.Program
	var err error
	if mode == graph.Train {
		prog, err = b.Compile(loss)
	} else {
		b.Output("lp", lp)
		b.Output("nll", loss)
		prog, err = b.Compile(nil)
	}
	if err != nil {
		return nil, errors.Wrapf(err, "ctc: building the %d-frame graph", T)
	}
	p := &ctcProgram{Program: prog, T: T, B: B, S: S, D: D, masked: masked,
		targets: tensor.New(tensor.WithShape(B, S), tensor.Of(tensor.Int)),
		inLen:   tensor.New(tensor.WithShape(B), tensor.Of(tensor.Int)),
		tgtLen:  tensor.New(tensor.WithShape(B), tensor.Of(tensor.Int)),
		lengths: make([]int, B),
	}
	for range T {
		p.x = append(p.x, graph.NewDense(tensor.Float32, B, D))
		if masked {
			p.m = append(p.m, graph.NewDense(tensor.Float32, B, 1))
		}
	}
	zero := graph.NewDense(tensor.Float32, B, m.rnn.Hidden)
	for k := range m.rnn.States() {
		if err := p.Set(fmt.Sprintf("state.h0.%d", k), zero); err != nil {
			return nil, err
		}
		if m.rnn.Cell == rnn.LSTM {
			if err := p.Set(fmt.Sprintf("state.c0.%d", k), zero); err != nil {
				return nil, err
			}
		}
	}
	return p, nil
}

// feed sets a batch of at most B utterances, each of at most T frames, all of
// which the loss reads (padding silence included when the graph has no masks);
// missing rows are empty (no frames, no digits), and rows are independent, so
// they do not disturb the others.
func (p *ctcProgram) feed(us []utterance) error {
	if len(us) > p.B {
		return errors.Errorf("ctc: %d utterances for a batch of %d", len(us), p.B)
	}
	tg, il, tl := p.targets.Ints(), p.inLen.Ints(), p.tgtLen.Ints()
	clear(tg)
	clear(il)
	clear(tl)
	for t := range p.T {
		clear(graph.Slice[float32](p.x[t]))
		if p.masked {
			clear(graph.Slice[float32](p.m[t]))
		}
	}
	for i, u := range us {
		if u.feats.Frames > p.T || len(u.digits) > p.S || u.feats.Dim != p.D {
			return errors.Errorf("ctc: utterance of %d frames of %d and %d digits for a graph of %d frames of %d and %d digits",
				u.feats.Frames, u.feats.Dim, len(u.digits), p.T, p.D, p.S)
		}
		for t := range u.feats.Frames {
			dst := graph.Slice[float32](p.x[t])[i*p.D : (i+1)*p.D]
			for j, v := range u.feats.Row(t) {
				dst[j] = float32(v)
			}
			if p.masked {
				graph.Slice[float32](p.m[t])[i] = 1
			}
		}
		for j, d := range u.digits {
			tg[i*p.S+j] = d + 1
		}
		il[i], tl[i] = u.feats.Frames, len(u.digits)
	}
	for i := range p.lengths {
		p.lengths[i] = il[i]
	}
	for t := range p.T {
		if err := p.Set("x."+strconv.Itoa(t), p.x[t]); err != nil {
			return err
		}
		if !p.masked {
			continue
		}
		if err := p.Set("m."+strconv.Itoa(t), p.m[t]); err != nil {
			return err
		}
	}
	for name, v := range map[string]*tensor.Dense{"targets": p.targets, "in_len": p.inLen, "tgt_len": p.tgtLen} {
		if err := p.Set(name, v); err != nil {
			return err
		}
	}
	return nil
}

// ctcTask trains on fresh utterances every step and evaluates on a fixed test
// set.
type ctcTask struct {
	cfg     ctcConfig
	gen     *uttGen
	model   *ctcModel
	store   *graph.Store
	solver  solvers.Solver
	buckets []int
	train   map[int]*ctcProgram // by bucket length
	eval    map[int]*ctcProgram
	test    [][]utterance // evaluation batches, by increasing length
	// the batch of the next step, drawn in the background with a generator of
	// its own while the current step runs
	ahead    *uttGen
	next     chan aheadBatch
	nextStep int // the step being drawn ahead, -1 for none
}

// aheadBatch is a batch drawn ahead of its step.
type aheadBatch struct {
	step int
	us   []utterance
	T    int
	err  error
}

func newCTCTask(cfg ctcConfig, corpus *digitCorpus) (*ctcTask, error) {
	gen, err := newUttGen(cfg, corpus)
	if err != nil {
		return nil, err
	}
	store := graph.NewStore(tensor.Float32, graph.NewRNG(cfg.Seed, "init"))
	r, err := rnn.New(store, "rnn", rnn.Config{Cell: rnn.Cell(cfg.Cell), Input: gen.inputDim(), Hidden: cfg.Hidden,
		Layers: cfg.Layers, Dropout: cfg.Dropout, Bidirectional: true})
	if err != nil {
		return nil, usage(err)
	}
	head, err := graph.NewLinear(store, "head", r.OutputSize(), ctcClasses, true)
	if err != nil {
		return nil, err
	}
	adam := solvers.DefaultAdamConfig()
	adam.LR = cfg.LR
	solver, err := solvers.NewAdam(adam)
	if err != nil {
		return nil, usage(err)
	}
	buckets, err := cfg.bucketSizes()
	if err != nil {
		return nil, usage(err)
	}
	ahead, err := newUttGen(cfg, corpus)
	if err != nil {
		return nil, err
	}
	t := &ctcTask{cfg: cfg, gen: gen, model: &ctcModel{rnn: r, head: head}, store: store, solver: solver,
		buckets: buckets, train: map[int]*ctcProgram{}, eval: map[int]*ctcProgram{},
		ahead: ahead, next: make(chan aheadBatch, 1), nextStep: -1}
	if err := t.makeTestSet(); err != nil {
		return nil, err
	}
	return t, nil
}

// masked reports whether padding is masked rather than filled with silence.
func (t *ctcTask) masked() bool { return t.cfg.Pad == "mask" }

// padTo returns the length utterances of a T-frame batch are padded to: T
// when padding is silence, 0 (none) when it is masked.
func (t *ctcTask) padTo(T int) int {
	if t.masked() {
		return 0
	}
	return T
}

// digitCount draws a number of digits uniformly.
func (t *ctcTask) digitCount(rng *rand.Rand) int {
	return t.cfg.MinDigits + rng.IntN(t.cfg.MaxDigits-t.cfg.MinDigits+1)
}

// makeTestSet draws the test utterances from the test takes with TestSeed,
// sorts them by length and cuts them into evaluation batches.
func (t *ctcTask) makeTestSet() error {
	rng := graph.NewRNG(t.cfg.TestSeed, "ctc/test")
	maxT := t.buckets[len(t.buckets)-1]
	raws := make([]rawUtterance, t.cfg.TestUtterances)
	for i := range raws {
		u, err := t.gen.drawFitting(rng, "test", t.digitCount(rng), maxT)
		if err != nil {
			return err
		}
		raws[i] = u
	}
	sort.SliceStable(raws, func(i, j int) bool { return len(raws[i].wave) < len(raws[j].wave) })
	for lo := 0; lo < len(raws); lo += t.cfg.EvalBatch {
		batch := raws[lo:min(lo+t.cfg.EvalBatch, len(raws))]
		T := t.bucket(t.gen.frames(len(batch[len(batch)-1].wave)))
		var us []utterance
		for i, r := range batch {
			u, err := t.gen.features(r, t.padTo(T), graph.NewRNG(t.cfg.TestSeed, "ctc/test/pad/"+strconv.Itoa(lo+i)))
			if err != nil {
				return err
			}
			us = append(us, u)
		}
		t.test = append(t.test, us)
	}
	return nil
}

// testCount returns the number of test utterances and of their digits.
func (t *ctcTask) testCount() (utts, digits int) {
	for _, batch := range t.test {
		for _, u := range batch {
			utts++
			digits += len(u.digits)
		}
	}
	return utts, digits
}

// bucket returns the smallest bucket that holds frames.
func (t *ctcTask) bucket(frames int) int {
	for _, b := range t.buckets {
		if frames <= b {
			return b
		}
	}
	return t.buckets[len(t.buckets)-1]
}

func (t *ctcTask) program(mode graph.Mode, T, B int) (*ctcProgram, error) {
	cache := t.train
	if mode == graph.Eval {
		cache = t.eval
	}
	if p, ok := cache[T]; ok {
		return p, nil
	}
	p, err := t.model.build(t.store, mode, T, B, t.cfg.MaxDigits, t.gen.inputDim(), t.masked())
	if err != nil {
		return nil, err
	}
	cache[T] = p
	return p, nil
}

func (t *ctcTask) StepsPerEpoch() int { return t.cfg.StepsPerEpoch }

// trainBatch returns the utterances of a step and their bucket: a function of
// the seed and the step only. The step draws one digit count, uniformly, for
// all its utterances, so that they have similar lengths and share a bucket
// with little padding; digit counts are uniform over the steps.
func (t *ctcTask) trainBatch(gen *uttGen, step int) ([]utterance, int, error) {
	rng := graph.NewRNG(t.cfg.Seed, "ctc/train/"+strconv.Itoa(step))
	n := t.digitCount(rng)
	maxT := t.buckets[len(t.buckets)-1]
	raws := make([]rawUtterance, t.cfg.Batch)
	longest := 0
	for i := range raws {
		u, err := gen.drawFitting(rng, "train", n, maxT)
		if err != nil {
			return nil, 0, err
		}
		raws[i] = u
		longest = max(longest, gen.frames(len(u.wave)))
	}
	T := t.bucket(longest)
	us := make([]utterance, len(raws))
	for i, r := range raws {
		u, err := gen.features(r, t.padTo(T), rng)
		if err != nil {
			return nil, 0, err
		}
		us[i] = u
	}
	return us, T, nil
}

// batch returns the batch of step, drawn ahead if it was, and starts drawing
// the next one. The result is the same either way.
func (t *ctcTask) batch(step int) ([]utterance, int, error) {
	var b aheadBatch
	found := false
	if t.nextStep >= 0 {
		b = <-t.next
		t.nextStep = -1
		found = b.step == step
	}
	if !found {
		b.us, b.T, b.err = t.trainBatch(t.gen, step)
	}
	t.nextStep = step + 1
	go func(s int) {
		us, T, err := t.trainBatch(t.ahead, s)
		t.next <- aheadBatch{step: s, us: us, T: T, err: err}
	}(step + 1)
	return b.us, b.T, b.err
}

func (t *ctcTask) TrainStep(step int, noise *rand.Rand) (train.Result, error) {
	us, T, err := t.batch(step)
	if err != nil {
		return train.Result{}, err
	}
	p, err := t.program(graph.Train, T, t.cfg.Batch)
	if err != nil {
		return train.Result{}, err
	}
	if err := p.feed(us); err != nil {
		return train.Result{}, err
	}
	p.SetNoise(noise)
	if err := p.Run(); err != nil {
		return train.Result{}, err
	}
	return train.Result{Loss: p.Loss(), Items: len(us)}, nil
}

// Evaluate decodes the test utterances and returns the digit error rate (edit
// distance over reference digits) of beam search (test_der) and of greedy
// decoding (test_der_greedy), its substitutions, deletions and insertions per
// reference digit (test_sub, test_del, test_ins), the fraction of utterances
// decoded exactly (test_seq_acc, with beam search) and the mean CTC loss per
// digit (test_loss, PyTorch's "mean" over the test set).
func (t *ctcTask) Evaluate() (map[string]float64, error) {
	var refs, greedy, beam [][]int
	var loss float64
	for _, us := range t.test {
		T := 0
		for _, u := range us {
			T = max(T, u.feats.Frames)
		}
		p, err := t.program(graph.Eval, t.bucket(T), t.cfg.EvalBatch)
		if err != nil {
			return nil, err
		}
		if err := p.feed(us); err != nil {
			return nil, err
		}
		if err := p.Run(); err != nil {
			return nil, err
		}
		lp, err := p.Output("lp")
		if err != nil {
			return nil, err
		}
		nll, err := p.Output("nll")
		if err != nil {
			return nil, err
		}
		g, err := losses.CTCDecodeBatch(lp, p.lengths, 0, 1)
		if err != nil {
			return nil, err
		}
		bs := g
		if t.cfg.Beam > 1 {
			if bs, err = losses.CTCDecodeBatch(lp, p.lengths, 0, t.cfg.Beam); err != nil {
				return nil, err
			}
		}
		per := graph.Float64s(nll)
		for i, u := range us {
			refs = append(refs, u.digits)
			greedy = append(greedy, classesToDigits(g[i]))
			beam = append(beam, classesToDigits(bs[i]))
			loss += per[i] / float64(len(u.digits))
		}
	}
	der, al, err := metrics.ErrorRate(refs, beam)
	if err != nil {
		return nil, err
	}
	derGreedy, _, err := metrics.ErrorRate(refs, greedy)
	if err != nil {
		return nil, err
	}
	exact := 0
	for i := range refs {
		if slices.Equal(refs[i], beam[i]) {
			exact++
		}
	}
	return map[string]float64{
		"test_der":        der,
		"test_der_greedy": derGreedy,
		"test_seq_acc":    float64(exact) / float64(len(refs)),
		"test_loss":       loss / float64(len(refs)),
		"test_sub":        float64(al.Substitutions) / float64(al.RefLen()),
		"test_del":        float64(al.Deletions) / float64(al.RefLen()),
		"test_ins":        float64(al.Insertions) / float64(al.RefLen()),
	}, nil
}

// classesToDigits maps CTC classes (1-10) to digits.
func classesToDigits(cs []int) []int {
	out := make([]int, len(cs))
	for i, c := range cs {
		out[i] = c - 1
	}
	return out
}
