//go:build openblas

package graph

// #cgo LDFLAGS: -lopenblas
// void openblas_set_num_threads(int);
// int openblas_get_num_threads(void);
import "C"

import (
	"sync"

	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/netlib/blas/netlib"
	G "gorgonia.org/gorgonia"
)

// BLAS names the BLAS this build uses.
const BLAS = "OpenBLAS (cgo, gonum.org/v1/netlib)"

func init() {
	blas32.Use(netlib.Implementation{})
	blas64.Use(netlib.Implementation{})
	G.Use(netlib.Implementation{})
	configured = C.openblas_get_num_threads()
}

// SetBLASThreads sets the number of threads OpenBLAS uses (n <= 0: leave it).
func SetBLASThreads(n int) {
	if n > 0 {
		serialMu.Lock()
		defer serialMu.Unlock()
		configured = C.int(n)
		if serial == 0 {
			C.openblas_set_num_threads(configured)
		}
	}
}

// blasThreads returns the number of threads OpenBLAS uses now.
func blasThreads() int { return int(C.openblas_get_num_threads()) }

// serial counts the ParallelWorkers calls under way, and configured is the
// thread count OpenBLAS has outside them (its default, or SetBLASThreads');
// serialMu guards both.
var (
	serialMu   sync.Mutex
	serial     int
	configured C.int
)

// serialBLAS makes OpenBLAS run on the calling thread until the function it
// returns is called. Workers that each call Gemm already use every core; an
// OpenBLAS that also splits their products starts threads for cores that are
// taken, and its threads spin waiting for each other (a 6-layer, 384-wide GPT's
// per-head products took 40% longer on two threads than on one).
func serialBLAS() (restore func()) {
	serialMu.Lock()
	defer serialMu.Unlock()
	if configured < 2 {
		return func() {}
	}
	if serial == 0 {
		C.openblas_set_num_threads(1)
	}
	serial++
	return func() {
		serialMu.Lock()
		defer serialMu.Unlock()
		if serial--; serial == 0 {
			C.openblas_set_num_threads(configured)
		}
	}
}
