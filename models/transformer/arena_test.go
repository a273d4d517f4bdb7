package transformer

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/models/internal/modeltest"
)

// Programs of different shapes over one store share the store's arena: run in
// turns, two training programs of different buckets and an evaluation program
// give exactly what each gives over a store of its own, run after run, and the
// shared arena holds less than their three arenas together.
func TestProgramsShareTheArena(t *testing.T) {
	cfg := Config{SrcVocab: 11, TgtVocab: 11, Dim: 8, Heads: 2, FF: 12, EncoderLayers: 2, DecoderLayers: 2, MaxLen: 9,
		Dropout: 0.2, Tokens: modeltest.Tokens}
	type bucket struct {
		mode       graph.Mode
		n          int
		srcs, tgts [][]int
	}
	buckets := []bucket{
		{graph.Train, 5, [][]int{{3, 4, 5, 6, 7}, {8, 3, 4}, {5, 6}}, [][]int{{3, 4, 5, 6}, {7}, {8, 3, 4}}},
		{graph.Train, 8, [][]int{{3, 4, 5, 6, 7, 8, 9}, {8, 3, 4}, {5, 6, 7, 8}, {9}}, [][]int{{3, 4, 5, 6, 7, 8}, {7}, {8, 3, 4}, {5, 5, 5}}},
		{graph.Eval, 5, [][]int{{3, 4, 5, 6, 7}, {8, 3, 4}, {5, 6}}, [][]int{{3, 4, 5, 6}, {7}, {8, 3, 4}}},
	}
	// result is a run's loss and gradients.
	type result struct {
		loss  float64
		grads map[string][]float64
	}
	run := func(p *Program, s *graph.Store) result {
		p.SetNoise(graph.NewRNG(5, "noise"))
		require.NoError(t, p.Run())
		r := result{loss: p.Loss(), grads: modeltest.Grads(s)}
		if !p.Training() {
			l, err := p.Output("loss")
			require.NoError(t, err)
			r.loss = graph.Scalar(l)
		}
		s.ZeroGrads()
		return r
	}

	var alone []result
	var aloneBytes int64
	for _, b := range buckets {
		p, s := buildFed(t, cfg, b.mode, b.n, 0.1, b.srcs, b.tgts)
		alone = append(alone, run(p, s))
		aloneBytes += s.Arena().Bytes()
	}

	s := modeltest.NewStore()
	m, err := New(s, cfg)
	require.NoError(t, err)
	modeltest.PerturbBiases(s)
	var progs []*Program
	for _, b := range buckets {
		ls := 0.1
		p, err := m.Build(s, b.mode, len(b.srcs), b.n, b.n, ls)
		require.NoError(t, err)
		_, err = p.Feed(b.srcs, b.tgts)
		require.NoError(t, err)
		progs = append(progs, p)
	}
	for round := range 2 {
		for i, p := range progs {
			require.Equal(t, alone[i], run(p, s), "round %d, program %d", round, i)
		}
	}
	require.Less(t, s.Arena().Bytes(), aloneBytes)
	require.Positive(t, s.Arena().Bytes())
}
