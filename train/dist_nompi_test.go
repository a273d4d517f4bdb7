//go:build !mpi

package train

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestOpenDistWithoutMPI: a build without MPI says how to get it.
func TestOpenDistWithoutMPI(t *testing.T) {
	_, err := OpenDist(DistMPI)
	require.ErrorContains(t, err, "-tags mpi")
	require.ErrorContains(t, err, "mpirun")
}
