//go:build !amd64 || purego

// Package avx2 holds triad's eight-wide float32 kernels; this build has none.
package avx2

// Available is false where the assembly is not built.
const Available = false

// Sigmoids32 is not built here.
func Sigmoids32([]float32) { panic("avx2: not in this build") }

// Tanhs32 is not built here.
func Tanhs32([]float32, []float32) { panic("avx2: not in this build") }

// ExpsShifted32 is not built here.
func ExpsShifted32([]float32, []float32, float32) { panic("avx2: not in this build") }

// Max32 is not built here.
func Max32([]float32) (float32, bool) { panic("avx2: not in this build") }

// AdamDecoupled32 is not built here.
func AdamDecoupled32(_, _, _, _ []float32, _, _, _, _, _, _, _, _ float32) {
	panic("avx2: not in this build")
}

// DotRows32 is not built here.
func DotRows32(_, _, _ []float32, _ int) { panic("avx2: not in this build") }

// MixRows32 is not built here.
func MixRows32(_, _, _ []float32, _ int) { panic("avx2: not in this build") }

// Add32 is not built here.
func Add32(_, _ []float32) { panic("avx2: not in this build") }

// LogProbs32 is not built here.
func LogProbs32(_, _ []float32, _, _, _ float32) { panic("avx2: not in this build") }

// Widen32 is not built here.
func Widen32([]float64, []float32) { panic("avx2: not in this build") }
