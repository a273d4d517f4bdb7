//go:build !amd64 || purego

package rnn

// haveAVX2 is false where the assembly is not built.
const haveAVX2 = false

func sigmoids32AVX2([]float32)         { panic("rnn: no AVX2 kernels in this build") }
func tanhs32AVX2([]float32, []float32) { panic("rnn: no AVX2 kernels in this build") }
