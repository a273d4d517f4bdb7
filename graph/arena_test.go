package graph

import (
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// arenaRun lends buffers of the given lengths in one run and returns their
// first elements' addresses.
func arenaRun(t *testing.T, a *Arena, ns ...int) []uintptr {
	a.begin()
	defer a.end()
	out := make([]uintptr, len(ns))
	for i, n := range ns {
		b := take[float32](a, n)
		require.Len(t, b, n)
		out[i] = uintptr(unsafe.Pointer(&b[0]))
	}
	return out
}

// A small request does not take the large buffer that a large request of the
// same run needs next: the arena holds what its most demanding run needs.
func TestArenaKeepsBuffersToTheirSizes(t *testing.T) {
	a := NewArena()
	arenaRun(t, a, 1000)
	arenaRun(t, a, 10, 1000) // best fit alone would give the 10 the 1000 and make another 1000
	require.EqualValues(t, 4*1010, a.Bytes())
	arenaRun(t, a, 1000, 10)
	require.EqualValues(t, 4*1010, a.Bytes(), "the same needs in another order")
}

// A request grows the largest free buffer smaller than it, and the buffers of
// a run are distinct; the next run reuses them.
func TestArenaGrowsAndReuses(t *testing.T) {
	a := NewArena()
	first := arenaRun(t, a, 10, 20)
	require.EqualValues(t, 4*30, a.Bytes())
	second := arenaRun(t, a, 25, 5)
	require.EqualValues(t, 4*(25+10), a.Bytes(), "the 20 grows to 25, the 10 serves the 5")
	require.NotEqual(t, second[0], second[1])
	require.Equal(t, first[0], second[1])
	third := arenaRun(t, a, 200)
	require.EqualValues(t, 4*(200+10), a.Bytes(), "the largest smaller buffer grows")
	require.NotEqual(t, third[0], second[0])
	fourth := arenaRun(t, a, 150, 3)
	require.Equal(t, []uintptr{third[0], second[1]}, fourth, "the 200 serves the 150 and the 10 the 3")
	require.EqualValues(t, 4*(200+10), a.Bytes())
	a.Release()
	require.Zero(t, a.Bytes())
}

// A kernel node's buffer is free again once the last node that reads it has
// run: a chain of ten scalings holds two buffers of the arena, not ten, and
// computes what it did; in training, where the backward pass reads the ten
// values, their ten gradients take turns in two buffers, and the gradient is
// unchanged.
func TestArenaFreesValuesAfterTheirLastReader(t *testing.T) {
	const n, depth = 1000, 10
	for _, mode := range []Mode{Eval, Train} {
		s := NewStore(tensor.Float32, NewRNG(1, "init"))
		w := s.Must("w", []int{n}, Constant(1))
		b := NewBuilder(s, mode)
		y := b.Param(w)
		for i := 0; i < depth; i++ {
			y = Scale(b, y, 2)
		}
		b.Output("y", y)
		var loss *G.Node
		if mode == Train {
			loss = b.Check(G.Sum(y))
		}
		p, err := b.Compile(loss)
		require.NoError(t, err)
		require.NoError(t, p.Run())
		out, err := p.Output("y")
		require.NoError(t, err)
		for _, v := range Slice[float32](out) {
			require.Equal(t, float32(1<<depth), v)
		}
		if mode == Eval {
			require.LessOrEqual(t, s.Arena().Bytes(), int64(2*4*n), "the chain's values take turns in two buffers")
			continue
		}
		for _, g := range Slice[float32](w.Grad) {
			require.Equal(t, float32(1<<depth), g)
		}
		// the values stay for the backward pass, the gradients take turns
		require.LessOrEqual(t, s.Arena().Bytes(), int64((depth+2)*4*n), "gradients are not all held to the end")
	}
}
