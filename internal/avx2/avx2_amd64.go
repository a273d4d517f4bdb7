//go:build amd64 && !purego

// Package avx2 holds triad's eight-wide float32 kernels in AVX2 and FMA
// assembly, apart from graph because a package built with cgo (graph with
// OpenBLAS) cannot hold assembly. The algorithms, their accuracy and the
// scalar code that handles what is not a multiple of 8 are those of the
// packages that call them (graph/fastmath.go, solvers/adam.go).
package avx2

import "golang.org/x/sys/cpu"

// Available says whether the kernels can run here (AVX2 and FMA, with the
// operating system saving the vector registers).
var Available = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// Sigmoids32 sets v[i] = 1 / (1 + e^-v[i]); len(v) must be a multiple of 8.
//
//go:noescape
func Sigmoids32(v []float32)

// Tanhs32 sets dst[i] = tanh(src[i]); len(src) must be a multiple of 8.
//
//go:noescape
func Tanhs32(dst, src []float32)

// ExpsShifted32 sets dst[i] = e^(src[i] - shift), 0 where the difference is
// below -86.9; len(src) must be a multiple of 8.
//
//go:noescape
func ExpsShifted32(dst, src []float32, shift float32)

// Max32 returns the largest of x (-Inf for none) and whether x holds a NaN;
// len(x) must be a multiple of 8.
//
//go:noescape
func Max32(x []float32) (m float32, nan bool)

// AdamDecoupled32 applies one Adam step with decoupled weight decay to w, in
// the order of operations of solvers' scalar update, each rounded to float32
// (no fused multiply-adds, so that every lane equals the scalar result bit for
// bit):
//
//	w <- w*decay
//	m <- m*b1 + c1*g,  v <- v*b2 + (c2*g)*g
//	w <- w + (negStep*m) / (sqrt(v)/bc2Sqrt + eps),  g <- 0
//
// len(w) must be a multiple of 8, and g, m and v at least as long.
//
//go:noescape
func AdamDecoupled32(w, g, m, v []float32, decay, b1, c1, b2, c2, negStep, bc2Sqrt, eps float32)

// DotRows32 sets dst[j] to the dot product of x with row j of the row-major
// matrix m (len(dst) rows of len(x), ld elements apart): the scores of one
// query against a row of keys. len(x) must be a multiple of 8.
//
//go:noescape
func DotRows32(dst, x, m []float32, ld int)

// MixRows32 sets dst to the sum of the rows of the row-major matrix m
// (len(w) rows of len(dst), ld elements apart) weighted by w: one query's
// attention output over a row of values. len(dst) must be a multiple of 8.
//
//go:noescape
func MixRows32(dst, w, m []float32, ld int)

// Add32 sets dst[i] += src[i]; len(dst) must be a multiple of 8 and src at
// least as long. Each sum is the scalar one, rounded once.
//
//go:noescape
func Add32(dst, src []float32)

// LogProbs32 sets dst[i] = (src[i] - max) - logSum, each difference rounded
// to float32 as Go's, and masked where src[i] is -Inf: the log-softmax of a
// row from its maximum and the logarithm of its exponentials' sum. len(src)
// must be a multiple of 8.
//
//go:noescape
func LogProbs32(dst, src []float32, max, logSum, masked float32)

// Widen32 sets dst[i] = float64(src[i]) (exact); len(src) must be a multiple
// of 8.
//
//go:noescape
func Widen32(dst []float64, src []float32)
