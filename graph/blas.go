package graph

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/blas64"

	"github.com/triadml/triad/internal/avx2"
)

// Gemm computes c = op(a) op(b) + beta c for row-major matrices, op(x) being x or
// its transpose, through gonum's BLAS (which an OpenBLAS build can replace).
// op(a) is m x k, op(b) is k x n, c is m x n.
func Gemm[T Float](transA, transB bool, m, n, k int, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	ta, tb := blas.NoTrans, blas.NoTrans
	if transA {
		ta = blas.Trans
	}
	if transB {
		tb = blas.Trans
	}
	switch a := any(a).(type) {
	case []float32:
		blas32.Implementation().Sgemm(ta, tb, m, n, k, 1, a, lda, any(b).([]float32), ldb, float32(beta), any(c).([]float32), ldc)
	case []float64:
		blas64.Implementation().Dgemm(ta, tb, m, n, k, 1, a, lda, any(b).([]float64), ldb, float64(beta), any(c).([]float64), ldc)
	}
}

// AddColumnSums adds the column sums of g (rows, cols) into d (cols): the
// gradient of a bias added to every row.
func AddColumnSums[T Float](d, g []T, rows, cols int) {
	for i := 0; i < rows; i++ {
		AddTo(d[:cols], g[i*cols:(i+1)*cols])
	}
}

// AddTo adds src into dst element by element (len(dst) elements), float32
// eight at a time; each sum is the scalar one.
func AddTo[T Float](dst, src []T) {
	src = src[:len(dst)]
	vec := 0
	if Is32[T]() && avx2.Available {
		vec = len(dst) &^ 7
	}
	if vec > 0 {
		avx2.Add32(As32(dst[:vec]), As32(src[:vec]))
	}
	for j := vec; j < len(dst); j++ {
		dst[j] += src[j]
	}
}
