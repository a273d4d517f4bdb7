package train

import (
	"runtime"
	"runtime/debug"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// A phase that touches 64 MB of fresh memory shows a peak about that much
// above its start.
func TestWatchRSS(t *testing.T) {
	debug.FreeOSMemory() // the heap's free pages are not resident: the buffer below faults in new ones
	w := WatchRSS()
	if _, ok := residentMB(); !ok {
		_, ok := w.Stop()
		require.False(t, ok)
		t.Skip("no /proc/self/statm here")
	}
	buf := make([]byte, 64<<20)
	for i := range buf {
		buf[i] = byte(i)
	}
	time.Sleep(3 * rssEvery)
	r, ok := w.Stop()
	runtime.KeepAlive(buf)
	require.True(t, ok)
	require.Greater(t, r.StartMB, 0.0)
	require.GreaterOrEqual(t, r.PeakMB-r.StartMB, 48.0, "%+v", r)
	again, ok := w.Stop()
	require.True(t, ok)
	require.Equal(t, r.StartMB, again.StartMB)
	require.GreaterOrEqual(t, again.PeakMB, r.PeakMB)
}
