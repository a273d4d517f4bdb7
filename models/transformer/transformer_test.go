package transformer

import (
	"testing"

	"github.com/stretchr/testify/require"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/models/internal/modeltest"
)

func smallConfig() Config {
	return Config{SrcVocab: 9, TgtVocab: 9, Dim: 4, Heads: 2, FF: 6, EncoderLayers: 1, DecoderLayers: 2,
		MaxLen: 6, Tokens: modeltest.Tokens}
}

func TestTransformerGradients(t *testing.T) {
	for _, c := range []struct {
		name   string
		change func(*Config)
	}{
		{"post_sinusoidal", func(*Config) {}},
		{"pre_learned_shared_tied_dropout", func(c *Config) {
			c.PreLN, c.Positions, c.ShareEmbeddings, c.TieOutput, c.Dropout, c.Activation = true, "learned", true, true, 0.1, "gelu"
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := smallConfig()
			c.change(&cfg)
			requireModelGradients(t, cfg, 0.1, graph.CheckOptions{Seed: 1, MaxPerParam: 6})
		})
	}
}

// requireModelGradients checks numerically the gradients of a Train program of
// cfg on modeltest.Srcs and Tgts with label smoothing ls.
func requireModelGradients(t *testing.T, cfg Config, ls float64, opt graph.CheckOptions) {
	t.Helper()
	p, _ := buildFed(t, cfg, graph.Train, 4, ls, modeltest.Srcs, modeltest.Tgts)
	require.NoError(t, graph.CheckGrad(p.Program, opt))
}

// buildFed builds a model of cfg in a new store, perturbs its biases, and
// returns its program for the len(srcs) pairs, sources and targets of length
// n, with label smoothing ls, fed with srcs and tgts.
func buildFed(t *testing.T, cfg Config, mode graph.Mode, n int, ls float64, srcs, tgts [][]int) (*Program, *graph.Store) {
	t.Helper()
	s := modeltest.NewStore()
	m, err := New(s, cfg)
	require.NoError(t, err)
	modeltest.PerturbBiases(s)
	p, err := m.Build(s, mode, len(srcs), n, n, ls)
	require.NoError(t, err)
	_, err = p.Feed(srcs, tgts)
	require.NoError(t, err)
	return p, s
}

func TestTransformerNames(t *testing.T) {
	cfg := smallConfig()
	cfg.ShareEmbeddings, cfg.TieOutput = true, true
	s := modeltest.NewStore()
	_, err := New(s, cfg)
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
	_, err = New(modeltest.NewStore(), cfg)
	require.ErrorContains(t, err, "shared embeddings")
}

// The one-step decoding graphs share the trained weights: decoding the reference
// targets step by step gives the teacher-forced loss.
func TestStepGraphsMatchTeacherForcing(t *testing.T) {
	s := modeltest.NewStore()
	m, err := New(s, smallConfig())
	require.NoError(t, err)
	modeltest.PerturbBiases(s)
	p, err := m.Build(s, graph.Eval, 3, 4, 4, 0)
	require.NoError(t, err)
	modeltest.RequireStepsMatchProgram(t, p, m.NewDecoder(s), modeltest.Tokens, modeltest.Srcs, modeltest.Tgts, nil)
}

func TestBeamOfOneEqualsGreedy(t *testing.T) {
	s := graph.NewStore(tensor.Float64, graph.NewRNG(5, "init"))
	m, err := New(s, smallConfig())
	require.NoError(t, err)
	modeltest.RequireBeamOfOneIsGreedy(t, m.NewDecoder(s))
}
