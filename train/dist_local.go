package train

import (
	"sync"

	"github.com/pkg/errors"
)

// NewLocalComms returns a group of n ranks within this process, one Comm per
// rank, each to be used by its own goroutine: what tests use to run a Loop
// data-parallel without MPI. Reductions add the ranks' buffers in rank order, so
// every rank gets the same sums. Abort makes every pending and later call of
// every rank return an error.
func NewLocalComms(n int) []Comm {
	g := &localGroup{n: n, slots: make([]any, n)}
	g.cond = sync.NewCond(&g.mu)
	out := make([]Comm, n)
	for r := range out {
		out[r] = &localComm{g: g, rank: r}
	}
	return out
}

type localGroup struct {
	mu        sync.Mutex
	cond      *sync.Cond
	n         int
	slots     []any
	arrived   int
	departing bool // all have arrived; the result is being read
	departed  int
	result    any
	err       error
	aborted   error
}

// collective deposits this rank's contribution, waits for every rank's, and
// returns what combine made of them (computed once, by the last to arrive).
func (g *localGroup) collective(rank int, contrib any, combine func([]any) (any, error)) (any, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for g.departing && g.aborted == nil {
		g.cond.Wait()
	}
	if g.aborted != nil {
		return nil, g.aborted
	}
	g.slots[rank] = contrib
	g.arrived++
	if g.arrived == g.n {
		g.result, g.err = combine(g.slots)
		g.departing, g.departed = true, 0
		g.cond.Broadcast()
	}
	for !g.departing && g.aborted == nil {
		g.cond.Wait()
	}
	if !g.departing { // aborted before every rank arrived
		return nil, g.aborted
	}
	res, err := g.result, g.err
	g.departed++
	if g.departed == g.n {
		g.departing, g.arrived = false, 0
		clear(g.slots)
		g.cond.Broadcast()
	}
	return res, err
}

type localComm struct {
	g    *localGroup
	rank int
}

func (c *localComm) Rank() int      { return c.rank }
func (c *localComm) Size() int      { return c.g.n }
func (c *localComm) LocalSize() int { return c.g.n }

func localSum[T float32 | float64](c *localComm, buf []T) error {
	res, err := c.g.collective(c.rank, append([]T(nil), buf...), func(slots []any) (any, error) {
		sum := make([]T, len(buf))
		for r, s := range slots {
			v := s.([]T)
			if len(v) != len(sum) {
				return nil, errors.Errorf("train: local all-reduce of %d elements on rank %d, %d on rank 0", len(v), r, len(sum))
			}
			for i, x := range v {
				if r == 0 {
					sum[i] = x
				} else {
					sum[i] += x
				}
			}
		}
		return sum, nil
	})
	if err != nil {
		return err
	}
	copy(buf, res.([]T))
	return nil
}

func localBcast[T float32 | float64 | byte](c *localComm, buf []T, root int) error {
	if root < 0 || root >= c.g.n {
		return errors.Errorf("train: broadcast from rank %d of %d", root, c.g.n)
	}
	res, err := c.g.collective(c.rank, append([]T(nil), buf...), func(slots []any) (any, error) {
		for r, s := range slots {
			if len(s.([]T)) != len(buf) {
				return nil, errors.Errorf("train: local broadcast of %d elements on rank %d, %d on another", len(s.([]T)), r, len(buf))
			}
		}
		return slots[root], nil
	})
	if err != nil {
		return err
	}
	copy(buf, res.([]T))
	return nil
}

func (c *localComm) AllreduceSumFloat32(buf []float32) error { return localSum(c, buf) }
func (c *localComm) AllreduceSumFloat64(buf []float64) error { return localSum(c, buf) }
func (c *localComm) BcastFloat32(buf []float32, root int) error {
	return localBcast(c, buf, root)
}
func (c *localComm) BcastFloat64(buf []float64, root int) error {
	return localBcast(c, buf, root)
}
func (c *localComm) BcastBytes(buf []byte, root int) error { return localBcast(c, buf, root) }

func (c *localComm) Abort(code int) {
	c.g.mu.Lock()
	defer c.g.mu.Unlock()
	if c.g.aborted == nil {
		c.g.aborted = errors.Errorf("train: rank %d aborted the group (status %d)", c.rank, code)
	}
	c.g.cond.Broadcast()
}

func (c *localComm) Close() error { return nil }
