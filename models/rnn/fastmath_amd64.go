//go:build amd64 && !purego

package rnn

import "golang.org/x/sys/cpu"

// haveAVX2 says whether the eight-wide activations can run here (AVX2 and FMA,
// with the operating system saving the vector registers).
var haveAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// sigmoids32AVX2 is sigmoids32 eight lanes at a time; len(v) must be a multiple of 8.
//
//go:noescape
func sigmoids32AVX2(v []float32)

// tanhs32AVX2 is tanhs32 eight lanes at a time; len(src) must be a multiple of 8.
//
//go:noescape
func tanhs32AVX2(dst, src []float32)
