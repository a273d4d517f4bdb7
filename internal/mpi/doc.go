// Package mpi is a thin cgo layer over the C API of MPI (the Message Passing
// Interface, https://www.mpi-forum.org), just what synchronous data-parallel
// training needs: Init, Rank, Size, LocalSize, in-place sum all-reductions of
// float32, float64 and int64 buffers, broadcasts, Barrier, Abort and Finalize, all
// on MPI_COMM_WORLD.
//
// The package compiles only with the build tag mpi (go build -tags mpi), and then
// needs an MPI implementation's headers and library, found with pkg-config under
// the name "mpi" (Debian and Ubuntu: apt-get install openmpi-bin libopenmpi-dev, or
// the MPICH packages). Without the tag the package is empty and nothing in the
// project links against MPI. Where pkg-config does not know MPI, point
// PKG_CONFIG_PATH at a directory holding an mpi.pc, or write one from the output
// of `mpicc --showme:compile` and `mpicc --showme:link` (Open MPI) or
// `mpicc -show` (MPICH).
//
// Threads: Go runs goroutines on any OS thread, so Init asks for
// MPI_THREAD_SERIALIZED and the package serialises every call with a mutex; it
// fails when the library cannot provide that level.
//
// Errors: MPI_COMM_WORLD's error handler is set to MPI_ERRORS_RETURN, so a failed
// call returns a Go error with MPI's own message instead of ending the process.
// When a process of the job dies, the launcher (mpirun, srun) ends the others.
//
// Counts: MPI counts are C ints; buffers longer than 2^30 elements are sent in
// several calls, each an independent reduction of its part.
//
// Tests run under a launcher, e.g.
//
//	go test -tags mpi -c -o /tmp/mpi.test ./internal/mpi
//	mpirun -np 2 /tmp/mpi.test
//
// and also pass in a single process (a singleton of size 1).
package mpi
