package graph

import (
	"hash/fnv"
	"math/rand/v2"
)

// NewRNG returns the named random stream of a seed. Each concern of an experiment
// (initialisation, shuffling, dropout masks, VAE noise, sampling) draws from its own
// stream, so adding draws to one never changes another, and the same seed always
// gives the same numbers on every platform (PCG, math/rand/v2).
func NewRNG(seed uint64, stream string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(stream))
	return rand.New(rand.NewPCG(seed, h.Sum64()))
}

// RandomTokens returns rows of n token ids in [0, vocab) from the stream
// "tokens" of seed: synthetic batches for tests and benchmarks.
func RandomTokens(seed uint64, rows, n, vocab int) [][]int {
	rng := NewRNG(seed, "tokens")
	out := make([][]int, rows)
	for r := range out {
		for range n {
			out[r] = append(out[r], rng.IntN(vocab))
		}
	}
	return out
}

// Counter returns value i of the counter-based generator keyed by key: the
// (i+1)-th output of a SplitMix64 stream started at key (Steele, Lea and Flood,
// "Fast splittable pseudorandom number generators", OOPSLA 2014), whose state
// after i+1 steps is key + (i+1) times the golden gamma. Any value is computed
// on its own, so a tensor of them is filled in parallel with the same numbers
// for any number of threads.
func Counter(key uint64, i int) uint64 {
	z := key + uint64(i+1)*0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}
