package seq2seq

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/models/internal/modeltest"
	"github.com/triadml/triad/models/rnn"
)

func TestGradients(t *testing.T) {
	for _, c := range []struct {
		name string
		cfg  Config
	}{
		{"gru_bahdanau_bidirectional_dropout", Config{Cell: rnn.GRU, Attention: "bahdanau", Bidirectional: true, Dropout: 0.2}},
		{"lstm_general", Config{Cell: rnn.LSTM, Attention: "general", EncoderLayers: 2}},
		{"gru_dot", Config{Cell: rnn.GRU, Attention: "dot", Bidirectional: true}},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := c.cfg
			cfg.SrcVocab, cfg.TgtVocab, cfg.Embed, cfg.Hidden, cfg.AttnDim, cfg.Tokens = 9, 7, 3, 3, 4, modeltest.Tokens
			s := modeltest.NewStore()
			m, err := New(s, cfg)
			require.NoError(t, err)
			p, err := m.Build(s, graph.Train, 3, 4, 4, 0.1)
			require.NoError(t, err)
			n, err := p.Feed(modeltest.Srcs, modeltest.Tgts)
			require.NoError(t, err)
			require.Equal(t, 3+4+2, n)
			require.NoError(t, graph.CheckGrad(p.Program, graph.CheckOptions{Seed: 1, MaxPerParam: 6}))
		})
	}
}

// The one-step decoding graphs share the trained weights: decoding the reference
// targets step by step gives the teacher-forced loss.
func TestStepGraphsMatchTeacherForcing(t *testing.T) {
	for _, cell := range []rnn.Cell{rnn.GRU, rnn.LSTM} {
		s := modeltest.NewStore()
		m, err := New(s, Config{SrcVocab: 9, TgtVocab: 7, Embed: 3, Hidden: 4, Cell: cell, Bidirectional: true, Tokens: modeltest.Tokens})
		require.NoError(t, err)
		p, err := m.Build(s, graph.Eval, 3, 4, 4, 0)
		require.NoError(t, err)
		modeltest.RequireStepsMatchProgram(t, p, m.NewDecoder(s), modeltest.Tokens, modeltest.Srcs, modeltest.Tgts, nil)
	}
}

func TestBeamOfOneEqualsGreedy(t *testing.T) {
	s := modeltest.NewStore()
	m, err := New(s, Config{SrcVocab: 9, TgtVocab: 7, Embed: 3, Hidden: 4, Bidirectional: true, Tokens: modeltest.Tokens})
	require.NoError(t, err)
	modeltest.RequireBeamOfOneIsGreedy(t, m.NewDecoder(s))
}

func TestFeedErrors(t *testing.T) {
	s := modeltest.NewStore()
	m, err := New(s, Config{SrcVocab: 9, TgtVocab: 7, Embed: 3, Hidden: 4, Tokens: modeltest.Tokens})
	require.NoError(t, err)
	p, err := m.Build(s, graph.Eval, 3, 4, 4, 0)
	require.NoError(t, err)
	_, err = p.Feed(modeltest.Srcs[:2], modeltest.Tgts[:2])
	require.ErrorContains(t, err, "batch of 3")
	_, err = p.Feed([][]int{{3, 4, 5, 6, 7}, {3}, {3}}, modeltest.Tgts)
	require.ErrorContains(t, err, "source 0 has 5 tokens")
	_, err = p.Feed(modeltest.Srcs, [][]int{{3, 3, 3, 3}, {3}, {3}})
	require.ErrorContains(t, err, "target 0 has 4 tokens")
	_, err = New(s, Config{SrcVocab: 9, TgtVocab: 7, Embed: 3, Hidden: 4, Cell: rnn.Tanh})
	require.ErrorContains(t, err, "cell")
}
