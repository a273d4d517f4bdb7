//go:build !mpi

package train

import "github.com/pkg/errors"

// openMPI explains how to get MPI in a build without it.
func openMPI() (Comm, error) {
	return nil, errors.New("train: --dist mpi needs a build with MPI: install an MPI library " +
		"(Debian/Ubuntu: apt-get install openmpi-bin libopenmpi-dev), build with " +
		"`go build -tags mpi ./cmd/triad` (or -tags 'openblas mpi') and start with `mpirun -np N triad ...`")
}
