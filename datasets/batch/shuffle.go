package batch

import (
	"math/bits"
	"math/rand/v2"

	"github.com/pkg/errors"
)

// intn returns a uniform integer in [0, n), n > 0, drawn from rng's 64-bit
// outputs by Lemire's multiply-and-reject method (D. Lemire, "Fast Random
// Integer Generation in an Interval", ACM TOMACS 29(1), 2019). It uses only
// rng.Uint64 and integer arithmetic, so its results depend only on the
// generator's output stream, not on the platform or on math/rand/v2's own
// helpers (whose algorithms a Go release may change).
func intn(rng *rand.Rand, n int) int {
	un := uint64(n)
	hi, lo := bits.Mul64(rng.Uint64(), un)
	if lo < un {
		threshold := -un % un // 2^64 mod n
		for lo < threshold {
			hi, lo = bits.Mul64(rng.Uint64(), un)
		}
	}
	return int(hi)
}

// Shuffle permutes n elements with the Fisher-Yates shuffle (for i from n-1 down
// to 1, swap i with a uniform j in [0, i], drawn from rng.Uint64 by
// Lemire's method), calling swap for each step (also when both
// indexes are equal). The same generator state gives the same sequence of swaps
// on every platform. It does nothing when n < 2.
func Shuffle(rng *rand.Rand, n int, swap func(i, j int)) {
	for i := n - 1; i > 0; i-- {
		swap(i, intn(rng, i+1))
	}
}

// Perm returns a pseudo-random permutation of 0..n-1: the identity shuffled by
// Shuffle. With a generator seeded the same way (for example
// rand.New(rand.NewPCG(seed, stream))), it returns the same order on every
// platform and Go release. Perm of n <= 0 is empty.
func Perm(rng *rand.Rand, n int) []int {
	if n <= 0 {
		return []int{}
	}
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	Shuffle(rng, n, func(i, j int) { p[i], p[j] = p[j], p[i] })
	return p
}

// Batches cuts order into consecutive batches of batchSize indices. The last
// batch may be shorter, unless dropLast is set, in which case it is left out.
// The batches share order's storage.
func Batches(order []int, batchSize int, dropLast bool) ([][]int, error) {
	if batchSize <= 0 {
		return nil, errors.Errorf("batch: batch size must be positive, got %d", batchSize)
	}
	var out [][]int
	for i := 0; i < len(order); i += batchSize {
		end := i + batchSize
		if end > len(order) {
			if dropLast {
				break
			}
			end = len(order)
		}
		out = append(out, order[i:end:end])
	}
	return out, nil
}
