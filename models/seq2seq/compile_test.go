package seq2seq

import (
	"testing"

	"github.com/stretchr/testify/require"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
	"github.com/triadml/triad/models/internal/modeltest"
)

// This model at source length 24 gave (with models/rnn's unrolled GRU at the time
// of writing) a graph in which two different nodes share a 32-bit hash under the
// plain input names; Gorgonia's compiler merged them and the run failed with a
// shape mismatch. Build must notice and rebuild with salted names.
func TestHashCollisionIsAvoided(t *testing.T) {
	s := graph.NewStore(tensor.Float32, graph.NewRNG(1, "init"))
	m, err := New(s, Config{SrcVocab: 77, TgtVocab: 15, Embed: 32, Hidden: 32, AttnDim: 32, Bidirectional: true, Tokens: modeltest.Tokens})
	require.NoError(t, err)
	p, err := m.Build(s, graph.Train, 64, 24, 11, 0)
	require.NoError(t, err)
	if p.Salt == 0 {
		t.Log("the unsalted graph no longer collides (models/rnn changed its graph); the check still ran")
	}
	srcs, tgts := modeltest.BenchPairs(64, 24, 77)
	_, err = p.Feed(srcs, tgts)
	require.NoError(t, err)
	require.NoError(t, p.Run())
	require.False(t, isNaN(p.Loss()))
}

func isNaN(x float64) bool { return x != x }
