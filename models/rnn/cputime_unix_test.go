//go:build unix

package rnn

import "syscall"

// cpuSeconds returns the user and system CPU time the process has used, which on
// a shared machine varies less than the wall time a benchmark measures.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
