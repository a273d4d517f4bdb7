//go:build mpi

package train

import (
	"sync"

	"github.com/pkg/errors"

	"github.com/triadml/triad/internal/mpi"
)

// mpiComm is the MPI_COMM_WORLD of this process.
type mpiComm struct {
	rank, size, local int
	closeOnce         sync.Once
	closeErr          error
}

var (
	mpiOnce  sync.Once
	mpiWorld *mpiComm
	mpiErr   error
)

// openMPI initialises MPI once per process.
func openMPI() (Comm, error) {
	mpiOnce.Do(func() {
		if err := mpi.Init(); err != nil {
			mpiErr = errors.Wrap(err, "train: --dist mpi")
			return
		}
		c := &mpiComm{}
		var err error
		if c.rank, err = mpi.Rank(); err == nil {
			if c.size, err = mpi.Size(); err == nil {
				c.local, err = mpi.LocalSize()
			}
		}
		if err != nil {
			mpiErr = errors.Wrap(err, "train: --dist mpi")
			return
		}
		mpiWorld = c
	})
	if mpiErr != nil {
		return nil, mpiErr
	}
	return mpiWorld, nil
}

func (c *mpiComm) Rank() int      { return c.rank }
func (c *mpiComm) Size() int      { return c.size }
func (c *mpiComm) LocalSize() int { return c.local }

func (c *mpiComm) AllreduceSumFloat32(buf []float32) error { return mpi.AllreduceSumFloat32(buf) }
func (c *mpiComm) AllreduceSumFloat64(buf []float64) error { return mpi.AllreduceSumFloat64(buf) }
func (c *mpiComm) BcastFloat32(buf []float32, root int) error {
	return mpi.Bcast(buf, root)
}
func (c *mpiComm) BcastFloat64(buf []float64, root int) error {
	return mpi.Bcast(buf, root)
}
func (c *mpiComm) BcastBytes(buf []byte, root int) error { return mpi.Bcast(buf, root) }
func (c *mpiComm) Abort(code int)                        { mpi.Abort(code) }

func (c *mpiComm) Close() error {
	c.closeOnce.Do(func() { c.closeErr = mpi.Finalize() })
	return c.closeErr
}
