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
