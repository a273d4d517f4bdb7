package train

import (
	"testing"

	"github.com/stretchr/testify/require"
	"gorgonia.org/tensor"

	"github.com/triadml/triad/graph"
)

// The ranks' spans of n rows cover [0, n) in order, whole outside a group and
// in a group of one, and their weights add up to the group's size.
func TestShardSpanScale(t *testing.T) {
	for _, size := range []int{0, 1, 2, 3, 4} {
		for _, n := range []int{0, 1, 5, 6, 7, 32} {
			next, sum := 0, 0.0
			for rank := range max(size, 1) {
				s := Shard{Rank: rank, Size: size}
				lo, hi := s.Span(n)
				require.Equal(t, next, lo, "rank %d of %d, n %d", rank, size, n)
				require.LessOrEqual(t, lo, hi)
				require.LessOrEqual(t, hi-lo, n/max(size, 1)+1)
				next = hi
				if n > 0 {
					sum += s.Scale(hi-lo, n)
				}
			}
			require.Equal(t, n, next, "size %d, n %d", size, n)
			if n > 0 && size > 0 {
				require.InDelta(t, float64(size), sum, 1e-12)
			}
		}
	}
	require.Equal(t, 1.5, Shard{Rank: 1, Size: 2}.Scale(3, 4))
}

// Set takes a shard that CheckShard accepts, and asks for the programs of the
// shard's rows in a group of more than one rank alone.
func TestShardSet(t *testing.T) {
	var s Shard
	rows := 0
	split := func(r int) { rows = r }
	require.NoError(t, s.Set("toy", 0, 1, 6, false, split))
	require.Equal(t, Shard{Rank: 0, Size: 1}, s)
	require.Zero(t, rows)
	require.NoError(t, s.Set("toy", 2, 3, 6, false, split))
	require.Equal(t, Shard{Rank: 2, Size: 3}, s)
	require.Equal(t, 2, rows)
	require.NoError(t, s.Set("toy", 1, 2, 6, false, nil))
	require.Equal(t, Shard{Rank: 1, Size: 2}, s)

	rows = 0
	var bad Shard
	err := bad.Set("toy", 0, 4, 6, false, split)
	require.True(t, IsUsage(err), "batch 6 does not split into 4 ranks: %v", err)
	require.ErrorContains(t, bad.Set("toy", 2, 2, 6, false, split), "shard 2 of 2")
	require.ErrorContains(t, bad.Set("toy", 0, 2, 6, true, split), "after the programs were built")
	require.Equal(t, Shard{}, bad)
	require.Zero(t, rows)
}

// ScaleGrads scales the gradients by the shard's weight and returns it.
func TestShardScaleGrads(t *testing.T) {
	store := graph.NewStore(tensor.Float32, graph.NewRNG(1, "init"))
	p := store.Must("w", []int{3}, graph.Zeros())
	copy(p.Grad.Float32s(), []float32{1, -2, 4})
	require.Equal(t, 1.0, Shard{Rank: 0, Size: 2}.ScaleGrads(store.Params(), 3, 6))
	require.Equal(t, []float32{1, -2, 4}, p.Grad.Float32s())
	require.Equal(t, 0.5, Shard{Rank: 1, Size: 2}.ScaleGrads(store.Params(), 3, 12))
	require.Equal(t, []float32{0.5, -1, 2}, p.Grad.Float32s())
}
