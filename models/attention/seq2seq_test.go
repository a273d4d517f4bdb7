package attention

import (
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/models/rnn"
)

var testTokens = Tokens{Pad: 0, BOS: 1, EOS: 2}

// pairs of a toy task: sources of ids 3..8, targets of ids 3..6
var (
	testSrcs = [][]int{{3, 4, 5, 6}, {7, 8}, {5}}
	testTgts = [][]int{{4, 3}, {6, 6, 5}, {3}}
)

func TestBMMAllTransposes(t *testing.T) {
	for _, ta := range []bool{false, true} {
		for _, tb := range []bool{false, true} {
			s := newStore()
			ash, bsh := []int{2, 3, 4}, []int{2, 4, 5} // op(A) (3,4), op(B) (4,5)
			if ta {
				ash = []int{2, 4, 3}
			}
			if tb {
				bsh = []int{2, 5, 4}
			}
			b := graph.NewBuilder(s, graph.Train)
			c := b.Check(graph.Apply(bmmKernel{transA: ta, transB: tb}, b.Param(param(s, "a", ash...)), b.Param(param(s, "b", bsh...))))
			require.Equal(t, tensor.Shape{2, 3, 5}, c.Shape())
			l := newLoss(t, b)
			l.add(c)
			l.check(nil, graph.CheckOptions{})
		}
	}
}

func TestSeq2SeqGradients(t *testing.T) {
	for _, c := range []struct {
		name string
		cfg  Seq2SeqConfig
	}{
		{"gru_bahdanau_bidirectional_dropout", Seq2SeqConfig{Cell: rnn.GRU, Attention: "bahdanau", Bidirectional: true, Dropout: 0.2}},
		{"lstm_general", Seq2SeqConfig{Cell: rnn.LSTM, Attention: "general", EncoderLayers: 2}},
		{"gru_dot", Seq2SeqConfig{Cell: rnn.GRU, Attention: "dot", Bidirectional: true}},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := c.cfg
			cfg.SrcVocab, cfg.TgtVocab, cfg.Embed, cfg.Hidden, cfg.AttnDim, cfg.Tokens = 9, 7, 3, 3, 4, testTokens
			s := newStore()
			m, err := NewSeq2Seq(s, cfg)
			require.NoError(t, err)
			p, err := m.Build(s, graph.Train, 3, 4, 4, 0.1)
			require.NoError(t, err)
			n, err := p.Feed(testSrcs, testTgts)
			require.NoError(t, err)
			require.Equal(t, 3+4+2, n)
			require.NoError(t, graph.CheckGrad(p.Program, graph.CheckOptions{Seed: 1, MaxPerParam: 6}))
		})
	}
}

func smallTransformerConfig() TransformerConfig {
	return TransformerConfig{SrcVocab: 9, TgtVocab: 9, Dim: 4, Heads: 2, FF: 6, EncoderLayers: 1, DecoderLayers: 2,
		MaxLen: 6, Tokens: testTokens}
}

func TestTransformerGradients(t *testing.T) {
	for _, c := range []struct {
		name   string
		change func(*TransformerConfig)
	}{
		{"post_sinusoidal", func(*TransformerConfig) {}},
		{"pre_learned_shared_tied_dropout", func(c *TransformerConfig) {
			c.PreLN, c.Positions, c.ShareEmbeddings, c.TieOutput, c.Dropout, c.Activation = true, "learned", true, true, 0.1, "gelu"
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := smallTransformerConfig()
			c.change(&cfg)
			s := newStore()
			m, err := NewTransformer(s, cfg)
			require.NoError(t, err)
			perturbBiases(s)
			p, err := m.Build(s, graph.Train, 3, 4, 4, 0.1)
			require.NoError(t, err)
			_, err = p.Feed(testSrcs, testTgts)
			require.NoError(t, err)
			require.NoError(t, graph.CheckGrad(p.Program, graph.CheckOptions{Seed: 1, MaxPerParam: 6}))
		})
	}
}

func TestTransformerNames(t *testing.T) {
	cfg := smallTransformerConfig()
	cfg.ShareEmbeddings, cfg.TieOutput = true, true
	s := newStore()
	_, err := NewTransformer(s, cfg)
	require.NoError(t, err)
	names := map[string]bool{}
	for _, n := range s.Names() {
		names[n] = true
	}
	for _, n := range []string{"embed.weight", "encoder.layers.0.self_attn.in_proj_weight", "encoder.norm.weight",
		"decoder.layers.1.multihead_attn.out_proj.bias", "decoder.layers.1.norm3.bias", "decoder.norm.bias", "generator.bias"} {
		require.True(t, names[n], n)
	}
	require.False(t, names["generator.weight"])
	require.False(t, names["src_embed.weight"])
	cfg.SrcVocab = 10
	_, err = NewTransformer(newStore(), cfg)
	require.ErrorContains(t, err, "shared embeddings")
}

// stepLoss decodes the reference targets with the one-step graphs (teacher
// forcing through Step) and returns the mean negative log-likelihood per token,
// which must equal the teacher-forced program's loss.
func stepLoss(t *testing.T, m StepModel, srcs, tgts [][]int) float64 {
	t.Helper()
	st, err := m.Encode(srcs)
	require.NoError(t, err)
	var sum float64
	var n int
	steps := maxLen(tgts) + 1
	for i := 0; i < steps; i++ {
		prev := make([]int, len(srcs))
		for r, y := range tgts {
			switch {
			case i == 0:
				prev[r] = testTokens.BOS
			case i <= len(y):
				prev[r] = y[i-1]
			default:
				prev[r] = testTokens.Pad
			}
		}
		out, next, err := m.Step(st, prev)
		require.NoError(t, err)
		for r, y := range tgts {
			if i > len(y) {
				continue
			}
			want := testTokens.EOS
			if i < len(y) {
				want = y[i]
			}
			sum -= out.LogProbs[r][want]
			n++
			total := 0.0
			for _, w := range out.Weights[r] {
				total += w
			}
			require.InDelta(t, 1, total, 1e-12)
			for j := len(srcs[r]); j < len(out.Weights[r]); j++ {
				require.Equal(t, 0.0, out.Weights[r][j], "padding position %d gets weight", j)
			}
		}
		st = next
	}
	return sum / float64(n)
}

// The one-step decoding graphs share the trained weights: decoding the reference
// targets step by step gives the teacher-forced loss.
func TestStepGraphsMatchTeacherForcing(t *testing.T) {
	t.Run("seq2seq", func(t *testing.T) {
		for _, cell := range []rnn.Cell{rnn.GRU, rnn.LSTM} {
			s := newStore()
			m, err := NewSeq2Seq(s, Seq2SeqConfig{SrcVocab: 9, TgtVocab: 7, Embed: 3, Hidden: 4, Cell: cell, Bidirectional: true, Tokens: testTokens})
			require.NoError(t, err)
			p, err := m.Build(s, graph.Eval, 3, 4, 4, 0)
			require.NoError(t, err)
			_, err = p.Feed(testSrcs, testTgts)
			require.NoError(t, err)
			require.NoError(t, p.Run())
			loss, _ := p.Output("loss")
			require.InDelta(t, graph.Scalar(loss), stepLoss(t, m.NewDecoder(s), testSrcs, testTgts), 1e-12)
		}
	})
	t.Run("transformer", func(t *testing.T) {
		s := newStore()
		m, err := NewTransformer(s, smallTransformerConfig())
		require.NoError(t, err)
		perturbBiases(s)
		p, err := m.Build(s, graph.Eval, 3, 4, 4, 0)
		require.NoError(t, err)
		_, err = p.Feed(testSrcs, testTgts)
		require.NoError(t, err)
		require.NoError(t, p.Run())
		loss, _ := p.Output("loss")
		require.InDelta(t, graph.Scalar(loss), stepLoss(t, m.NewDecoder(s), testSrcs, testTgts), 1e-12)
	})
}

func TestBeamOfOneEqualsGreedy(t *testing.T) {
	s := newStore()
	m, err := NewSeq2Seq(s, Seq2SeqConfig{SrcVocab: 9, TgtVocab: 7, Embed: 3, Hidden: 4, Bidirectional: true, Tokens: testTokens})
	require.NoError(t, err)
	sm := graph.NewStore(tensor.Float64, graph.NewRNG(5, "init"))
	tr, err := NewTransformer(sm, smallTransformerConfig())
	require.NoError(t, err)
	for name, dec := range map[string]StepModel{"seq2seq": m.NewDecoder(s), "transformer": tr.NewDecoder(sm)} {
		opt := DecodeOptions{BOS: 1, EOS: 2, MaxLen: 5, Alpha: 0.6}
		greedy, err := Greedy(dec, testSrcs, opt)
		require.NoError(t, err, name)
		for i, src := range testSrcs {
			opt.Beam = 1
			beam, err := BeamSearch(dec, src, opt)
			require.NoError(t, err, name)
			require.Len(t, beam, 1)
			require.Equal(t, greedy[i].Tokens, beam[0].Tokens, "%s source %d", name, i)
			require.Equal(t, greedy[i].Finished, beam[0].Finished)
			require.InDelta(t, greedy[i].LogProb, beam[0].LogProb, 1e-12)
			// the same numbers up to rounding: a BLAS may take other kernels for a
			// batch of sources than for a beam of one
			require.Len(t, beam[0].Weights, len(greedy[i].Weights))
			for r := range greedy[i].Weights {
				require.InDeltaSlice(t, greedy[i].Weights[r], beam[0].Weights[r], 1e-12)
			}
			// a wider beam finds a sequence at least as probable when alpha is 0
			opt.Beam, opt.Alpha = 4, 0
			wide, err := BeamSearch(dec, src, opt)
			require.NoError(t, err)
			require.NotEmpty(t, wide)
			for j := 1; j < len(wide); j++ {
				require.GreaterOrEqual(t, wide[j-1].Score, wide[j].Score)
			}
			opt.Alpha = 0.6
		}
	}
}

// toyModel is a StepModel with fixed next-token distributions by prefix: greedy
// takes "a" (p=0.6) then has to choose between two tokens at 0.5, total 0.3;
// "b" (p=0.4) is followed by EOS with p=0.9, total 0.36.
type toyModel struct{}

type toyState struct{ prefixes [][]int }

func (s toyState) Rows() int { return len(s.prefixes) }
func (s toyState) Select(rows []int) (DecodeState, error) {
	out := toyState{}
	for _, r := range rows {
		out.prefixes = append(out.prefixes, append([]int(nil), s.prefixes[r]...))
	}
	return out, nil
}

const toyA, toyB, toyC, toyEOS, toyBOS = 0, 1, 2, 3, 4

func (toyModel) Encode(srcs [][]int) (DecodeState, error) {
	return toyState{prefixes: make([][]int, len(srcs))}, nil
}

func (toyModel) Step(st DecodeState, tokens []int) (StepOutput, DecodeState, error) {
	s := st.(toyState)
	next := toyState{}
	var out StepOutput
	for r, tok := range tokens {
		p := s.prefixes[r]
		if tok != toyBOS {
			p = append(append([]int(nil), p...), tok)
		}
		next.prefixes = append(next.prefixes, p)
		probs := []float64{0, 0, 0, 1, 0} // after two tokens: EOS
		switch {
		case len(p) == 0:
			probs = []float64{0.6, 0.4, 0, 0, 0}
		case len(p) == 1 && p[0] == toyA:
			probs = []float64{0, 0.5, 0.5, 0, 0}
		case len(p) == 1 && p[0] == toyB:
			probs = []float64{0, 0, 0.1, 0.9, 0}
		}
		lp := make([]float64, len(probs))
		for i, v := range probs {
			lp[i] = math.Log(v)
		}
		out.LogProbs = append(out.LogProbs, lp)
		out.Weights = append(out.Weights, []float64{1})
	}
	return out, next, nil
}

func TestBeamSearchFindsBetterThanGreedy(t *testing.T) {
	opt := DecodeOptions{BOS: toyBOS, EOS: toyEOS, MaxLen: 5}
	g, err := Greedy(toyModel{}, [][]int{{0}}, opt)
	require.NoError(t, err)
	require.Equal(t, []int{toyA, toyB}, g[0].Tokens)
	require.InDelta(t, math.Log(0.3), g[0].LogProb, 1e-12)
	opt.Beam = 2
	hyps, err := BeamSearch(toyModel{}, []int{0}, opt)
	require.NoError(t, err)
	require.Equal(t, []int{toyB}, hyps[0].Tokens)
	require.True(t, hyps[0].Finished)
	require.InDelta(t, math.Log(0.36), hyps[0].LogProb, 1e-12)
	require.Len(t, hyps[0].Weights, 2) // "b" and EOS
	// the GNMT length penalty with alpha 1: ((5+2)/6) for "b EOS"
	opt.Alpha = 1
	hyps, err = BeamSearch(toyModel{}, []int{0}, opt)
	require.NoError(t, err)
	require.InDelta(t, math.Log(0.36)/(7.0/6), hyps[0].Score, 1e-12)
	require.InDelta(t, math.Pow(8.0/6, 0.6), LengthPenalty(3, 0.6), 1e-15)
	// stopping at the maximum length leaves hypotheses unfinished
	opt.MaxLen = 1
	hyps, err = BeamSearch(toyModel{}, []int{0}, opt)
	require.NoError(t, err)
	require.False(t, hyps[0].Finished)
	require.Equal(t, []int{toyA}, hyps[0].Tokens)
	_, err = BeamSearch(toyModel{}, []int{0}, DecodeOptions{})
	require.ErrorContains(t, err, "maximum length")
}

func TestHeatmapPNG(t *testing.T) {
	path := filepath.Join(t.TempDir(), "attn.png")
	w := [][]float64{{0.9, 0.1, 0, 0}, {0, 0.2, 0.8, 0}, {0, 0, 0.5, 0.5}}
	require.NoError(t, Heatmap(path, w, []string{"a", " ", "é", "9"}, []string{"x", "y", "</s>"}, "test"))
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	img, err := png.Decode(f)
	require.NoError(t, err)
	require.Greater(t, img.Bounds().Dx(), 50)
	require.ErrorContains(t, Heatmap(path, w, []string{"a"}, []string{"x"}, ""), "rows of weights")
}

func TestFeedErrors(t *testing.T) {
	s := newStore()
	m, err := NewSeq2Seq(s, Seq2SeqConfig{SrcVocab: 9, TgtVocab: 7, Embed: 3, Hidden: 4, Tokens: testTokens})
	require.NoError(t, err)
	p, err := m.Build(s, graph.Eval, 3, 4, 4, 0)
	require.NoError(t, err)
	_, err = p.Feed(testSrcs[:2], testTgts[:2])
	require.ErrorContains(t, err, "batch of 3")
	_, err = p.Feed([][]int{{3, 4, 5, 6, 7}, {3}, {3}}, testTgts)
	require.ErrorContains(t, err, "source 0 has 5 tokens")
	_, err = p.Feed(testSrcs, [][]int{{3, 3, 3, 3}, {3}, {3}})
	require.ErrorContains(t, err, "target 0 has 4 tokens")
	_, err = NewSeq2Seq(s, Seq2SeqConfig{SrcVocab: 9, TgtVocab: 7, Embed: 3, Hidden: 4, Cell: rnn.Tanh})
	require.ErrorContains(t, err, "cell")
}

// eosGuard is toyModel that fails the test if it is ever stepped with EOS, i.e.
// if a finished hypothesis is extended.
type eosGuard struct {
	toyModel
	t *testing.T
}

func (g eosGuard) Step(st DecodeState, tokens []int) (StepOutput, DecodeState, error) {
	for _, tok := range tokens {
		require.NotEqual(g.t, toyEOS, tok, "a finished hypothesis was extended")
	}
	return g.toyModel.Step(st, tokens)
}

func TestFinishedHypothesesAreNeverExtended(t *testing.T) {
	for _, beam := range []int{1, 2, 3, 5} {
		hyps, err := BeamSearch(eosGuard{t: t}, []int{0}, DecodeOptions{BOS: toyBOS, EOS: toyEOS, MaxLen: 6, Beam: beam})
		require.NoError(t, err)
		for _, h := range hyps {
			require.True(t, h.Finished)
			require.NotContains(t, h.Tokens, toyEOS)
		}
	}
	_, err := Greedy(eosGuard{t: t}, [][]int{{0}, {1}}, DecodeOptions{BOS: toyBOS, EOS: toyEOS, MaxLen: 6})
	require.NoError(t, err)
}
