//go:build !openblas

package graph

// BLAS names the BLAS this build uses: gonum's pure-Go implementation. Build with
// -tags openblas (and Debian's libopenblas-dev) for OpenBLAS.
const BLAS = "gonum (pure Go)"

// SetBLASThreads is a no-op for gonum's BLAS, whose parallelism follows GOMAXPROCS.
func SetBLASThreads(int) {}

// serialBLAS has nothing to do for gonum's BLAS: its goroutines share the
// cores with the caller's through Go's scheduler.
func serialBLAS() (restore func()) { return func() {} }

// blasThreads returns 0: gonum's BLAS has no thread count of its own.
func blasThreads() int { return 0 }
