package graph

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// closer records whether it was closed.
type closer struct{ closed bool }

func (c *closer) Close() error {
	c.closed = true
	return nil
}

// A limited cache keeps the programs used last and closes the others; an
// unlimited one keeps all.
func TestProgramsLimit(t *testing.T) {
	builds := map[int]*closer{}
	build := func(k int) (*closer, error) {
		builds[k] = &closer{}
		return builds[k], nil
	}
	c := NewPrograms(build).Limit(2)
	for _, k := range []int{1, 2, 1, 3} { // 2 is the least recently used when 3 comes
		_, err := c.Get(k)
		require.NoError(t, err)
	}
	require.Equal(t, 2, c.Len())
	require.False(t, builds[1].closed)
	require.True(t, builds[2].closed)
	require.False(t, builds[3].closed)
	first := builds[1]
	p, err := c.Get(1)
	require.NoError(t, err)
	require.Same(t, first, p, "a kept program is not compiled again")
	require.NoError(t, c.Reset())
	require.True(t, builds[1].closed && builds[3].closed)
	require.Zero(t, c.Len())

	all := NewPrograms(build)
	for k := range 10 {
		_, err := all.Get(k)
		require.NoError(t, err)
	}
	require.Equal(t, 10, all.Len())
}
