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

// aligned is the bytes n float32 values take in the arena.
func aligned(n int) int64 { return int64((4*n + arenaAlign - 1) / arenaAlign * arenaAlign) }

// A run's requests lie side by side in one slab, the same places every run
// for the same requests; Bytes is the most a run has held. A run that outgrows
// the slab takes the excess from the heap, and the next run has a slab that
// holds it.
func TestArenaSlabHoldsTheLargestRun(t *testing.T) {
	defer func(r int) { minReserve = r }(minReserve)
	minReserve = 1 << 16
	a := NewArena()
	first := arenaRun(t, a, 1000, 10)
	require.EqualValues(t, aligned(1000)+aligned(10), a.Bytes())
	require.Equal(t, first, arenaRun(t, a, 1000, 10), "the same requests, the same places")
	require.Equal(t, first[1]-first[0], uintptr(aligned(1000)), "side by side, aligned")
	arenaRun(t, a, 10)
	require.EqualValues(t, aligned(1000)+aligned(10), a.Bytes(), "a smaller run does not lower it")
	big := minReserve/4 + 1
	outgrown := arenaRun(t, a, big)
	require.EqualValues(t, aligned(big), a.Bytes())
	moved := arenaRun(t, a, big)
	require.NotEqual(t, outgrown, moved, "the run that outgrew the slab took the heap; the next has a larger slab")
	require.Equal(t, moved, arenaRun(t, a, big))
	a.Release()
	require.Equal(t, moved, arenaRun(t, a, big), "Release keeps the places, giving back the pages")
}

// A freed range serves the next request that fits it, the smallest such
// range first; neighbouring free ranges join, and a free range at the top
// lowers it.
func TestArenaReusesFreedRanges(t *testing.T) {
	a := NewArena()
	run := func() (addr map[string]uintptr) {
		a.begin()
		defer a.end()
		addr = map[string]uintptr{}
		at := func(name string, n int) {
			b := take[float32](a, n)
			addr[name] = uintptr(unsafe.Pointer(&b[0]))
		}
		at("a", 100)
		at("b", 50)
		at("c", 100)
		at("d", 10)
		a.free(0)   // a: a hole of 100 below b
		a.free(2)   // c: a hole of 100 between b and d
		at("e", 40) // the two holes are equal: the lower one
		a.free(1)   // b joins the rest of a's hole and c's: 60+50+100
		at("f", 200)
		a.free(3) // d, at the top, lowers it to the end of f's hole
		at("g", 30)
		return addr
	}
	run()
	addr := run()
	base := addr["a"]
	require.Equal(t, base, addr["e"], "the lower of two equal holes")
	require.Equal(t, base+uintptr(aligned(40)), addr["f"], "joined holes serve a larger request")
	require.Equal(t, addr["f"]+uintptr(aligned(200)), addr["g"], "the top came down")
	require.EqualValues(t, aligned(100)+aligned(50)+aligned(100)+aligned(10), a.Bytes())
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
			require.LessOrEqual(t, s.Arena().Bytes(), 2*aligned(n), "the chain's values take turns in two buffers")
			continue
		}
		for _, g := range Slice[float32](w.Grad) {
			require.Equal(t, float32(1<<depth), g)
		}
		// the values stay for the backward pass, the gradients take turns
		require.LessOrEqual(t, s.Arena().Bytes(), (depth+2)*aligned(n), "gradients are not all held to the end")
	}
}
