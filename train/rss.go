package train

import (
	"bytes"
	"os"
	"strconv"
	"sync"
	"time"
)

// RSS is the resident memory of the process over a phase of a run, in MB.
type RSS struct {
	StartMB float64 `json:"start_mb"` // when the phase began
	PeakMB  float64 `json:"peak_mb"`  // the largest sample during it
}

// RSSWatch samples the process's resident set size (Linux's /proc/self/statm)
// every few milliseconds until Stop: the memory one phase of a run needs, which
// the process-wide peak (VmHWM, /usr/bin/time) cannot tell apart from what an
// earlier phase needed. Where statm cannot be read, Stop reports false.
type RSSWatch struct {
	start    float64
	peak     float64
	stop     chan struct{}
	once     sync.Once
	done     sync.WaitGroup
	readable bool
}

// rssEvery is the sampling period: a phase that briefly needs more memory
// between two samples is missed, one of 10 ms hardly.
const rssEvery = 10 * time.Millisecond

// WatchRSS starts sampling.
func WatchRSS() *RSSWatch {
	w := &RSSWatch{stop: make(chan struct{})}
	w.start, w.readable = residentMB()
	w.peak = w.start
	if !w.readable {
		return w
	}
	w.done.Add(1)
	go func() {
		defer w.done.Done()
		tick := time.NewTicker(rssEvery)
		defer tick.Stop()
		for {
			select {
			case <-w.stop:
				return
			case <-tick.C:
				if mb, ok := residentMB(); ok && mb > w.peak {
					w.peak = mb
				}
			}
		}
	}()
	return w
}

// Stop ends the sampling and returns what it saw, with a last sample taken
// now; ok is false where the resident size cannot be read. Calling it again
// returns the same, or more if the process has grown since.
func (w *RSSWatch) Stop() (r RSS, ok bool) {
	if !w.readable {
		return RSS{}, false
	}
	w.once.Do(func() { close(w.stop) })
	w.done.Wait()
	if mb, ok := residentMB(); ok && mb > w.peak {
		w.peak = mb
	}
	return RSS{StartMB: w.start, PeakMB: w.peak}, true
}

// residentMB returns the process's resident set size in MB: statm's second
// field, in pages.
func residentMB() (float64, bool) {
	raw, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0, false
	}
	f := bytes.Fields(raw)
	if len(f) < 2 {
		return 0, false
	}
	pages, err := strconv.ParseInt(string(f[1]), 10, 64)
	if err != nil {
		return 0, false
	}
	return float64(pages) * float64(os.Getpagesize()) / (1 << 20), true
}
