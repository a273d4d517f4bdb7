package train

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// SignalContext returns a context that the first SIGINT (Ctrl-C) or SIGTERM
// cancels, so that a run stops after the step under way with a checkpoint of
// it; a second of either ends the process at once, with the shell's status for
// the second signal: 130 for SIGINT, 143 for SIGTERM. Each signal writes one
// line to log. stop releases the signals (call it when the run is over);
// another signal then has its default effect.
func SignalContext(parent context.Context, log io.Writer) (ctx context.Context, stop context.CancelFunc) {
	ctx, cancel := context.WithCancel(parent)
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case sig := <-sigs:
			fmt.Fprintf(log, "triad: %v: stopping with a checkpoint of the last finished step (again to exit now)\n", sig)
			cancel()
		case <-done:
			return
		}
		select {
		case sig := <-sigs:
			fmt.Fprintf(log, "triad: %v again: exiting now\n", sig)
			os.Exit(signalStatus(sig))
		case <-done:
		}
	}()
	var once sync.Once
	return ctx, func() {
		once.Do(func() {
			signal.Stop(sigs)
			close(done)
			cancel()
		})
	}
}

// signalStatus is the exit status of a process ended by sig: 128 plus its number.
func signalStatus(sig os.Signal) int {
	if s, ok := sig.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return 130
}
