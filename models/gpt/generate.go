package gpt

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/models/attention"
	"github.com/triadml/triad/models/decode"
)

// Generator continues prompts with a trained model, keeping every layer's keys
// and values in a cache sized to the block, so that each new token costs one
// position of computation instead of the whole sequence.
//
// Gorgonia graphs have static shapes, so the cache cannot grow inside a graph,
// and as a graph input and output it would be copied in and out whole on every
// step (75 MB per token for GPT-2 small at 1024 positions) since Gorgonia has no
// in-place update of an input. The cache is therefore kept outside the graph,
// one attention.KVCache per layer, read by the layers' attention nodes
// (attention.CachedAttention): a program for S new positions per row takes the
// token ids, their positions and the first new column as inputs; the nodes
// write the new keys and values into the cache at that column and attend over
// the filled part. The shapes do not depend on the column, so one
// program (S = 1) serves every step and one per prompt length processes a
// prompt in one pass. Programs are compiled on first use and share the store's
// weights.
//
// Prompts of unequal length are left-padded: row b's real tokens start at
// column start_b, its keys left of it are masked and its positions count from
// there, so a row computes what it would alone. A Generator is not safe for
// concurrent use.
type Generator struct {
	Model *Model
	Store *graph.Store

	rows   int
	caches []*attention.KVCache
	progs  *graph.Programs[int, graph.SaltedProgram]
	start  []int // first real column of each row
	col    int   // the next free column
	logits [][]float64
}

// NewGenerator returns a generator over the model's weights in s.
func (m *Model) NewGenerator(s *graph.Store) *Generator {
	g := &Generator{Model: m, Store: s}
	g.progs = graph.NewPrograms(g.compile)
	return g
}

// Close releases the compiled programs and the cache.
func (g *Generator) Close() error {
	g.caches, g.rows = nil, 0
	return g.progs.Reset()
}

// compile builds the program that feeds s new positions of every row.
func (g *Generator) compile(s int) (graph.SaltedProgram, error) {
	m, rows := g.Model, g.rows
	p, err := graph.CompileSalted(func(b graph.SaltedBuilder) (*graph.Program, error) {
		b.Builder = graph.NewBuilder(g.Store, graph.Eval)
		idx := b.In("idx", tensor.Int, rows, s)
		pos := b.In("pos", tensor.Int, rows, s)
		col := b.In("col", tensor.Int, 1)
		start := b.In("start", tensor.Int, rows)
		last := b.In("last", tensor.Int, rows)
		core := func(layer int, qkv *G.Node) *G.Node {
			if qkv == nil {
				return nil
			}
			return b.Check(graph.Apply(attention.CachedAttention{Cache: g.caches[layer]}, qkv, col, start))
		}
		x := graph.Pick(b.Builder, m.hidden(b.Builder, idx, pos, core), last)
		b.Output("logits", m.logits(b.Builder, x))
		return b.Compile(nil)
	})
	if err != nil {
		return p, errors.Wrap(err, "gpt generator")
	}
	last := make([]int, rows)
	for i := range last {
		last[i] = s - 1
	}
	return p, p.SetInput("last", graph.FromInts(last, rows))
}

// Start resets the cache and runs the prompts (one row each) in one pass: a
// batch of prompts of equal length, or of unequal lengths, left-padded. It
// returns the logits of the token after each prompt, (rows, VocabSize); they
// belong to the generator and are overwritten by the next call.
func (g *Generator) Start(prompts [][]int) ([][]float64, error) {
	cfg := g.Model.Config
	if len(prompts) == 0 {
		return nil, errors.New("gpt generator: no prompts")
	}
	longest := 0
	for i, p := range prompts {
		if len(p) == 0 {
			return nil, errors.Errorf("gpt generator: prompt %d is empty", i)
		}
		longest = max(longest, len(p))
	}
	if longest > cfg.BlockSize {
		return nil, errors.Errorf("gpt generator: a prompt of %d tokens exceeds the block of %d", longest, cfg.BlockSize)
	}
	if len(prompts) != g.rows {
		if err := g.progs.Reset(); err != nil {
			return nil, err
		}
		g.rows = len(prompts)
		g.caches = make([]*attention.KVCache, cfg.Layers)
		for i := range g.caches {
			g.caches[i] = attention.NewKVCache(g.Store.Dtype(), g.rows, cfg.Heads, cfg.BlockSize, cfg.Embed/cfg.Heads)
		}
	}
	g.start = make([]int, g.rows)
	ids := make([][]int, g.rows)
	for r, p := range prompts {
		g.start[r] = longest - len(p)
		ids[r] = append(make([]int, g.start[r]), p...) // padding: id 0, masked
	}
	g.col = 0
	return g.feed(ids)
}

// Next feeds one token per row at the next position and returns the logits of
// the token after it, as Start does.
func (g *Generator) Next(tokens []int) ([][]float64, error) {
	if g.rows == 0 {
		return nil, errors.New("gpt generator: Next before Start")
	}
	if len(tokens) != g.rows {
		return nil, errors.Errorf("gpt generator: %d tokens for %d rows", len(tokens), g.rows)
	}
	ids := make([][]int, g.rows)
	for r, t := range tokens {
		ids[r] = []int{t}
	}
	return g.feed(ids)
}

// Len returns the number of columns filled so far (the longest prompt plus the
// tokens fed since).
func (g *Generator) Len() int { return g.col }

// feed runs the rows of ids (equal lengths) at the next columns.
func (g *Generator) feed(ids [][]int) ([][]float64, error) {
	cfg := g.Model.Config
	s := len(ids[0])
	if g.col+s > cfg.BlockSize {
		return nil, errors.Errorf("gpt generator: %d positions exceed the block of %d", g.col+s, cfg.BlockSize)
	}
	flat, pos := make([]int, 0, g.rows*s), make([]int, 0, g.rows*s)
	for r, row := range ids {
		for i, id := range row {
			if id < 0 || id >= cfg.VocabSize {
				return nil, errors.Errorf("gpt generator: token %d of row %d outside [0, %d)", id, r, cfg.VocabSize)
			}
			flat = append(flat, id)
			pos = append(pos, max(g.col+i-g.start[r], 0))
		}
	}
	p, err := g.progs.Get(s)
	if err != nil {
		return nil, err
	}
	if err := p.SetInputs(map[string]*tensor.Dense{
		"idx":   graph.FromInts(flat, g.rows, s),
		"pos":   graph.FromInts(pos, g.rows, s),
		"col":   graph.FromInts([]int{g.col}, 1),
		"start": graph.FromInts(g.start, g.rows),
	}); err != nil {
		return nil, err
	}
	if err := p.Run(); err != nil {
		return nil, errors.Wrap(err, "gpt generator")
	}
	g.col += s
	out, err := p.Output("logits")
	if err != nil {
		return nil, err
	}
	g.logits = graph.Rows(out)
	return g.logits, nil
}

// Options are the settings of Generate.
type Options struct {
	// MaxNewTokens is the most tokens generated per row; 0 sets no limit but
	// the block's (generation stops when the sequences fill it).
	MaxNewTokens int
	// Temperature divides the logits before sampling; 0 takes the most probable
	// token (greedy decoding, the first one on ties) and ignores TopK and TopP.
	Temperature float64
	// TopK, when positive, samples among the K most probable tokens only.
	TopK int
	// TopP, in (0, 1), samples among the smallest set of most probable tokens
	// whose probabilities add up to at least TopP (nucleus sampling, Holtzman et
	// al. 2020); 0 or 1 keeps every token. It applies after TopK.
	TopP float64
	// Seed chooses the sampling streams: row r draws from graph.NewRNG(Seed,
	// "sample/r"), so a row's tokens depend neither on the other rows nor on the
	// batch's size.
	Seed uint64
	// EndTokens end a row when generated (the end-of-text token); they are not
	// part of its output.
	EndTokens []int
	// StopStrings end a row as soon as the text of its output contains one of
	// them; Decode turns tokens into text and must be set with them. The output
	// keeps the tokens up to the one that completes the stop string.
	StopStrings []string
	Decode      func(tokens []int) string
	// Stream, when set, is called with every token as it is generated, in row
	// order at each step (not with end tokens).
	Stream func(row, token int)
}

// Validate reports options that cannot be used.
func (o Options) Validate() error {
	switch {
	case o.MaxNewTokens < 0:
		return errors.Errorf("gpt: %d new tokens", o.MaxNewTokens)
	case !(o.Temperature >= 0) || math.IsInf(o.Temperature, 1):
		return errors.Errorf("gpt: temperature %g", o.Temperature)
	case o.TopK < 0:
		return errors.Errorf("gpt: top-k %d", o.TopK)
	case !(o.TopP >= 0 && o.TopP <= 1):
		return errors.Errorf("gpt: top-p %g outside [0, 1]", o.TopP)
	case len(o.StopStrings) > 0 && o.Decode == nil:
		return errors.New("gpt: stop strings need a Decode function")
	}
	return nil
}

// StopReason says why a row stopped.
type StopReason int

const (
	// StopLength: MaxNewTokens were generated.
	StopLength StopReason = iota
	// StopEndToken: an end token was generated.
	StopEndToken
	// StopString: the output's text contains a stop string.
	StopString
	// StopBlock: the sequence filled the block.
	StopBlock
)

// stopNames are the reasons' names, by value.
var stopNames = [...]string{StopLength: "length", StopEndToken: "end token", StopString: "stop string", StopBlock: "block"}

// String names the reason.
func (r StopReason) String() string {
	if r >= 0 && int(r) < len(stopNames) {
		return stopNames[r]
	}
	return fmt.Sprintf("StopReason(%d)", int(r))
}

// Generation is the continuation of one prompt.
type Generation struct {
	Tokens []int // the new tokens, without the end token
	Reason StopReason
}

// Generate continues each prompt (see Start) token by token until every row has
// stopped (Options). It returns one Generation per prompt.
func (g *Generator) Generate(prompts [][]int, opt Options) ([]Generation, error) {
	if err := opt.Validate(); err != nil {
		return nil, err
	}
	logits, err := g.Start(prompts)
	if err != nil {
		return nil, err
	}
	out := make([]Generation, len(prompts))
	done := make([]bool, len(prompts))
	rngs := make([]*rand.Rand, len(prompts))
	for r := range rngs {
		rngs[r] = graph.NewRNG(opt.Seed, fmt.Sprintf("sample/%d", r))
	}
	smp := newSampler(opt)
	next := make([]int, len(prompts))
	left := len(prompts)
	limit := opt.MaxNewTokens
	if limit == 0 {
		limit = math.MaxInt
	}
	for step := 0; ; step++ {
		for r := range prompts {
			if done[r] {
				continue // keeps feeding its last token; its outputs are not read
			}
			tok := smp.pick(logits[r], rngs[r])
			next[r] = tok
			stop := func(why StopReason) { out[r].Reason, done[r] = why, true; left-- }
			if slices.Contains(opt.EndTokens, tok) {
				stop(StopEndToken)
				continue
			}
			out[r].Tokens = append(out[r].Tokens, tok)
			if opt.Stream != nil {
				opt.Stream(r, tok)
			}
			if len(opt.StopStrings) > 0 && containsAny(opt.Decode(out[r].Tokens), opt.StopStrings) {
				stop(StopString)
			}
		}
		if left == 0 || step+1 == limit {
			return out, nil
		}
		if g.col == g.Model.Config.BlockSize {
			for r := range done {
				if !done[r] {
					out[r].Reason = StopBlock
				}
			}
			return out, nil
		}
		if logits, err = g.Next(next); err != nil {
			return nil, err
		}
	}
}

func containsAny(text string, subs []string) bool {
	for _, s := range subs {
		if strings.Contains(text, s) {
			return true
		}
	}
	return false
}

// sampler picks a token from a row of logits under the options' temperature,
// top-k and top-p, reusing its buffers from call to call.
type sampler struct {
	temp  float64
	topK  int
	topP  float64
	probs []float64
	order []int
}

func newSampler(o Options) *sampler {
	return &sampler{temp: o.Temperature, topK: o.TopK, topP: o.TopP}
}

// pick returns the greedy token (temperature 0) or one drawn with one uniform
// from rng.
func (s *sampler) pick(logits []float64, rng *rand.Rand) int {
	if s.temp == 0 {
		return decode.Argmax(logits)
	}
	n := len(logits)
	s.order = s.order[:0]
	for i := range n {
		s.order = append(s.order, i)
	}
	// the candidates, most probable first where a cut needs the order
	cand := s.order
	if s.topK > 0 && s.topK < n {
		cand = topK(cand, logits, s.topK)
	}
	if s.topP > 0 && s.topP < 1 {
		sort.SliceStable(cand, func(a, b int) bool { return logits[cand[a]] > logits[cand[b]] })
	}
	// softmax over the candidates, at the temperature
	m := math.Inf(-1)
	for _, i := range cand {
		m = max(m, logits[i])
	}
	s.probs = s.probs[:0]
	var sum float64
	for _, i := range cand {
		p := math.Exp((logits[i] - m) / s.temp)
		s.probs = append(s.probs, p)
		sum += p
	}
	if s.topP > 0 && s.topP < 1 {
		// keep the smallest prefix whose probability reaches topP
		var c float64
		for j, p := range s.probs {
			c += p / sum
			if c >= s.topP {
				cand, s.probs = cand[:j+1], s.probs[:j+1]
				break
			}
		}
		sum = 0
		for _, p := range s.probs {
			sum += p
		}
	}
	u := rng.Float64() * sum
	for j, p := range s.probs {
		u -= p
		if u < 0 {
			return cand[j]
		}
	}
	return cand[len(cand)-1]
}

// topK moves the k largest logits' indices of ids to its front, in decreasing
// order (ties: the lower index first), and returns them.
func topK(ids []int, logits []float64, k int) []int {
	better := func(a, b int) bool {
		return logits[a] > logits[b] || (logits[a] == logits[b] && a < b)
	}
	// a sorted insertion into k slots: O(n k) at worst, O(n) for the usual
	// logits, where few entries beat the k-th best
	best := ids[:0:0]
	for _, i := range ids {
		if len(best) == k && !better(i, best[k-1]) {
			continue
		}
		j := sort.Search(len(best), func(j int) bool { return better(i, best[j]) })
		if len(best) < k {
			best = append(best, 0)
		}
		copy(best[j+1:], best[j:])
		best[j] = i
	}
	return best
}
