package pointer

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/models/decode"
	"github.com/triadml/triad/models/internal/modeltest"
	"github.com/triadml/triad/models/rnn"
	"github.com/triadml/triad/models/seq2seq"
)

var testTokens = decode.Tokens{Pad: 0, Unk: 1, BOS: 2, EOS: 3}

// A toy batch over a vocabulary of 9 (ids 4..8 are words): ids 9 and 10 are
// each source's own out-of-vocabulary words. The first target copies its
// source's id 9 (which occurs twice), the second copies id 10 twice, the third
// is the unknown word, and the fourth holds id 9, which its source lacks (so it
// is taken as unknown).
const testVocab = 9

var (
	testSrcs = [][]int{{4, 9, 5, 9}, {10, 6}, {7, 8, 4, 5, 9}, {5, 6}}
	testTgts = [][]int{{9, 4}, {10, 10, 5}, {1}, {9}}
)

func smallConfig(copyMode bool) Config {
	return Config{Vocab: testVocab, Embed: 3, Hidden: 3, AttnDim: 4, Copy: copyMode, Tokens: testTokens}
}

func TestModelGradients(t *testing.T) {
	for _, c := range []struct {
		name   string
		change func(*Config)
	}{
		{"copy_dropout", func(c *Config) { c.Dropout = 0.2 }},
		{"copy_shared", func(c *Config) { c.ShareEmbeddings = true }},
		{"copy_shared_tied", func(c *Config) { c.ShareEmbeddings, c.TieOutput = true, true }},
		{"plain_tied", func(c *Config) { c.Copy, c.TieOutput = false, true }},
		{"plain_dropout", func(c *Config) { c.Copy, c.Dropout = false, 0.2 }},
		{"copy_state_first", func(c *Config) { c.StateFirst, c.Dropout = true, 0.2 }},
		{"plain_state_first", func(c *Config) { c.Copy, c.StateFirst = false, true }},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := smallConfig(true)
			c.change(&cfg)
			s := newStore(1)
			m, err := New(s, cfg)
			require.NoError(t, err)
			p, err := m.Build(s, graph.Train, 5, 5, 4) // one padding row
			require.NoError(t, err)
			n, err := p.Feed(testSrcs, testTgts)
			require.NoError(t, err)
			require.Equal(t, 3+4+2+2, n)
			require.NoError(t, graph.CheckGrad(p.Program, graph.CheckOptions{Seed: 1, MaxPerParam: 6}))
		})
	}
}

func TestNamesAndConfig(t *testing.T) {
	s := newStore(1)
	_, err := New(s, smallConfig(true))
	require.NoError(t, err)
	names := map[string][]int{}
	for _, p := range s.Params() {
		names[p.Name] = p.Shape()
	}
	for name, shape := range map[string][]int{
		"src_embed.weight": {9, 3}, "tgt_embed.weight": {9, 3}, "encoder.weight_ih_l0_reverse": {9, 3},
		"bridge.weight": {6, 6}, "attention.key.weight": {4, 6}, "attention.v.weight": {1, 4},
		"decoder.weight_ih_l0": {18, 9}, "pre_out.weight": {6, 15}, "generator.weight": {9, 6},
		"p_gen.weight": {1, 15}, "p_gen.bias": {1},
	} {
		require.Equal(t, shape, names[name], name)
	}
	tied := newStore(1)
	_, err = New(tied, Config{Vocab: testVocab, Embed: 3, Hidden: 3, Copy: true, ShareEmbeddings: true, TieOutput: true, Tokens: testTokens})
	require.NoError(t, err)
	require.Equal(t, []string{"attention.key.bias", "attention.key.weight", "attention.query.weight", "attention.v.weight",
		"bridge.bias", "bridge.weight", "decoder.bias_hh_l0", "decoder.bias_ih_l0", "decoder.weight_hh_l0", "decoder.weight_ih_l0",
		"embed.weight", "encoder.bias_hh_l0", "encoder.bias_hh_l0_reverse", "encoder.bias_ih_l0", "encoder.bias_ih_l0_reverse",
		"encoder.weight_hh_l0", "encoder.weight_hh_l0_reverse", "encoder.weight_ih_l0", "encoder.weight_ih_l0_reverse",
		"generator.bias", "p_gen.bias", "p_gen.weight", "pre_out.bias", "pre_out.weight"}, tied.Names())
	pre, _ := tied.Get("pre_out.weight")
	require.Equal(t, tensor.Shape{3, 15}, pre.Shape(), "pre_out maps to the embedding width")
	for _, bad := range []func(*Config){
		func(c *Config) { c.Vocab = 0 },
		func(c *Config) { c.Dropout = 1 },
		func(c *Config) { c.Tokens.EOS = 9 },
		func(c *Config) { c.Tokens.BOS = c.Tokens.Pad },
	} {
		cfg := smallConfig(true)
		bad(&cfg)
		_, err := New(newStore(1), cfg)
		require.Error(t, err)
	}
	m, err := New(newStore(2), smallConfig(false))
	require.NoError(t, err)
	p, err := m.Build(newStore(2), graph.Eval, 2, 3, 3)
	require.NoError(t, err)
	_, err = p.Feed([][]int{{4, 5, 6, 7}}, [][]int{{4}})
	require.ErrorContains(t, err, "at most 3 fit")
	_, err = p.Feed([][]int{{4}}, [][]int{{4, 5, 6}})
	require.ErrorContains(t, err, "at most 2 fit with EOS")
	_, err = p.Feed([][]int{{4}, {5}, {6}}, [][]int{{4}, {5}, {6}})
	require.ErrorContains(t, err, "3 sources for a batch of 2")
}

// In plain-attention mode the model is seq2seq.Model with a bidirectional
// GRU encoder and Bahdanau attention: the same parameter names and initial
// weights for the same seed, and the same loss (the encoder here runs as fused
// kernels, there unrolled).
func TestPlainModeIsSeq2Seq(t *testing.T) {
	ps, ss := newStore(11), newStore(11)
	m, err := New(ps, smallConfig(false))
	require.NoError(t, err)
	ref, err := seq2seq.New(ss, seq2seq.Config{SrcVocab: testVocab, TgtVocab: testVocab, Embed: 3, Hidden: 3,
		AttnDim: 4, Cell: rnn.GRU, Bidirectional: true, Attention: "bahdanau", Tokens: testTokens})
	require.NoError(t, err)
	require.Equal(t, ss.Names(), ps.Names())
	for _, name := range ps.Names() {
		a, _ := ps.Get(name)
		b, _ := ss.Get(name)
		require.Equal(t, graph.Float64s(b.Value), graph.Float64s(a.Value), name)
	}
	srcs := [][]int{{4, 7, 5, 6}, {8, 6}, {7, 8, 4, 5, 4}}
	tgts := [][]int{{5, 4}, {6, 6, 5}, {1}}
	p, err := m.Build(ps, graph.Eval, 3, 5, 4)
	require.NoError(t, err)
	_, err = p.Feed(srcs, tgts)
	require.NoError(t, err)
	require.NoError(t, p.Run())
	q, err := ref.Build(ss, graph.Eval, 3, 5, 4, 0)
	require.NoError(t, err)
	_, err = q.Feed(srcs, tgts)
	require.NoError(t, err)
	require.NoError(t, q.Run())
	got, _ := p.Output("loss")
	want, _ := q.Output("loss")
	require.InDelta(t, graph.Scalar(want), graph.Scalar(got), 1e-12)
	ga, _ := p.Output("attn")
	wa, _ := q.Output("attn")
	require.InDeltaSlice(t, graph.Float64s(wa), graph.Float64s(ga), 1e-12)
}

// The decoding graphs share the trained weights, and the decoder's mixture is
// the kernel's: decoding the reference targets step by step gives the
// teacher-forced loss.
func TestStepGraphsMatchTeacherForcing(t *testing.T) {
	for _, mode := range []struct{ copyMode, stateFirst bool }{{true, false}, {false, false}, {true, true}, {false, true}} {
		copyMode := mode.copyMode
		s := newStore(3)
		cfg := smallConfig(copyMode)
		cfg.StateFirst = mode.stateFirst
		m, err := New(s, cfg)
		require.NoError(t, err)
		p, err := m.Build(s, graph.Eval, 4, 5, 4)
		require.NoError(t, err)
		// a target id of V or more that its source lacks (or any, without Copy) is scored as Unk
		target := func(r, id int) int {
			if id >= cfg.Vocab && (!cfg.Copy || !slices.Contains(testSrcs[r], id)) {
				return testTokens.Unk
			}
			return id
		}
		modeltest.RequireStepsMatchProgram(t, p, m.NewDecoder(s), testTokens, testSrcs, testTgts, target)
		d := m.NewDecoder(s)
		st, err := d.Encode(testSrcs)
		require.NoError(t, err)
		out, _, err := d.Step(st, []int{2, 2, 2, 2})
		require.NoError(t, err)
		width := testVocab
		if copyMode {
			width = 11 // ids 9 and 10
			require.Equal(t, float64(0), exp(out.LogProbs[1][9]), "the second source has no id 9")
			pgen, err := p.Output("p_gen")
			require.NoError(t, err)
			require.Equal(t, tensor.Shape{4, 4, 1}, pgen.Shape())
		}
		for r := range out.LogProbs {
			require.Len(t, out.LogProbs[r], width)
			total := 0.0
			for _, lp := range out.LogProbs[r] {
				total += exp(lp)
			}
			require.InDelta(t, 1, total, 1e-12)
		}
		require.NoError(t, d.Close())
	}
}
