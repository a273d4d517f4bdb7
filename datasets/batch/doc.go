// Package batch turns a dataset's examples into the static-shape batches that
// compiled programs consume.
//
//   - Shuffling: [Perm] and [Shuffle] are Fisher-Yates shuffles driven only by
//     the 64-bit outputs of a math/rand/v2 generator, so a seeded generator
//     (rand.NewPCG or rand.NewChaCha8) gives the same order on every platform and
//     Go release.
//   - Batches of indices: [Batches] cuts an order into fixed-size batches, with
//     or without the last partial one.
//   - Length bucketing: a [Bucketer] groups sentence pairs by (source, target)
//     length into batches whose padded shapes come from a small fixed set, one
//     compiled program per shape, every example exactly once per epoch.
//   - Streams for truncated backpropagation through time: [Batchify] lays a
//     token stream into B contiguous columns and [Stream.Batch] cuts windows of
//     inputs and next-token targets, as PyTorch's word_language_model example
//     does.
//
// Layout convention: every flat array is row-major. A "B×T" array holds example
// b, step t at index b*T+t (batch-major); a "T×B" array holds it at t*B+b
// (time-major).
package batch
